"""Hardening 9, minimum necessary for Basic users: an employee's date of birth, email and phone,
and colleagues' last sign-in, are for User Admins, staff and users granted
VIEW_VISIT_ACTIVITY. A Basic user without it gets each field null with FORBIDDEN at its path,
and the rest of the answer (the employee's name, the colleague's role) still arrives."""

from __future__ import annotations

from typing import Any

import pytest

from portal.schema.accounts import Account, Contact
from portal.schema.relay import global_id
from tests.schema.users.conftest import clients
from tests.support.graphql import GraphQLClient, GraphQLResponse
from tests.support.world import World

__all__ = ["clients"]  # the every-actor fixture, used below

DETAILS = ("dateOfBirth", "email", "phone")
EMPLOYEES = "{ employees(first: 20) { nodes { firstName lastName dateOfBirth email phone } } }"
DOCUMENT_EMPLOYEES = (
    "{ documents(first: 20) { nodes { name employee { firstName dateOfBirth email phone } } } }"
)
COLLEAGUES = """
query ($account: ID!) {
  account(id: $account) {
    contacts(first: 50) { nodes { id firstName portalAccess { role lastLoginAt } } }
  }
}
"""


def forbidden_paths(response: GraphQLResponse) -> list[tuple[Any, ...]]:
    return [
        tuple(error["path"])
        for error in response.errors
        if error.get("extensions", {}).get("code") == "FORBIDDEN"
    ]


async def test_a_basic_user_sees_employee_names_but_not_their_details(
    basic_client: GraphQLClient,
) -> None:
    # Given a Basic user without VIEW_VISIT_ACTIVITY
    # When they list employees asking for date of birth, email and phone
    response = await basic_client(EMPLOYEES)
    nodes = response.data["employees"]["nodes"]
    # Then names arrive, and every detail is null with FORBIDDEN at its own path
    assert nodes, response.body
    assert all(node["firstName"] and node["lastName"] for node in nodes)
    expected = {
        ("employees", "nodes", index, field) for index in range(len(nodes)) for field in DETAILS
    }
    assert set(forbidden_paths(response)) == expected
    assert all(node[field] is None for node in nodes for field in DETAILS)


async def test_a_basic_user_does_not_get_the_birth_date_through_a_document(
    basic_client: GraphQLClient,
) -> None:
    response = await basic_client(DOCUMENT_EMPLOYEES)
    nodes = response.data["documents"]["nodes"]
    assert nodes, response.body
    assert all(node["employee"]["firstName"] for node in nodes)
    assert all(node["employee"]["dateOfBirth"] is None for node in nodes)
    assert {path[-1] for path in forbidden_paths(response)} == set(DETAILS)


@pytest.mark.parametrize("actor", ["admin", "visits", "staff"])
async def test_admins_staff_and_visit_activity_holders_see_the_details(
    actor: str, clients: dict[str, GraphQLClient]
) -> None:
    client = clients[actor]
    response = await client(EMPLOYEES)
    assert response.errors == [], response.body
    nodes = response.data["employees"]["nodes"]
    assert any(node["dateOfBirth"] for node in nodes)


async def test_an_hr_system_reading_documents_keeps_the_birth_date(
    api_client: GraphQLClient,
) -> None:
    # An API client holding documents:read (integrators match results to their own records)
    response = await api_client(DOCUMENT_EMPLOYEES)
    assert response.errors == [], response.body
    assert any(node["employee"]["dateOfBirth"] for node in response.data["documents"]["nodes"])


async def test_a_basic_user_sees_colleagues_roles_but_not_when_they_signed_in(
    basic_client: GraphQLClient, world: World
) -> None:
    # Given a Basic user without VIEW_VISIT_ACTIVITY listing their account's contacts
    response = await basic_client(COLLEAGUES, {"account": global_id(Account, world.acme.id)})
    nodes = response.data["account"]["contacts"]["nodes"]
    own_id = global_id(Contact, world.acme_basic.contact_id)
    logins = [index for index, node in enumerate(nodes) if node["portalAccess"] is not None]
    # Then each colleague's role arrives but their last sign-in is FORBIDDEN; their own is not
    assert len(logins) >= 2, response.body
    assert all(nodes[index]["portalAccess"]["role"] for index in logins)
    expected = {
        ("account", "contacts", "nodes", index, "portalAccess", "lastLoginAt")
        for index in logins
        if nodes[index]["id"] != own_id
    }
    assert set(forbidden_paths(response)) == expected
    assert len(expected) == len(logins) - 1
    assert all(
        nodes[index]["portalAccess"]["lastLoginAt"] is None
        for index in logins
        if nodes[index]["id"] != own_id
    )


@pytest.mark.parametrize("actor", ["admin", "visits", "staff"])
async def test_admins_staff_and_visit_activity_holders_see_last_sign_in(
    actor: str, clients: dict[str, GraphQLClient], world: World
) -> None:
    client = clients[actor]
    response = await client(COLLEAGUES, {"account": global_id(Account, world.acme.id)})
    assert response.errors == [], response.body
