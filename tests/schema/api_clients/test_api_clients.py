"""API clients: created by a User Admin within their own access, secret shown once and stored
hashed, revoked at once (through POST /oauth/token and GraphQL), listed for User Admins only."""

from __future__ import annotations

import base64
import uuid

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.passwords import verify_password
from portal.auth.principal import Principal, PrincipalKind
from portal.models import ApiClient, AuditEvent
from portal.models.enums import Permission, Role
from portal.resolvers.api_clients import delegable_scopes
from portal.schema.accounts import Account
from portal.schema.api_clients import ApiClient as ApiClientNode
from portal.schema.relay import global_id
from tests.support.graphql import GraphQLClient, assert_forbidden, assert_unauthenticated
from tests.support.world import World

TOKEN_URL = "https://testserver/oauth/token"
CREATE = """
mutation ($name: String!, $scopes: [Scope!]!) {
  createApiClient(input: {name: $name, scopes: $scopes}) {
    apiClient { id name clientId scopes revokedAt } clientId clientSecret
    userErrors { field code message }
  }
}
"""
REVOKE = """
mutation ($id: ID!) {
  revokeApiClient(input: {id: $id}) { apiClient { id revokedAt } userErrors { field code message } }
}
"""
LIST = "{ account { apiClients(first: 10) { totalCount nodes { name clientId scopes } } } }"
ALL_SCOPES = {
    "account:read",
    "authorizations:read",
    "authorizations:write",
    "visits:read",
    "documents:read",
    "webhooks:manage",
}


def _person(role: Role, *permissions: Permission) -> Principal:
    return Principal(
        kind=PrincipalKind.USER,
        id=uuid.uuid4(),
        account_id=uuid.uuid4(),
        user_role=role,
        permissions=frozenset(permissions),
    )


def test_delegable_scopes_never_exceed_the_creators_access() -> None:
    assert delegable_scopes(_person(Role.USER_ADMIN)) == ALL_SCOPES
    assert delegable_scopes(_person(Role.BASIC)) == {"account:read"}
    assert delegable_scopes(_person(Role.BASIC, Permission.VIEW_VISIT_ACTIVITY)) == {
        "account:read",
        "visits:read",
    }
    assert delegable_scopes(Principal(kind=PrincipalKind.STAFF, id=uuid.uuid4())) == frozenset()
    client = Principal(kind=PrincipalKind.API_CLIENT, id=uuid.uuid4(), scopes=frozenset(ALL_SCOPES))
    assert delegable_scopes(client) == frozenset()


async def _token(http: httpx.AsyncClient, client_id: str, secret: str) -> httpx.Response:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return await http.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )


async def test_a_created_client_gets_tokens_until_it_is_revoked(
    admin_client: GraphQLClient, http: httpx.AsyncClient, db: AsyncSession
) -> None:
    # When the admin creates a client
    created = (
        await admin_client(CREATE, {"name": " Payroll sync ", "scopes": ["ACCOUNT_READ"]})
    ).ok()["createApiClient"]
    assert created["userErrors"] == []
    assert created["apiClient"]["name"] == "Payroll sync"
    assert created["apiClient"]["scopes"] == ["account:read"]
    client_id, secret = created["clientId"], created["clientSecret"]
    # Then only a hash of the secret is stored, in the format the token endpoint verifies
    row = await db.scalar(sa.select(ApiClient).where(col(ApiClient.client_id) == client_id))
    assert row is not None
    assert row.secret_hash != secret
    assert row.secret_hash.startswith("$argon2id$")
    assert verify_password(row.secret_hash, secret)
    # And the client gets a token that works on GraphQL
    issued = await _token(http, client_id, secret)
    assert issued.status_code == 200, issued.text
    access_token = issued.json()["access_token"]
    machine = GraphQLClient(http, access_token)
    assert (await machine("{ account { name } }")).ok()["account"]["name"] == "Acme Logistics"
    # When the admin revokes it
    revoked = (await admin_client(REVOKE, {"id": created["apiClient"]["id"]})).ok()
    assert revoked["revokeApiClient"]["userErrors"] == []
    assert revoked["revokeApiClient"]["apiClient"]["revokedAt"] is not None
    # Then the token already issued stops working at its next request, and no new one is issued
    response = await machine("{ account { name } }")
    assert response.status_code == 401
    assert_unauthenticated(response)
    assert (await _token(http, client_id, secret)).status_code == 401


async def test_creation_and_revocation_are_audited(
    admin_client: GraphQLClient, db: AsyncSession
) -> None:
    created = (await admin_client(CREATE, {"name": "HRIS", "scopes": ["VISITS_READ"]})).ok()
    client_node_id = created["createApiClient"]["apiClient"]["id"]
    await admin_client(REVOKE, {"id": client_node_id})
    events = (
        await db.scalars(
            sa.select(AuditEvent)
            .where(col(AuditEvent.action).like("api_client.%"))
            .order_by(col(AuditEvent.occurred_at))
        )
    ).all()
    assert [e.action for e in events] == ["api_client.created", "api_client.revoked"]
    assert events[0].object_ids == events[1].object_ids
    assert "secret" not in str(events[0].details).lower()


