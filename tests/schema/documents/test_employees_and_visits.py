"""``employees(filter:)`` and ``visits(filter:)``: filters, nesting, tenant walls and denials."""

from __future__ import annotations

from typing import Any

import pytest

from portal.schema.accounts import Location
from portal.schema.catalog import MedicalCenter
from portal.schema.employees import Employee
from portal.schema.relay import global_id
from tests.support.graphql import GraphQLClient, assert_forbidden, assert_unauthenticated
from tests.support.world import World

EMPLOYEES = """
query ($filter: EmployeeFilter) {
  employees(first: 50, filter: $filter) {
    totalCount
    nodes { id firstName lastName dateOfBirth employeeNumber location { name } }
  }
}
"""

VISITS = """
query ($filter: VisitFilter) {
  visits(first: 50, filter: $filter) {
    totalCount
    nodes {
      id visitType claimNumber status visitedAt checkedOutAt resultsExpectedAt
      employee { firstName } medicalCenter { name } location { name }
      authorization { number status validFrom validUntil }
      documents { name }
    }
  }
}
"""


async def _employee_names(client: GraphQLClient, filter: dict[str, Any] | None = None) -> list[str]:
    data = (await client(EMPLOYEES, {"filter": filter})).ok()["employees"]
    return [node["firstName"] for node in data["nodes"]]


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        (None, ["Bob", "Alice"]),
        ({"name": "SMITH ali"}, ["Alice"]),
        ({"name": "o"}, ["Bob"]),
        ({"name": "lice mit"}, ["Alice"]),
        ({"name": "ones alice"}, []),
        ({"dateOfBirth": "1985-04-12"}, ["Alice"]),
        ({"employeeNumber": "E-1002"}, ["Bob"]),
    ],
)
async def test_employee_filters(
    admin_client: GraphQLClient, filter: dict[str, Any] | None, expected: list[str]
) -> None:
    # given Acme's employees Alice Smith (Dallas) and Bob Jones (Phoenix)
    # when the admin lists them with a filter
    # then the matching ones come back by last name
    assert await _employee_names(admin_client, filter) == expected


async def test_employees_by_location_and_across_tenants(
    admin_client: GraphQLClient,
    tpa_client: GraphQLClient,
    globex_client: GraphQLClient,
    staff_client: GraphQLClient,
    world: World,
) -> None:
    # given employees at Acme, Globex and Contoso (a client of the Northwind TPA)
    phoenix = global_id(Location, world.acme_phoenix.id)

    # when each caller lists employees
    # then each sees its own, the TPA its client's, staff everyone
    assert await _employee_names(admin_client, {"locationId": phoenix}) == ["Bob"]
    assert await _employee_names(globex_client) == ["Gina"]
    assert await _employee_names(globex_client, {"locationId": phoenix}) == []
    assert await _employee_names(tpa_client) == ["Carl"]
    assert set(await _employee_names(staff_client)) >= {"Alice", "Bob", "Gina", "Carl"}


async def test_employee_nested_documents_follow_the_visibility_rule(
    basic_client: GraphQLClient, admin_client: GraphQLClient, world: World
) -> None:
    # given Alice, with a subscribed, an unsubscribed, a restored, an archived and a retracted doc
    query = """
    query ($id: ID!) { node(id: $id) { ... on Employee { documents { name } } } }
    """
    alice = global_id(Employee, world.results.alice.id)

    # when the Basic user and the admin read her documents
    basic = (await basic_client(query, {"id": alice})).ok()["node"]["documents"]
    admin = (await admin_client(query, {"id": alice})).ok()["node"]["documents"]

    # then each sees only what the rule allows
    assert [d["name"] for d in basic] == ["Work Status Report", "Final Work Status"]
    assert [d["name"] for d in admin] == [
        "Work Status Report",
        "DOT Medical Card",
        "Final Work Status",
    ]


async def test_a_basic_user_without_visit_activity_cannot_see_an_employees_visits(
    basic_client: GraphQLClient, visits_client: GraphQLClient, world: World
) -> None:
    query = """
    query ($id: ID!) { node(id: $id) { ... on Employee { firstName visits { claimNumber } } } }
    """
    alice = global_id(Employee, world.results.alice.id)
    # when a Basic user without VIEW_VISIT_ACTIVITY asks, the visits are refused at their path
    refused = await basic_client(query, {"id": alice})
    assert_forbidden(refused, ["node", "visits"])
    assert refused.data["node"]["firstName"] == "Alice"
    # and the one holding the permission sees them, most recent first
    allowed = (await visits_client(query, {"id": alice})).ok()["node"]["visits"]
    assert [v["claimNumber"] for v in allowed] == [None, "CLM-1001", "CLM-0999"]


async def test_employees_denied_callers(
    anonymous_client: GraphQLClient, api_client: GraphQLClient
) -> None:
    # given no token, and an API client holding documents:read but not visits:read
    # then neither may look employees up
    assert_unauthenticated(await anonymous_client(EMPLOYEES))
    assert_forbidden(await api_client(EMPLOYEES))


