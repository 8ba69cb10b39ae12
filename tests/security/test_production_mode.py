"""Hardening 1: production mode is real: no generated signing key, no demo data, HSTS, no
GraphiQL unless asked for, introspection and field suggestions for staff only (and never for
anonymous callers, in any environment)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.auth.keys import generate_key
from portal.auth.tokens import SubjectKind, TokenService
from portal.models import Account
from portal.production import ProductionMisconfigured, demo_data_present
from portal.seed.demo.facts import MARKER_ACCOUNT_ID
from portal.settings import Settings
from tests.security.conftest import production_like_app
from tests.support.world import World

INTROSPECT = '{ __type(name: "Document") { name } }'
TYPO = "{ viewer { emial } }"


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "signing.jwk"
    path.write_text(json.dumps(generate_key().as_dict(private=True)))
    return path


@pytest.fixture
async def production(
    settings: Settings, key_file: Path, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Starlette]:
    # Production, signing with an operator's key (the test's tokens are minted with it too).
    app = production_like_app(settings, environment="production", signing_key_file=key_file)
    app.state.graphql.sessionmaker = sessionmaker
    yield app
    await app.state.engine.dispose()


async def ask(app: Starlette, query: str, token: str | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.post("/graphql", json={"query": query}, headers=headers)


def token_for(app: Starlette, kind: SubjectKind, subject_id: object) -> str:
    tokens: TokenService = app.state.tokens
    return tokens.mint(kind=kind, subject_id=subject_id)[0]  # type: ignore[arg-type]


def test_production_refuses_a_generated_signing_key(settings: Settings) -> None:
    # When production starts without an operator's signing key, Then it refuses, saying why
    with pytest.raises(ProductionMisconfigured, match="PORTAL_SIGNING_KEY_FILE"):
        production_like_app(settings, environment="production", signing_key_file=None)


async def test_demo_data_is_recognised(connection: AsyncConnection, db: AsyncSession) -> None:
    # Given the test world (no demo data), Then production would start
    assert not await demo_data_present(connection)
    # Given the demo's marker account, Then production refuses to start
    db.add(Account(id=MARKER_ACCOUNT_ID, name="Acme Logistics", account_number="EHP-TEST-1"))
    await db.flush()
    assert await demo_data_present(connection)


async def test_production_answers_with_hsts_and_without_graphiql(production: Starlette) -> None:
    transport = httpx.ASGITransport(app=production)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        health = await client.get("/healthz")
        graphiql = await client.get("/graphiql")
    assert health.headers["strict-transport-security"].startswith("max-age=")
    assert graphiql.status_code == 404


async def test_development_sends_no_hsts(anonymous_client: object, http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")
    assert "strict-transport-security" not in response.headers


async def test_anonymous_callers_never_introspect(http: httpx.AsyncClient) -> None:
    # Given development mode, When an anonymous caller asks for the schema
    response = await http.post("/graphql", json={"query": INTROSPECT})
    # Then it is refused, and the rest of the API still answers
    body = response.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    typename = await http.post("/graphql", json={"query": "{ __typename }"})
    assert typename.json()["data"] == {"__typename": "Query"}


async def test_in_production_only_staff_introspect(production: Starlette, world: World) -> None:
    basic = token_for(production, SubjectKind.USER, world.acme_basic.id)
    staff = token_for(production, SubjectKind.STAFF, world.staff.id)

    refused = (await ask(production, INTROSPECT, basic)).json()
    answered = (await ask(production, INTROSPECT, staff)).json()

    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    assert answered["data"] == {"__type": {"name": "Document"}}


async def test_in_production_only_staff_get_field_suggestions(
    production: Starlette, world: World
) -> None:
    basic = token_for(production, SubjectKind.USER, world.acme_basic.id)
    staff = token_for(production, SubjectKind.STAFF, world.staff.id)

    for_basic = (await ask(production, TYPO, basic)).json()["errors"][0]
    for_staff = (await ask(production, TYPO, staff)).json()["errors"][0]

    assert for_basic["extensions"]["code"] == "BAD_USER_INPUT"
    assert "emial" in for_basic["message"]
    assert "Did you mean" not in for_basic["message"]
    assert "Did you mean" in for_staff["message"]


async def test_outside_production_signed_in_users_introspect(
    http: httpx.AsyncClient, tokens: TokenService, world: World
) -> None:
    token = tokens.mint(kind=SubjectKind.USER, subject_id=world.acme_basic.id)[0]
    response = await http.post(
        "/graphql", json={"query": INTROSPECT}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.json()["data"] == {"__type": {"name": "Document"}}
