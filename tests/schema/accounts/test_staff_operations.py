"""Staff operations over HTTP: `createAccount`, `addEmployerClient`, `removeEmployerClient`,
`setRetentionPolicy`, `setSignOnLinks`."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from portal.models import Account, PortalUser
from portal.models.enums import Role, UserStatus
from portal.schema.accounts import Account as AccountNode
from portal.schema.documents import Document as DocumentNode
from portal.schema.relay import global_id
from portal.settings import Settings
from tests.schema.accounts.conftest import ERRORS, audit_events, user_errors
from tests.support.accounts import deliver_mail
from tests.support.graphql import GraphQLClient, assert_forbidden, assert_unauthenticated
from tests.support.mail import Inbox, body_of
from tests.support.world import World

CREATE = f"""
mutation ($input: CreateAccountInput!) {{
  createAccount(input: $input) {{
    account {{ id name accountNumber retentionDays isThirdPartyAdministrator mainPhone }}
    firstAdmin {{ workEmail }}
    {ERRORS}
  }}
}}
"""
ADD_CLIENT = f"""
mutation ($account: ID!, $client: ID!) {{
  addEmployerClient(input: {{accountId: $account, clientAccountId: $client}}) {{
    account {{ name }} client {{ name }} {ERRORS}
  }}
}}
"""
REMOVE_CLIENT = f"""
mutation ($account: ID!, $client: ID!) {{
  removeEmployerClient(input: {{accountId: $account, clientAccountId: $client}}) {{
    account {{ name }} client {{ name }} {ERRORS}
  }}
}}
"""
RETENTION = f"""
mutation ($account: ID!, $days: Int!) {{
  setRetentionPolicy(input: {{accountId: $account, archiveAfterDays: $days}}) {{
    account {{ retentionDays }} {ERRORS}
  }}
}}
"""
LINKS = f"""
mutation ($links: [SignOnLinkInput!]!) {{
  setSignOnLinks(input: {{links: $links}}) {{ links {{ label url }} {ERRORS}}}
}}
"""
NEW_ACCOUNT = {
    "name": "Initech",
    "accountNumber": "t-initech-1",
    "mainPhone": "512 555 0100",
    "mailingAddress": {
        "street": "1 Loop Rd",
        "city": "Austin",
        "state": "TX",
        "postalCode": "78701",
    },
    "firstAdmin": {
        "firstName": "Bill",
        "lastName": "Lumbergh",
        "workEmail": "bill@initech.example",
    },
}


def account_id(value: uuid.UUID) -> str:
    return global_id(AccountNode, value)


async def test_staff_open_an_account_with_its_first_user_admin_invited(
    staff_client: GraphQLClient,
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
) -> None:
    payload = (await staff_client(CREATE, {"input": NEW_ACCOUNT})).ok()["createAccount"]
    assert payload["userErrors"] == []
    account = payload["account"]
    assert (account["name"], account["accountNumber"], account["retentionDays"]) == (
        "Initech",
        "T-INITECH-1",
        90,
    )
    assert account["mainPhone"] == "(512) 555-0100"
    assert payload["firstAdmin"] == {"workEmail": "bill@initech.example"}
    user = (
        await db.execute(
            sa.select(PortalUser).where(col(PortalUser.email) == "bill@initech.example")
        )
    ).scalar_one()
    assert (user.role, user.status) == (Role.USER_ADMIN, UserStatus.INVITED)
    assert await deliver_mail(sessionmaker, mail_settings) == 1
    [message] = inbox.to("bill@initech.example")
    assert "support team invited you" in body_of(message)
    [event] = await audit_events(db, "account.created")
    assert event.details["after"]["accountNumber"] == "T-INITECH-1"


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"accountNumber": "T-ACME"}, "accountNumber", "BAD_USER_INPUT"),
        ({"accountNumber": "bad number!"}, "accountNumber", "BAD_USER_INPUT"),
        ({"retentionDays": 0}, "retentionDays", "BAD_USER_INPUT"),
        ({"mainPhone": "0"}, "mainPhone", "BAD_USER_INPUT"),
        (
            {"firstAdmin": {"firstName": "B", "lastName": "L", "workEmail": "nope"}},
            "firstAdmin.workEmail",
            "BAD_USER_INPUT",
        ),
        (
            {"firstAdmin": {"firstName": "B", "lastName": "L", "workEmail": "admin@acme.example"}},
            "firstAdmin.workEmail",
            "BAD_USER_INPUT",
        ),
    ],
)
async def test_bad_new_accounts_are_refused(
    change: dict[str, Any], field: str, code: str, staff_client: GraphQLClient, db: AsyncSession
) -> None:
    before = await db.scalar(sa.select(sa.func.count()).select_from(Account))
    payload = (await staff_client(CREATE, {"input": {**NEW_ACCOUNT, **change}})).ok()[
        "createAccount"
    ]
    assert user_errors(payload) == [(field, code)]
    assert await db.scalar(sa.select(sa.func.count()).select_from(Account)) == before


async def test_staff_attach_and_detach_an_employer_client(
    staff_client: GraphQLClient, tpa_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # Given Northwind's admin does not see Globex's documents
    query = "query ($doc: ID!) { node(id: $doc) { id } }"
    globex_doc = {"doc": global_id(DocumentNode, world.results.globex.id)}
    assert (await tpa_client(query, globex_doc)).ok() == {"node": None}
    # When staff make Globex an employer client of Northwind
    variables = {"account": account_id(world.northwind.id), "client": account_id(world.globex.id)}
    payload = (await staff_client(ADD_CLIENT, variables)).ok()["addEmployerClient"]
    assert payload["userErrors"] == []
    assert (payload["account"], payload["client"]) == (
        {"name": "Northwind TPA"},
        {"name": "Globex Manufacturing"},
    )
    clients = "query ($id: ID!) { account(id: $id) { employerClients { nodes { name } } } }"
    listed = (await staff_client(clients, {"id": variables["account"]})).ok()["account"]
    names = {n["name"] for n in listed["employerClients"]["nodes"]}
    assert names == {"Contoso Freight", "Globex Manufacturing"}
    # Then Northwind's admin sees Globex's documents on the next request
    assert (await tpa_client(query, globex_doc)).ok()["node"] is not None
    events = await audit_events(db, "account.employer_client_added")
    assert {event.account_id for event in events} == {world.northwind.id, world.globex.id}
    # When staff detach it again, Then the access is gone
    payload = (await staff_client(REMOVE_CLIENT, variables)).ok()["removeEmployerClient"]
    assert payload["userErrors"] == []
    listed = (await staff_client(clients, {"id": variables["account"]})).ok()["account"]
    assert [n["name"] for n in listed["employerClients"]["nodes"]] == ["Contoso Freight"]
    assert (await tpa_client(query, globex_doc)).ok() == {"node": None}


@pytest.mark.parametrize(
    ("administrator", "client", "field"),
    [
        ("acme", "globex", "accountId"),  # Acme is not a third-party administrator
        ("northwind", "northwind", "clientAccountId"),
        ("northwind", "unknown", "clientAccountId"),
    ],
)
async def test_bad_employer_clients_are_refused(
    administrator: str, client: str, field: str, staff_client: GraphQLClient, world: World
) -> None:
    ids = {
        "acme": world.acme.id,
        "globex": world.globex.id,
        "northwind": world.northwind.id,
        "unknown": uuid.uuid4(),
    }
    variables = {"account": account_id(ids[administrator]), "client": account_id(ids[client])}
    payload = (await staff_client(ADD_CLIENT, variables)).ok()["addEmployerClient"]
    assert [error["field"] for error in payload["userErrors"]] == [field]


async def test_removing_an_account_that_is_not_a_client_is_not_found(
    staff_client: GraphQLClient, world: World
) -> None:
    variables = {"account": account_id(world.northwind.id), "client": account_id(world.acme.id)}
    payload = (await staff_client(REMOVE_CLIENT, variables)).ok()["removeEmployerClient"]
    assert user_errors(payload) == [("clientAccountId", "NOT_FOUND")]


async def test_retention_decides_archive_state_at_read_time(
    staff_client: GraphQLClient, admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # Given the document posted 120 days ago is archived under Acme's 90 days
    query = "query ($doc: ID!) { node(id: $doc) { id } }"
    archived = {"doc": global_id(DocumentNode, world.results.archived.id)}
    assert (await admin_client(query, archived)).ok() == {"node": None}
    # When staff lengthen the retention to 180 days
    variables = {"account": account_id(world.acme.id), "days": 180}
    payload = (await staff_client(RETENTION, variables)).ok()["setRetentionPolicy"]
    assert payload == {"account": {"retentionDays": 180}, "userErrors": []}
    # Then the document is back in employer views at once
    assert (await admin_client(query, archived)).ok()["node"] is not None
    [event] = await audit_events(db, "account.retention_changed")
    assert event.details == {"before": {"retentionDays": 90}, "after": {"retentionDays": 180}}


@pytest.mark.parametrize("days", [0, 3651])
async def test_retention_out_of_range_is_refused(
    days: int, staff_client: GraphQLClient, world: World
) -> None:
    variables = {"account": account_id(world.acme.id), "days": days}
    payload = (await staff_client(RETENTION, variables)).ok()["setRetentionPolicy"]
    assert user_errors(payload) == [("archiveAfterDays", "BAD_USER_INPUT")]


async def test_staff_replace_the_sign_on_links(
    staff_client: GraphQLClient, anonymous_client: GraphQLClient, db: AsyncSession
) -> None:
    links = [
        {"label": "Drug screen results", "url": "https://results.example/login"},
        {
            "label": "DOT clearinghouse",
            "url": "https://clearinghouse.example",
            "description": "FMCSA",
        },
    ]
    payload = (await staff_client(LINKS, {"links": links})).ok()["setSignOnLinks"]
    assert payload["userErrors"] == []
    shown = (await anonymous_client("{ signOnLinks { label url } }")).ok()["signOnLinks"]
    assert shown == [{"label": link["label"], "url": link["url"]} for link in links]
    [event] = await audit_events(db, "sign_on_links.replaced")
    assert event.details["before"][0]["label"] == "Drug screen results portal"
    assert event.details["after"][1]["label"] == "DOT clearinghouse"


@pytest.mark.parametrize(
    ("links", "field"),
    [
        ([{"label": "Plain", "url": "http://insecure.example"}], "links.0.url"),
        ([{"label": " ", "url": "https://a.example"}], "links.0.label"),
        (
            [
                {"label": "Same", "url": "https://a.example"},
                {"label": "same", "url": "https://b.example"},
            ],
            "links.1.label",
        ),
        ([{"label": f"L{n}", "url": "https://a.example"} for n in range(21)], "links"),
    ],
)
async def test_bad_sign_on_links_are_refused(
    links: list[dict[str, str]],
    field: str,
    staff_client: GraphQLClient,
    anonymous_client: GraphQLClient,
) -> None:
    payload = (await staff_client(LINKS, {"links": links})).ok()["setSignOnLinks"]
    assert user_errors(payload) == [(field, "BAD_USER_INPUT")]
    shown = (await anonymous_client("{ signOnLinks { label } }")).ok()["signOnLinks"]
    assert shown == [{"label": "Drug screen results portal"}]


STAFF_MUTATIONS: dict[str, tuple[str, Any]] = {
    "createAccount": (CREATE, lambda w: {"input": NEW_ACCOUNT}),
    "addEmployerClient": (
        ADD_CLIENT,
        lambda w: {"account": account_id(w.northwind.id), "client": account_id(w.globex.id)},
    ),
    "removeEmployerClient": (
        REMOVE_CLIENT,
        lambda w: {"account": account_id(w.northwind.id), "client": account_id(w.contoso.id)},
    ),
    "setRetentionPolicy": (RETENTION, lambda w: {"account": account_id(w.acme.id), "days": 5}),
    "setSignOnLinks": (LINKS, lambda w: {"links": []}),
}


@pytest.mark.parametrize("actor", ["admin", "tpa", "basic", "api_client", "provider_client"])
@pytest.mark.parametrize("mutation", sorted(STAFF_MUTATIONS))
async def test_only_staff_perform_staff_operations(
    mutation: str, actor: str, clients: dict[str, GraphQLClient], db: AsyncSession, world: World
) -> None:
    query, variables = STAFF_MUTATIONS[mutation]
    assert_forbidden(await clients[actor](query, variables(world)), [mutation])
    assert_unauthenticated(await clients["anonymous"](query, variables(world)))
    acme = await db.get(Account, world.acme.id, populate_existing=True)
    assert acme is not None
    assert acme.retention_days == 90
