"""Stop-the-line 1: a request holds one pooled connection from start to end, so concurrent
audited reads can never deadlock the pool (each used to wait for a second connection for its
audit write while holding the first)."""

from __future__ import annotations

import asyncio
import contextlib
import time

import httpx
import pytest

from portal.auth.tokens import SubjectKind, TokenService
from portal.settings import Settings
from tests.security.conftest import serving
from tests.support.world import World

AUDITED_QUERY = '{ documents(first: 5, filter: {employeeName: "a"}) { totalCount nodes { id } } }'
POOL_TIMEOUT_SECONDS = 5.0


def assert_inside_contract(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    if response.status_code == 200:
        assert "errors" not in body, body
        assert body["data"]["documents"]["totalCount"] >= 1
        return
    assert response.status_code == 503, response.text
    assert body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert int(response.headers["retry-after"]) > 0
    assert response.headers["x-request-id"]


@pytest.mark.timeout(120)
async def test_200_concurrent_audited_reads_on_a_pool_of_5_never_freeze(
    settings: Settings, tokens: TokenService, world: World
) -> None:
    # Given a server whose pool holds 5 connections and no overflow
    token, _ = tokens.mint(kind=SubjectKind.USER, subject_id=world.acme_admin.id)
    headers = {"Authorization": f"Bearer {token}"}
    with serving(
        settings,
        PORTAL_DB_POOL_SIZE="5",
        PORTAL_DB_MAX_OVERFLOW="0",
        PORTAL_DB_POOL_TIMEOUT_SECONDS=str(POOL_TIMEOUT_SECONDS),
    ) as url:
        limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:

            async def one() -> tuple[httpx.Response, float]:
                started = time.monotonic()
                response = await client.post(
                    "/graphql", json={"query": AUDITED_QUERY}, headers=headers
                )
                return response, time.monotonic() - started

            # When 200 audited searches arrive at once
            started = time.monotonic()
            results = await asyncio.gather(*(one() for _ in range(200)))
            elapsed = time.monotonic() - started

    # Then every one answers inside the contract, and none waited for a connection that never
    # came: the excess (if any) is refused as soon as the pool timeout says so
    for response, _ in results:
        assert_inside_contract(response)
    succeeded = sum(1 for response, _ in results if response.status_code == 200)
    slowest_refusal = max(
        (seconds for response, seconds in results if response.status_code == 503), default=0.0
    )
    print(
        f"{succeeded} of 200 succeeded in {elapsed:.1f} s; slowest refusal {slowest_refusal:.1f} s"
    )
    assert succeeded >= 25, f"only {succeeded} of 200 succeeded in {elapsed:.1f} s"
    assert slowest_refusal < POOL_TIMEOUT_SECONDS + 10
    assert elapsed < 60


@pytest.mark.timeout(120)
async def test_clients_that_give_up_do_not_freeze_the_next_request(
    settings: Settings, tokens: TokenService, world: World
) -> None:
    # Given a server with a small pool, and 100 clients that give up after 50 ms
    token, _ = tokens.mint(kind=SubjectKind.USER, subject_id=world.acme_admin.id)
    headers = {"Authorization": f"Bearer {token}"}
    with serving(settings, PORTAL_DB_POOL_SIZE="2", PORTAL_DB_MAX_OVERFLOW="0") as url:
        async with httpx.AsyncClient(base_url=url, timeout=0.05) as impatient:

            async def give_up() -> None:
                with contextlib.suppress(httpx.TimeoutException):
                    await impatient.post("/graphql", json={"query": AUDITED_QUERY}, headers=headers)

            await asyncio.gather(*(give_up() for _ in range(100)))
        # When a patient client asks next
        async with httpx.AsyncClient(base_url=url, timeout=30) as patient:
            started = time.monotonic()
            response = await patient.post(
                "/graphql", json={"query": AUDITED_QUERY}, headers=headers
            )
            elapsed = time.monotonic() - started

    # Then it is answered, and well before any pool timeout
    assert response.status_code == 200, response.text
    assert response.json()["data"]["documents"]["totalCount"] >= 1
    assert elapsed < POOL_TIMEOUT_SECONDS
