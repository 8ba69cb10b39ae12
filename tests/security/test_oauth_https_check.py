"""Hardening 9, the OAuth token endpoint's HTTPS check does not trust the Host header: plain HTTP
passes only from this machine (the development exemption of RFC 8252 loopback), never from a
remote client that merely says ``Host: localhost``. Behind a TLS proxy named in
PORTAL_TRUSTED_PROXIES, the proxy's ``X-Forwarded-Proto: https`` counts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.settings import Settings
from tests.auth.test_oauth_token import _basic
from tests.security.conftest import production_like_app
from tests.support.world import PASSWORD, World

FORM = {"grant_type": "client_credentials"}


def client_at(app: Starlette, peer: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://localhost")


@pytest.fixture
def test_app(app: Starlette, sessionmaker: async_sessionmaker[AsyncSession]) -> Starlette:
    app.state.graphql.sessionmaker = sessionmaker
    return app


@pytest.fixture
async def behind_a_proxy(settings: Settings) -> AsyncIterator[Starlette]:
    proxied = production_like_app(settings, trusted_proxies="10.0.0.5")
    yield proxied
    await proxied.state.engine.dispose()


async def test_a_remote_client_saying_host_localhost_is_refused(
    test_app: Starlette, world: World
) -> None:
    # Given a client on another machine speaking plain HTTP with "Host: localhost"
    async with client_at(test_app, "203.0.113.7") as client:
        # When it asks for a token with a real client secret
        response = await client.post(
            "/oauth/token", data=FORM, headers=_basic(world.acme_client.client_id, PASSWORD)
        )
    # Then the secret is refused over plain HTTP
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "insecure_transport"
    assert "access_token" not in response.json()


async def test_plain_http_from_this_machine_still_works_for_development(
    test_app: Starlette, world: World
) -> None:
    async with client_at(test_app, "127.0.0.1") as client:
        response = await client.post(
            "/oauth/token", data=FORM, headers=_basic(world.acme_client.client_id, PASSWORD)
        )
    assert response.status_code == 200, response.text
    assert response.json()["access_token"]


async def test_https_announced_by_a_trusted_proxy_counts(
    behind_a_proxy: Starlette, world: World
) -> None:
    # Given the server behind a TLS proxy it trusts, and a request it forwarded over HTTP
    async with client_at(behind_a_proxy, "10.0.0.5") as client:
        response = await client.post(
            "/oauth/token",
            data=FORM,
            headers={
                **_basic(world.acme_client.client_id, PASSWORD),
                "X-Forwarded-Proto": "https",
                "X-Forwarded-For": "198.51.100.8",
                "Host": "portal.example",
            },
        )
    # Then the transport is HTTPS as the proxy saw it (the client is unknown in this database,
    # but the refusal is about the client, not the transport)
    assert response.json().get("error") != "insecure_transport", response.text


async def test_https_claimed_by_an_untrusted_peer_does_not_count(
    behind_a_proxy: Starlette, world: World
) -> None:
    async with client_at(behind_a_proxy, "203.0.113.9") as client:
        response = await client.post(
            "/oauth/token",
            data=FORM,
            headers={
                **_basic(world.acme_client.client_id, PASSWORD),
                "X-Forwarded-Proto": "https",
                "Host": "localhost",
            },
        )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "insecure_transport"
