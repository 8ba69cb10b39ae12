"""POST /oauth/token: the client credentials grant for HR systems, over HTTP."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import ApiClient
from tests.support.graphql import GraphQLClient, assert_forbidden, assert_unauthenticated
from tests.support.world import PASSWORD, World

# Client credentials travel only over TLS (RFC 6749 §2.3.1); authlib refuses plain HTTP.
TOKEN_URL = "https://testserver/oauth/token"
# The root `account` field needs the `account:read` scope.
VIEWER = "{ viewer { role scopes } account { name } }"


def _basic(client_id: str, secret: str) -> dict[str, str]:
    credentials = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {credentials}"}


async def _request_token(
    http: httpx.AsyncClient,
    form: dict[str, str],
    *,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await http.post(TOKEN_URL, data=form, headers=headers or {})


async def _token_with_basic(
    http: httpx.AsyncClient, world: World, scope: str | None = None
) -> dict[str, Any]:
    form = {"grant_type": "client_credentials"}
    if scope is not None:
        form["scope"] = scope
    response = await _request_token(
        http, form, headers=_basic(world.acme_client.client_id, PASSWORD)
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def _set_client(db: AsyncSession, world: World, **values: Any) -> None:
    await db.execute(
        sa.update(ApiClient).where(col(ApiClient.id) == world.acme_client.id).values(**values)
    )
    await db.commit()


def _assert_oauth_error(response: httpx.Response, status: int, error: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"
    assert "Traceback" not in response.text


async def test_a_token_from_basic_auth_works_on_graphql(
    http: httpx.AsyncClient, world: World
) -> None:
    body = await _token_with_basic(http, world)
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], int)
    assert body["expires_in"] > 0
    assert set(body["scope"].split()) == {"account:read", "documents:read"}
    data = (await GraphQLClient(http, body["access_token"])(VIEWER)).ok()
    assert data["viewer"]["role"] == "API_CLIENT"
    assert set(data["viewer"]["scopes"]) == {"account:read", "documents:read"}
    assert data["account"] == {"name": "Acme Logistics"}


async def test_a_token_from_post_body_credentials_works_on_graphql(
    http: httpx.AsyncClient, world: World
) -> None:
    response = await _request_token(
        http,
        {
            "grant_type": "client_credentials",
            "client_id": world.acme_client.client_id,
            "client_secret": PASSWORD,
        },
    )
    assert response.status_code == 200, response.text
    data = (await GraphQLClient(http, response.json()["access_token"])(VIEWER)).ok()
    assert data["viewer"]["role"] == "API_CLIENT"
    assert data["account"] == {"name": "Acme Logistics"}


async def test_the_token_response_is_not_cached(http: httpx.AsyncClient, world: World) -> None:
    response = await _request_token(
        http,
        {"grant_type": "client_credentials"},
        headers=_basic(world.acme_client.client_id, PASSWORD),
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    assert response.headers["content-type"].startswith("application/json")


async def test_a_narrower_scope_gives_a_token_with_only_that_scope(
    http: httpx.AsyncClient, world: World
) -> None:
    body = await _token_with_basic(http, world, scope="documents:read")
    assert body["scope"] == "documents:read"
    response = await GraphQLClient(http, body["access_token"])(VIEWER)
    assert response.data["viewer"]["scopes"] == ["documents:read"]
    assert_forbidden(response, ["account"])


async def test_a_scope_the_client_lacks_is_invalid_scope(
    http: httpx.AsyncClient, world: World
) -> None:
    for scope in ("documents:read authorizations:write", "not-a-scope"):
        response = await _request_token(
            http,
            {"grant_type": "client_credentials", "scope": scope},
            headers=_basic(world.acme_client.client_id, PASSWORD),
        )
        _assert_oauth_error(response, 400, "invalid_scope")
        assert "access_token" not in response.json()


async def test_wrong_secret_and_unknown_client_answer_alike(
    http: httpx.AsyncClient, world: World
) -> None:
    wrong_basic = await _request_token(
        http,
        {"grant_type": "client_credentials"},
        headers=_basic(world.acme_client.client_id, "not the secret"),
    )
    unknown_basic = await _request_token(
        http, {"grant_type": "client_credentials"}, headers=_basic("no-such-client", PASSWORD)
    )
    wrong_post = await _request_token(
        http,
        {
            "grant_type": "client_credentials",
            "client_id": world.acme_client.client_id,
            "client_secret": "not the secret",
        },
    )
    unknown_post = await _request_token(
        http,
        {"grant_type": "client_credentials", "client_id": "nobody", "client_secret": PASSWORD},
    )
    for response in (wrong_basic, unknown_basic, wrong_post, unknown_post):
        _assert_oauth_error(response, 401, "invalid_client")
        assert response.headers["www-authenticate"].startswith("Basic")
    assert wrong_basic.json() == unknown_basic.json() == wrong_post.json() == unknown_post.json()
    assert wrong_basic.headers["www-authenticate"] == unknown_basic.headers["www-authenticate"]


async def test_no_credentials_is_invalid_client(http: httpx.AsyncClient) -> None:
    response = await _request_token(http, {"grant_type": "client_credentials"})
    _assert_oauth_error(response, 401, "invalid_client")


async def test_another_grant_type_is_unsupported(http: httpx.AsyncClient, world: World) -> None:
    response = await _request_token(
        http,
        {"grant_type": "password", "username": "admin@acme.example", "password": PASSWORD},
        headers=_basic(world.acme_client.client_id, PASSWORD),
    )
    _assert_oauth_error(response, 400, "unsupported_grant_type")


async def test_a_missing_grant_type_is_an_invalid_request(
    http: httpx.AsyncClient, world: World
) -> None:
    response = await _request_token(
        http, {"scope": "documents:read"}, headers=_basic(world.acme_client.client_id, PASSWORD)
    )
    _assert_oauth_error(response, 400, "invalid_request")


async def test_a_json_body_is_an_invalid_request(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post(
        TOKEN_URL,
        json={"grant_type": "client_credentials"},
        headers=_basic(world.acme_client.client_id, PASSWORD),
    )
    _assert_oauth_error(response, 400, "invalid_request")


async def test_two_authentication_methods_at_once_are_an_invalid_request(
    http: httpx.AsyncClient, world: World
) -> None:
    response = await _request_token(
        http,
        {
            "grant_type": "client_credentials",
            "client_id": world.acme_client.client_id,
            "client_secret": PASSWORD,
        },
        headers=_basic(world.acme_client.client_id, "not the secret"),
    )
    _assert_oauth_error(response, 400, "invalid_request")


async def test_get_is_not_allowed(http: httpx.AsyncClient) -> None:
    response = await http.get(TOKEN_URL)
    assert response.status_code == 405


async def test_plain_http_is_refused(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post(
        "http://testserver/oauth/token",
        data={"grant_type": "client_credentials"},
        headers=_basic(world.acme_client.client_id, PASSWORD),
    )
    _assert_oauth_error(response, 400, "insecure_transport")


async def test_issuing_a_token_records_last_use(
    http: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    before = datetime.now(UTC)
    await _token_with_basic(http, world)
    last_used = await db.scalar(
        sa.select(col(ApiClient.last_used_at)).where(col(ApiClient.id) == world.acme_client.id)
    )
    assert last_used is not None
    assert last_used >= before.replace(microsecond=0)


async def test_revoking_the_client_stops_its_token_and_new_tokens(
    http: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    body = await _token_with_basic(http, world)
    client = GraphQLClient(http, body["access_token"])
    (await client(VIEWER)).ok()

    await _set_client(db, world, revoked_at=datetime.now(UTC))

    response = await client(VIEWER)
    assert response.status_code == 401
    assert_unauthenticated(response)
    refused = await _request_token(
        http,
        {"grant_type": "client_credentials"},
        headers=_basic(world.acme_client.client_id, PASSWORD),
    )
    _assert_oauth_error(refused, 401, "invalid_client")


async def test_a_scope_removed_after_issuance_is_gone_at_the_next_request(
    http: httpx.AsyncClient, world: World, db: AsyncSession
) -> None:
    body = await _token_with_basic(http, world)
    client = GraphQLClient(http, body["access_token"])
    assert (await client(VIEWER)).ok()["account"] == {"name": "Acme Logistics"}

    await _set_client(db, world, scopes=["documents:read"])

    response = await client(VIEWER)
    assert response.data["viewer"]["scopes"] == ["documents:read"]
    assert_forbidden(response, ["account"])


async def test_token_issuance_and_refusal_are_audited(
    http: httpx.AsyncClient, world: World, staff_client: GraphQLClient
) -> None:
    await _token_with_basic(http, world)
    refused = await _request_token(
        http,
        {"grant_type": "client_credentials"},
        headers=_basic(world.acme_client.client_id, "not the secret at all"),
    )
    assert refused.status_code == 401
    events = (
        await staff_client(
            "{ auditEvents(first: 10) { nodes { action result actorType actorLabel "
            "account { name } } } }"
        )
    ).ok()["auditEvents"]["nodes"]
    oauth = [e for e in events if e["action"].startswith("oauth.")]
    assert [(e["action"], e["result"]) for e in oauth] == [
        ("oauth.token_refused", "DENIED"),
        ("oauth.token_issued", "ALLOWED"),
    ]
    assert oauth[1]["actorType"] == "API_CLIENT"
    assert oauth[1]["account"] == {"name": "Acme Logistics"}
    assert {e["actorLabel"] for e in oauth} == {world.acme_client.client_id}
