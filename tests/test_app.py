"""The HTTP surface outside GraphQL proper: health, readiness, keys, headers, transport rules."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from portal.app import create_app
from portal.settings import Settings


async def test_healthz_answers_without_the_database(http: httpx.AsyncClient) -> None:
    response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.text == "ok"


async def test_readyz_answers_ok_when_the_database_answers(app: Starlette) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_readyz_answers_503_when_the_database_is_unreachable(settings: Settings) -> None:
    unreachable = settings.model_copy(
        update={"database_url": "postgresql://postgres@127.0.0.1:1/nowhere"}
    )
    app = create_app(unreachable)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["database"] == "unreachable"
    await app.state.engine.dispose()


async def test_jwks_publishes_only_public_keys(http: httpx.AsyncClient) -> None:
    response = await http.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert len(keys) == 1
    assert keys[0]["kty"] == "EC"
    assert keys[0]["alg"] == "ES256"
    assert "kid" in keys[0]
    assert "d" not in keys[0]


async def test_queries_over_get_are_refused(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", params={"query": "{ signOnLinks { url } }"})
    assert response.status_code in {400, 405}
    assert "signOnLinks" not in response.text


async def test_batched_operations_are_refused(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql",
        json=[{"query": "{ signOnLinks { url } }"}, {"query": "{ signOnLinks { url } }"}],
    )
    assert response.status_code == 400


async def test_every_response_carries_a_request_id_and_no_store(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": "{ signOnLinks { url } }"})
    assert len(response.headers["x-request-id"]) >= 8
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_a_sane_incoming_request_id_is_echoed(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql",
        json={"query": "{ signOnLinks { url } }"},
        headers={"X-Request-ID": "trace-1234abcd"},
    )
    assert response.headers["x-request-id"] == "trace-1234abcd"


async def test_an_unsafe_incoming_request_id_is_replaced(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql",
        json={"query": "{ signOnLinks { url } }"},
        headers={"X-Request-ID": "<script>alert(1)</script>"},
    )
    assert response.headers["x-request-id"] != "<script>alert(1)</script>"
