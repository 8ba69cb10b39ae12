"""The HTTP surface outside GraphQL proper: health, readiness, keys, headers, transport rules."""

from __future__ import annotations

import httpx
import pytest
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
    # Given a query sent in the URL
    response = await http.get("/graphql", params={"query": "{ signOnLinks { url } }"})
    # Then it is refused as a JSON 405 inside the error contract, and nothing ran
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["METHOD_NOT_ALLOWED"]
    assert response.headers["x-request-id"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "signOnLinks" not in response.text


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_other_methods_are_a_json_405(http: httpx.AsyncClient, method: str) -> None:
    response = await http.request(method, "/graphql", json={"query": "{ signOnLinks { url } }"})
    assert response.status_code == 405
    assert response.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"


async def test_batched_operations_are_refused(http: httpx.AsyncClient) -> None:
    # Given two operations in one JSON array
    response = await http.post(
        "/graphql",
        json=[{"query": "{ signOnLinks { url } }"}, {"query": "{ signOnLinks { url } }"}],
    )
    # Then the batch is a JSON 400 with its own code
    assert response.status_code == 400
    body = response.json()
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BATCH_NOT_SUPPORTED"]
    assert response.headers["x-request-id"]


async def test_a_single_operation_still_runs_after_the_batch_check(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post("/graphql", json={"query": "{ signOnLinks { url } }"})
    assert response.status_code == 200
    assert "signOnLinks" in response.json()["data"]


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