@pytest.mark.parametrize(
    ("name", "scopes", "field", "code"),
    [
        ("HRIS", ["ACCOUNT_READ", "INGESTION_WRITE"], "scopes", "BAD_USER_INPUT"),
        ("HRIS", [], "scopes", "BAD_USER_INPUT"),
        ("   ", ["ACCOUNT_READ"], "name", "BAD_USER_INPUT"),
        ("x" * 121, ["ACCOUNT_READ"], "name", "BAD_USER_INPUT"),
    ],
)
async def test_creation_user_errors_write_nothing(
    name: str,
    scopes: list[str],
    field: str,
    code: str,
    admin_client: GraphQLClient,
    db: AsyncSession,
) -> None:
    before = await db.scalar(sa.select(sa.func.count()).select_from(ApiClient))
    result = (await admin_client(CREATE, {"name": name, "scopes": scopes})).ok()["createApiClient"]
    assert result["clientSecret"] is None
    assert result["userErrors"][0]["field"] == field
    assert result["userErrors"][0]["code"] == code
    assert await db.scalar(sa.select(sa.func.count()).select_from(ApiClient)) == before


async def test_admins_list_their_clients_without_secrets(
    admin_client: GraphQLClient, world: World
) -> None:
    nodes = (await admin_client(LIST)).ok()["account"]["apiClients"]["nodes"]
    assert nodes == [
        {
            "name": "Acme HRIS",
            "clientId": world.acme_client.client_id,
            "scopes": ["account:read", "documents:read"],
        }
    ]


async def test_the_schema_never_exposes_a_secret_on_the_client_type(
    admin_client: GraphQLClient,
) -> None:
    fields = (await admin_client('{ __type(name: "ApiClient") { fields { name } } }')).ok()
    names = {field["name"] for field in fields["__type"]["fields"]}
    assert not {name for name in names if "secret" in name.lower()}


@pytest.mark.parametrize("actor", ["basic", "visits", "staff", "api_client"])
async def test_others_may_not_list_clients(
    actor: str, clients: dict[str, GraphQLClient], world: World
) -> None:
    # Staff have no account of their own: they name Acme's.
    query = "query ($id: ID) { account(id: $id) { name apiClients { totalCount } } }"
    account_id = global_id(Account, world.acme.id) if actor == "staff" else None
    response = await clients[actor](query, {"id": account_id})
    assert_forbidden(response, ["account", "apiClients"])
    assert response.data["account"]["name"] == "Acme Logistics"


@pytest.mark.parametrize("actor", ["basic", "visits", "staff", "api_client", "anonymous"])
async def test_others_may_not_create_or_revoke_and_nothing_is_written(
    actor: str, clients: dict[str, GraphQLClient], db: AsyncSession, world: World
) -> None:
    client = clients[actor]
    before = await db.scalar(sa.select(sa.func.count()).select_from(ApiClient))
    create = await client(CREATE, {"name": "Sneaky", "scopes": ["ACCOUNT_READ"]})
    revoke = await client(REVOKE, {"id": global_id(ApiClientNode, world.acme_client.id)})
    for response, path in ((create, "createApiClient"), (revoke, "revokeApiClient")):
        if actor == "anonymous":
            assert_unauthenticated(response)
        else:
            assert_forbidden(response, [path])
    assert await db.scalar(sa.select(sa.func.count()).select_from(ApiClient)) == before
    row = await db.get(ApiClient, world.acme_client.id, populate_existing=True)
    assert row is not None
    assert row.revoked_at is None


async def test_another_accounts_client_answers_like_an_unknown_id(
    globex_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    foreign = (
        await globex_client(REVOKE, {"id": global_id(ApiClientNode, world.acme_client.id)})
    ).ok()
    unknown = (await globex_client(REVOKE, {"id": global_id(ApiClientNode, uuid.uuid4())})).ok()
    assert foreign["revokeApiClient"]["userErrors"] == unknown["revokeApiClient"]["userErrors"]
    assert foreign["revokeApiClient"]["userErrors"] == [
        {"field": "id", "code": "NOT_FOUND", "message": "No API client with this id."}
    ]
    row = await db.get(ApiClient, world.acme_client.id, populate_existing=True)
    assert row is not None
    assert row.revoked_at is None


async def test_scopes_are_taken_as_the_scope_enum_and_shown_by_their_oauth_names(
    admin_client: GraphQLClient,
) -> None:
    # Given a scope spelled as its OAuth name instead of the enum value
    refused = await admin_client(
        'mutation { createApiClient(input: {name: "HRIS", scopes: ["documents:read"]}) '
        "{ userErrors { code } } }"
    )
    # Then the request is refused before anything runs
    assert refused.data is None
    assert "BAD_USER_INPUT" in refused.error_codes()
    # When the enum value is sent
    created = (await admin_client(CREATE, {"name": "HRIS", "scopes": ["DOCUMENTS_READ"]})).ok()
    # Then the client holds the scope under its OAuth name (what /oauth/token takes)
    assert created["createApiClient"]["apiClient"]["scopes"] == ["documents:read"]
