"""`account { id name }` on every tenant object, and the `accountId` filter of `documents`,
`employees` and `visits` (never beyond the caller's accounts)."""

from __future__ import annotations

import pytest

from portal.schema.accounts import Account as AccountNode
from portal.schema.accounts import Contact as ContactNode
from portal.schema.accounts import Location as LocationNode
from portal.schema.relay import global_id
from tests.support.graphql import GraphQLClient, assert_forbidden
from tests.support.world import World

DOCUMENTS = """
query ($account: ID) {
  documents(first: 50, filter: {accountId: $account}) {
    totalCount nodes { name account { id name } }
  }
}
"""
EMPLOYEES = """
query ($account: ID) {
  employees(first: 50, filter: {accountId: $account}) {
    totalCount nodes { lastName account { name } }
  }
}
"""
VISITS = """
query ($account: ID) {
  visits(first: 50, filter: {accountId: $account}) {
    totalCount nodes { id account { name } authorization { number account { name } } }
  }
}
"""
NODES = """
query ($location: ID!, $contact: ID!) {
  location: node(id: $location) { ... on Location { name account { id name } } }
  contact: node(id: $contact) { ... on Contact { workEmail account { name } } }
}
"""


def account_id(value: object) -> str:
    return global_id(AccountNode, value)  # type: ignore[arg-type]


async def test_a_tpa_admin_tells_its_accounts_apart(
    tpa_client: GraphQLClient, world: World
) -> None:
    documents = (await tpa_client(DOCUMENTS)).ok()["documents"]["nodes"]
    assert {d["account"]["name"] for d in documents} == {"Contoso Freight"}
    assert documents[0]["account"]["id"] == account_id(world.contoso.id)
    employees = (await tpa_client(EMPLOYEES)).ok()["employees"]["nodes"]
    assert employees == [{"lastName": "Meyer", "account": {"name": "Contoso Freight"}}]


async def test_staff_narrow_documents_employees_and_visits_to_one_account(
    staff_client: GraphQLClient, world: World
) -> None:
    variables = {"account": account_id(world.globex.id)}
    documents = (await staff_client(DOCUMENTS, variables)).ok()["documents"]
    assert documents["totalCount"] == 1
    assert documents["nodes"][0]["account"]["name"] == "Globex Manufacturing"
    employees = (await staff_client(EMPLOYEES, variables)).ok()["employees"]
    assert [e["lastName"] for e in employees["nodes"]] == ["Lopez"]
    visits = (await staff_client(VISITS, variables)).ok()["visits"]
    assert visits["totalCount"] == 1
    assert visits["nodes"][0]["account"] == {"name": "Globex Manufacturing"}
    # Without the filter staff see several accounts
    everything = (await staff_client(DOCUMENTS)).ok()["documents"]["nodes"]
    assert len({d["account"]["name"] for d in everything}) == 3


@pytest.mark.parametrize("query", [DOCUMENTS, EMPLOYEES, VISITS])
async def test_an_account_beyond_the_callers_finds_nothing(
    query: str, tpa_client: GraphQLClient, world: World
) -> None:
    # Northwind's admin names Acme: not one of its accounts, so nothing at all
    data = (await tpa_client(query, {"account": account_id(world.acme.id)})).ok()
    [connection] = data.values()
    assert connection["totalCount"] == 0
    # And its own client's id narrows to the client
    own = (await tpa_client(query, {"account": account_id(world.contoso.id)})).ok()
    [connection] = own.values()
    assert connection["totalCount"] == 1


async def test_a_malformed_account_id_is_bad_input(admin_client: GraphQLClient) -> None:
    response = await admin_client(DOCUMENTS, {"account": "garbage"})
    assert response.error_codes() == ["BAD_USER_INPUT"]


async def test_visits_and_their_authorizations_name_the_account(
    admin_client: GraphQLClient,
) -> None:
    visits = (await admin_client(VISITS)).ok()["visits"]["nodes"]
    with_authorization = [v for v in visits if v["authorization"]]
    assert with_authorization
    assert all(
        v["authorization"]["account"] == {"name": "Acme Logistics"}
        for v in visits
        if v["authorization"]
    )
    assert all(v["account"] == {"name": "Acme Logistics"} for v in visits)


async def test_locations_and_contacts_name_the_account(
    basic_client: GraphQLClient, world: World
) -> None:
    variables = {
        "location": global_id(LocationNode, world.acme_dallas.id),
        "contact": global_id(ContactNode, world.acme_admin.contact_id),
    }
    data = (await basic_client(NODES, variables)).ok()
    assert data["location"]["account"] == {
        "id": account_id(world.acme.id),
        "name": "Acme Logistics",
    }
    assert data["contact"]["account"] == {"name": "Acme Logistics"}


async def test_a_client_without_account_read_gets_null_account_only(
    http: object, tokens: object, world: World
) -> None:
    from portal.auth.tokens import SubjectKind, TokenService

    assert isinstance(tokens, TokenService)
    token, _ = tokens.mint(
        kind=SubjectKind.CLIENT,
        subject_id=world.acme_client.id,
        scopes=frozenset({"documents:read"}),
    )
    client = GraphQLClient(http, token)  # type: ignore[arg-type]
    response = await client(DOCUMENTS)
    assert response.data["documents"]["totalCount"] == 4
    assert_forbidden(response, ["documents", "nodes", 0, "account"])
    assert response.data["documents"]["nodes"][0]["name"]
