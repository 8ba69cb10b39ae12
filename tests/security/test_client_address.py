"""Hardening 7: the client address that lockouts, throttling and the audit trail record comes
from a proxy header only when the peer is a proxy named in PORTAL_TRUSTED_PROXIES."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from starlette.applications import Starlette

from portal.models import AuditEvent
from portal.models.db import AccountScope, set_scope
from portal.settings import Settings
from tests.security.conftest import production_like_app, serving

SPOOFED = "203.0.113.9"


async def login_audited_address(
    app: Starlette, sessionmaker: async_sessionmaker[AsyncSession]
) -> object:
    """Attempt a sign-in with an X-Forwarded-For header; answer the address the audit recorded."""
    app.state.graphql.sessionmaker = sessionmaker
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post(
            "/graphql",
            json={
                "query": 'mutation { login(input: {email: "nobody@example.com", '
                'password: "not the password"}) { accessToken } }'
            },
            headers={"X-Forwarded-For": SPOOFED, "X-Request-ID": "client-address-test-1"},
        )
    assert response.status_code == 200, response.text
    async with sessionmaker() as session:
        set_scope(session, AccountScope.everything())
        return await session.scalar(
            sa.select(col(AuditEvent.ip_address))
            .where(col(AuditEvent.request_id) == "client-address-test-1")
            .limit(1)
        )


@pytest.fixture
async def untrusting(settings: Settings) -> AsyncIterator[Starlette]:
    app = production_like_app(settings)
    yield app
    await app.state.engine.dispose()


@pytest.fixture
async def behind_a_proxy(settings: Settings) -> AsyncIterator[Starlette]:
    app = production_like_app(settings, trusted_proxies="127.0.0.1")
    yield app
    await app.state.engine.dispose()


async def test_a_forwarded_for_header_from_an_untrusted_peer_is_ignored(
    untrusting: Starlette, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # Given no trusted proxy, When a loopback client claims another address
    recorded = await login_audited_address(untrusting, sessionmaker)
    # Then the audit records the peer's own address
    assert str(recorded) == "127.0.0.1"


async def test_a_forwarded_for_header_from_a_trusted_proxy_names_the_client(
    behind_a_proxy: Starlette, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # Given the peer is a trusted proxy, When it forwards the client's address
    recorded = await login_audited_address(behind_a_proxy, sessionmaker)
    # Then the audit records the client's address
    assert str(recorded) == SPOOFED


async def test_portal_serve_does_not_believe_a_loopback_peer_by_default(
    settings: Settings, db: AsyncSession
) -> None:
    # Given `portal serve` as operators run it, with no trusted proxy
    with serving(settings, cli=True) as url:
        # When a client on the same machine claims another address
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            response = await client.post(
                "/graphql",
                json={
                    "query": 'mutation { login(input: {email: "nobody@example.com", '
                    'password: "not the password"}) { accessToken } }'
                },
                headers={"X-Forwarded-For": SPOOFED, "X-Request-ID": "client-address-test-2"},
            )
        assert response.status_code == 200, response.text

    # Then the audit trail records the peer's own address (the server committed it)
    recorded = await db.scalar(
        sa.select(col(AuditEvent.ip_address))
        .where(col(AuditEvent.request_id) == "client-address-test-2")
        .limit(1)
    )
    assert str(recorded) == "127.0.0.1"
