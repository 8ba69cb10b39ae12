"""CORS from ``PORTAL_CORS_ORIGINS``: none by default; listed origins get preflight answers for
``/graphql``, ``/oauth/token`` and downloads, without credentials mode (bearer tokens)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.app import create_app
from portal.resolvers.downloads import DOWNLOAD_PATH
from portal.settings import Settings

APP_ORIGIN = "https://app.example.com"
OTHER_ORIGIN = "https://evil.example.net"
PATHS = ["/graphql", "/oauth/token", f"{DOWNLOAD_PATH}/some-token"]


@pytest.fixture(scope="module")
def cors_app(settings: Settings) -> Starlette:
    return create_app(settings.model_copy(update={"cors_origins": [APP_ORIGIN]}))


@pytest.fixture
async def cors_http(
    cors_app: Starlette, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    cors_app.state.graphql.sessionmaker = sessionmaker
    transport = httpx.ASGITransport(app=cors_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def preflight(origin: str, method: str = "POST") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type",
    }


@pytest.mark.parametrize("path", PATHS)
async def test_a_listed_origin_gets_a_preflight_answer(
    cors_http: httpx.AsyncClient, path: str
) -> None:
    # Given the web app's origin on the allow-list
    # When its browser asks before a POST (or GET, for a download) with a bearer token
    method = "GET" if path.startswith(DOWNLOAD_PATH) else "POST"
    response = await cors_http.options(path, headers=preflight(APP_ORIGIN, method))
    # Then the preflight allows it, with the headers it needs and no credentials mode
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert method in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed
    assert "content-type" in allowed
    assert "access-control-allow-credentials" not in response.headers
    assert response.headers["x-request-id"]


@pytest.mark.parametrize("path", PATHS)
async def test_an_unlisted_origin_is_refused_at_preflight(
    cors_http: httpx.AsyncClient, path: str
) -> None:
    response = await cors_http.options(path, headers=preflight(OTHER_ORIGIN))
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_an_actual_request_exposes_the_request_id(cors_http: httpx.AsyncClient) -> None:
    response = await cors_http.post(
        "/graphql", json={"query": "{ signOnLinks { url } }"}, headers={"Origin": APP_ORIGIN}
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-credentials" not in response.headers


async def test_no_origin_is_allowed_by_default(http: httpx.AsyncClient) -> None:
    # Given the default settings (no PORTAL_CORS_ORIGINS)
    response = await http.post(
        "/graphql", json={"query": "{ signOnLinks { url } }"}, headers={"Origin": APP_ORIGIN}
    )
    preflight_answer = await http.options("/graphql", headers=preflight(APP_ORIGIN))
    # Then no response carries CORS headers, and a preflight is not answered as allowed
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in preflight_answer.headers
    assert preflight_answer.status_code == 405


def test_origins_are_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_CORS_ORIGINS", f"{APP_ORIGIN}, http://localhost:5173")
    assert Settings().cors_origins == [APP_ORIGIN, "http://localhost:5173"]


@pytest.mark.parametrize("value", ["*", "app.example.com", "https://app.example.com/path"])
def test_a_value_that_is_not_an_origin_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("PORTAL_CORS_ORIGINS", value)
    with pytest.raises(ValidationError):
        Settings()
