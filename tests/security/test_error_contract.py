"""Stop-the-line 2: every failure answers inside the error contract (JSON, `extensions.code`,
the request id, the security headers) and nothing raw from the database reaches the client or
a log line."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from portal.auth.tokens import SubjectKind, TokenService
from portal.settings import Settings
from tests.security.conftest import production_like_app
from tests.support.graphql import GraphQLClient
from tests.support.network import free_port
from tests.support.world import World

SEARCH = '{ documents(first: 5, filter: {employeeName: "martinez"}) { nodes { id name } } }'


def assert_contract(response: httpx.Response, *, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-request-id"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, object] = response.json()
    errors = body["errors"]
    assert isinstance(errors, list)
    assert errors[0]["extensions"]["code"] == code
    return body


@pytest.fixture
async def database_down(settings: Settings) -> AsyncIterator[tuple[Starlette, httpx.AsyncClient]]:
    """The app pointed at a PostgreSQL address where nothing listens (a database outage)."""
    app = production_like_app(
        settings,
        database_url=f"postgresql://portal@127.0.0.1:{free_port()}/portal",
        db_connect_timeout_seconds=2.0,
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield app, client
    await app.state.engine.dispose()


async def test_a_database_outage_during_the_token_check_answers_503_json(
    database_down: tuple[Starlette, httpx.AsyncClient], world: World
) -> None:
    # Given a signed-in user's valid token, and a database that cannot be reached
    app, client = database_down
    tokens: TokenService = app.state.tokens
    token, _ = tokens.mint(kind=SubjectKind.USER, subject_id=world.acme_admin.id)

    # When the request needs the database to know who is calling
    response = await client.post(
        "/graphql",
        json={"query": "{ viewer { email } }"},
        headers={"Authorization": f"Bearer {token}"},
    )

    # Then it is told to come back shortly, as JSON with the request id and the headers
    body = assert_contract(response, status=503, code="SERVICE_UNAVAILABLE")
    assert int(response.headers["retry-after"]) > 0
    assert body["data"] is None
    assert "127.0.0.1" not in response.text
    assert "Connect" not in response.text


async def test_a_database_outage_on_other_routes_answers_503_json(
    database_down: tuple[Starlette, httpx.AsyncClient],
) -> None:
    # Given a database that cannot be reached
    _, client = database_down

    # When an HR system asks for a token
    response = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("some-client", "some-secret"),
    )

    # Then the answer is the same contract, not a plain-text 500
    assert_contract(response, status=503, code="SERVICE_UNAVAILABLE")


async def test_a_failed_audit_write_fails_the_request_without_database_text(
    admin_client: GraphQLClient, db: AsyncSession, caplog: pytest.LogCaptureFixture
) -> None:
    # Given an audit trail that cannot be written (inside the test's rolled-back transaction)
    await db.execute(text("REVOKE INSERT ON audit_events FROM CURRENT_USER"))
    caplog.set_level(logging.INFO)

    # When a User Admin searches results (a PHI read that must be audited)
    response = await admin_client(SEARCH)

    # Then nothing of the read is answered, the error is masked and coded, and logged once
    assert response.status_code == 500, response.body
    assert response.data is None
    assert response.error_codes() == ["INTERNAL"]
    answered = str(response.body)
    for raw in ("INSERT", "audit_events", "permission denied", "martinez", "admin@acme"):
        assert raw not in answered
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(failures) == 1, [r.getMessage() for r in failures]
    logged = failures[0].getMessage()
    assert "42501" in logged  # the SQLSTATE says what went wrong ...
    for raw in ("admin@acme", "martinez", "127.0.0.1", "INSERT INTO"):  # ... the values do not
        assert raw not in logged


async def test_a_body_that_is_not_json_answers_json(anonymous_client: GraphQLClient) -> None:
    # When a client sends a body that does not parse
    response = await anonymous_client.http.post(
        "/graphql", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    # Then the error is still JSON with a code
    assert_contract(response, status=400, code="BAD_USER_INPUT")
