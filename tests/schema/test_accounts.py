"""Accounts, locations, contacts, employer clients: tenant-scoped, foreign ids look unknown."""

from __future__ import annotations

import pytest

from portal.schema.accounts import Account, Contact, Location
from portal.schema.relay import global_id
from tests.support.graphql import GraphQLClient, assert_forbidden, assert_unauthenticated
from tests.support.world import World

MY_ACCOUNT = """
{
  account {
    id name accountNumber retentionDays
    locations { totalCount edges { node { name state } } }
    contacts { totalCount nodes { workEmail role portalAccess { status } } }
    employerClients { totalCount nodes { name } }
  }
}
"""

ACCOUNT_BY_ID = "query ($id: ID!) { account(id: $id) { name locations { totalCount } } }"
NODE = """
query ($id: ID!) {
  node(id: $id) { id ... on Account { name } ... on Location { name } ... on Contact { workEmail } }
}
"""


async def test_user_admin_sees_own_account_with_locations_and_contacts(
    admin_client: GraphQLClient,
) -> None:
    account = (await admin_client(MY_ACCOUNT)).ok()["account"]
    assert account["name"] == "Acme Logistics"
    assert account["retentionDays"] == 90
    assert account["locations"]["totalCount"] == 2
    assert [edge["node"]["name"] for edge in account["locations"]["edges"]] == [
        "Dallas Hub",
        "Phoenix Yard",
    ]
    emails = {contact["workEmail"]: contact for contact in account["contacts"]["nodes"]}
    assert emails["admin@acme.example"]["role"] == "USER_ADMIN"
    assert emails["basic@acme.example"]["role"] == "BASIC"
    assert emails["basic@acme.example"]["portalAccess"]["status"] == "ACTIVE"
    assert account["employerClients"]["totalCount"] == 0


async def test_basic_user_may_view_account_information(basic_client: GraphQLClient) -> None:
    account = (await basic_client(MY_ACCOUNT)).ok()["account"]
    assert account["name"] == "Acme Logistics"


async def test_api_client_with_account_read_scope_sees_its_account(
    api_client: GraphQLClient,
) -> None:
    assert (await api_client(MY_ACCOUNT)).ok()["account"]["name"] == "Acme Logistics"


async def test_anonymous_caller_is_asked_to_sign_in(anonymous_client: GraphQLClient) -> None:
    response = await anonymous_client(MY_ACCOUNT)
    assert_unauthenticated(response)
    assert response.data == {"account": None}


async def test_globex_never_sees_acme_rows(globex_client: GraphQLClient, world: World) -> None:
    # given Globex's admin
    # when it asks for its account, Acme's account by id, and Acme's location and contact by node id
    own = (await globex_client(MY_ACCOUNT)).ok()["account"]
    assert own["name"] == "Globex Manufacturing"
    assert [edge["node"]["name"] for edge in own["locations"]["edges"]] == ["Chicago Plant"]
    assert all(c["workEmail"].endswith("@globex.example") for c in own["contacts"]["nodes"])

    foreign = await globex_client(ACCOUNT_BY_ID, {"id": global_id(Account, world.acme.id)})
    # then every foreign object answers exactly like an unknown id: null, no error
    assert foreign.ok() == {"account": None}
    for node_id in (
        global_id(Account, world.acme.id),
        global_id(Location, world.acme_dallas.id),
        global_id(Contact, world.acme_admin.contact_id),
    ):
        assert (await globex_client(NODE, {"id": node_id})).ok() == {"node": None}


async def test_foreign_and_unknown_ids_answer_identically(
    globex_client: GraphQLClient, world: World
) -> None:
    import uuid

    foreign = await globex_client(ACCOUNT_BY_ID, {"id": global_id(Account, world.acme.id)})
    unknown = await globex_client(ACCOUNT_BY_ID, {"id": global_id(Account, uuid.uuid4())})
    assert foreign.body == unknown.body


async def test_node_resolves_own_objects(admin_client: GraphQLClient, world: World) -> None:
    location = (await admin_client(NODE, {"id": global_id(Location, world.acme_dallas.id)})).ok()[
        "node"
    ]
    assert location["name"] == "Dallas Hub"


async def test_third_party_administrator_sees_its_employer_clients(
    tpa_client: GraphQLClient, world: World
) -> None:
    account = (await tpa_client(MY_ACCOUNT)).ok()["account"]
    assert account["name"] == "Northwind TPA"
    assert [client["name"] for client in account["employerClients"]["nodes"]] == ["Contoso Freight"]
    client = (await tpa_client(ACCOUNT_BY_ID, {"id": global_id(Account, world.contoso.id)})).ok()[
        "account"
    ]
    assert client == {"name": "Contoso Freight", "locations": {"totalCount": 1}}
    accounts = (await tpa_client("{ accounts { totalCount nodes { name } } }")).ok()["accounts"]
    assert {a["name"] for a in accounts["nodes"]} == {"Northwind TPA", "Contoso Freight"}


async def test_an_employer_client_does_not_see_its_administrator(
    admin_client: GraphQLClient, world: World
) -> None:
    response = await admin_client(ACCOUNT_BY_ID, {"id": global_id(Account, world.northwind.id)})
    assert response.ok() == {"account": None}


async def test_staff_see_every_account(staff_client: GraphQLClient, world: World) -> None:
    accounts = (await staff_client("{ accounts(first: 100) { totalCount nodes { name } } }")).ok()[
        "accounts"
    ]
    names = {a["name"] for a in accounts["nodes"]}
    assert {"Acme Logistics", "Globex Manufacturing", "Northwind TPA", "Contoso Freight"} <= names
    acme = (await staff_client(ACCOUNT_BY_ID, {"id": global_id(Account, world.acme.id)})).ok()[
        "account"
    ]
    assert acme["name"] == "Acme Logistics"


async def test_accounts_list_is_scoped_for_employers(admin_client: GraphQLClient) -> None:
    accounts = (await admin_client("{ accounts { totalCount nodes { name } } }")).ok()["accounts"]
    assert accounts == {"totalCount": 1, "nodes": [{"name": "Acme Logistics"}]}


async def test_api_client_without_account_scope_is_forbidden(
    api_client: GraphQLClient, tokens: object, world: World
) -> None:
    from portal.auth.tokens import SubjectKind, TokenService

    assert isinstance(tokens, TokenService)
    token, _ = tokens.mint(
        kind=SubjectKind.CLIENT,
        subject_id=world.acme_client.id,
        scopes=frozenset({"documents:read"}),
    )
    api_client.token = token
    response = await api_client("{ viewer { role } account { name } }")
    assert_forbidden(response, ["account"])
    assert response.data["viewer"] == {"role": "API_CLIENT"}
    through_viewer = await api_client("{ viewer { role account { name } } }")
    assert_forbidden(through_viewer, ["viewer", "account"])
    assert through_viewer.data["viewer"] == {"role": "API_CLIENT", "account": None}


async def test_a_wrongly_typed_id_is_bad_input(admin_client: GraphQLClient, world: World) -> None:
    response = await admin_client(ACCOUNT_BY_ID, {"id": global_id(Location, world.acme_dallas.id)})
    assert response.error_codes() == ["BAD_USER_INPUT"]


@pytest.mark.parametrize("bad_id", ["", "not-base64!", "QWNjb3VudDpub3QtYS11dWlk", "VW5rbm93bjox"])
async def test_malformed_ids_are_bad_input(admin_client: GraphQLClient, bad_id: str) -> None:
    response = await admin_client(NODE, {"id": bad_id})
    assert response.error_codes() == ["BAD_USER_INPUT"]