async def test_visits_show_status_expected_results_and_own_authorization(
    visits_client: GraphQLClient, world: World
) -> None:
    # given Acme's visits; the visits user created Alice's injury authorization, the admin Bob's
    # when the Basic user with VIEW_VISIT_ACTIVITY lists visits
    data = (await visits_client(VISITS)).ok()["visits"]
    by_claim = {node["claimNumber"]: node for node in data["nodes"]}

    # then most recent first, with the expected-results time and only their own authorization
    assert data["totalCount"] == 4
    injury = by_claim["CLM-1001"]
    assert injury["resultsExpectedAt"] == injury["checkedOutAt"]
    assert injury["authorization"] == {
        "number": "T-AUTH-0001",
        "status": "USED",
        "validFrom": str(world.results.visits_authorization.valid_from),
        "validUntil": str(world.results.visits_authorization.valid_until),
    }
    assert by_claim["CLM-2002"]["authorization"] is None  # the admin's: not theirs
    assert by_claim["CLM-2002"]["resultsExpectedAt"] is None  # injury, not checked out yet
    physical = by_claim[None]
    assert physical["visitType"] == "NON_INJURY"
    assert physical["checkedOutAt"] is not None
    # the visits user holds no report subscription, so no document shows under any visit
    assert all(node["documents"] == [] for node in data["nodes"])


async def test_non_injury_results_are_expected_72_hours_after_the_visit(
    admin_client: GraphQLClient,
) -> None:
    data = (await admin_client(VISITS, {"filter": {"visitType": "NON_INJURY"}})).ok()["visits"]
    [physical] = data["nodes"]
    from datetime import datetime, timedelta

    visited = datetime.fromisoformat(physical["visitedAt"])
    expected = datetime.fromisoformat(physical["resultsExpectedAt"])
    assert expected - visited == timedelta(hours=72)
    assert physical["authorization"] is None


@pytest.mark.parametrize(
    ("filter", "claims"),
    [
        ({"claimNumber": "clm-2002"}, ["CLM-2002"]),
        ({"status": "CHECKED_IN"}, ["CLM-2002"]),
        ({"visitType": "INJURY"}, ["CLM-1001", "CLM-2002", "CLM-0999"]),
    ],
)
async def test_visit_filters(
    admin_client: GraphQLClient, filter: dict[str, Any], claims: list[str]
) -> None:
    data = (await admin_client(VISITS, {"filter": filter})).ok()["visits"]
    assert sorted(n["claimNumber"] for n in data["nodes"]) == sorted(claims)


async def test_visit_filters_by_employee_center_and_dates(
    admin_client: GraphQLClient, world: World
) -> None:
    bob = global_id(Employee, world.results.bob.id)
    houston = global_id(MedicalCenter, world.centers[1].id)
    by_employee = (await admin_client(VISITS, {"filter": {"employeeId": bob}})).ok()
    by_center = (await admin_client(VISITS, {"filter": {"medicalCenterId": houston}})).ok()
    recent = (
        await admin_client(
            VISITS,
            {"filter": {"visitedAfter": world.results.alice_injury.visited_at.isoformat()}},
        )
    ).ok()
    old = (
        await admin_client(
            VISITS,
            {"filter": {"visitedBefore": world.results.alice_injury.visited_at.isoformat()}},
        )
    ).ok()
    assert [n["claimNumber"] for n in by_employee["visits"]["nodes"]] == ["CLM-2002"]
    assert [n["visitType"] for n in by_center["visits"]["nodes"]] == ["NON_INJURY"]
    assert [n["claimNumber"] for n in recent["visits"]["nodes"]] == ["CLM-2002", None, "CLM-1001"]
    assert [n["claimNumber"] for n in old["visits"]["nodes"]] == ["CLM-0999"]
    bad = await admin_client(VISITS, {"filter": {"employeeId": "nope"}})
    assert bad.error_codes() == ["BAD_USER_INPUT"]


async def test_visits_denied_and_walled(
    anonymous_client: GraphQLClient,
    basic_client: GraphQLClient,
    api_client: GraphQLClient,
    globex_client: GraphQLClient,
    tpa_client: GraphQLClient,
    staff_client: GraphQLClient,
) -> None:
    # given callers without visit access: no token, a Basic user without the permission, an
    # API client without visits:read
    assert_unauthenticated(await anonymous_client(VISITS))
    assert_forbidden(await basic_client(VISITS))
    assert_forbidden(await api_client(VISITS))
    # and the tenant walls: each admin sees its own (the TPA its client's), staff all
    globex = (await globex_client(VISITS)).ok()["visits"]["nodes"]
    tpa = (await tpa_client(VISITS)).ok()["visits"]["nodes"]
    staff = (await staff_client(VISITS)).ok()["visits"]["totalCount"]
    assert [n["employee"]["firstName"] for n in globex] == ["Gina"]
    assert [n["employee"]["firstName"] for n in tpa] == ["Carl"]
    assert staff >= 6
