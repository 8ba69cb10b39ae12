"""Query cost and budgets (issue 15): a static cost computed on the expanded operation before
execution, QUERY_TOO_COMPLEX over the per-operation maximum, a leaky-bucket budget per principal
(per IP address when anonymous) reported in every answer's ``extensions.cost`` and by
``rateLimit``, RATE_LIMITED once spent; kept in Redis so several processes share one budget."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from graphql import parse
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.app import create_app
from portal.auth.tokens import SubjectKind, TokenService
from portal.ratelimit import BucketPolicy, MemoryBuckets, RedisBuckets
from portal.schema import build_schema
from portal.schema.limits.measure import measure_operations
from portal.settings import Settings
from tests.support.graphql import GraphQLClient
from tests.support.network import free_port
from tests.support.world import World

PAGE = """
query Page { documents(first: 100) { totalCount pageInfo { hasNextPage }
  edges { node { id employee { id } visit { id } } } } }
"""


def test_the_cost_follows_the_page_sizes() -> None:
    # Given the schema and a page of 100 documents, each with its employee and visit
    schema = build_schema()._schema
    # When it is measured, then each of the 100 edges costs itself, its node and 2 objects,
    # plus the connection and its pageInfo
    [(_, measure)] = measure_operations(parse(PAGE), schema=schema)
    assert measure.total_cost == 1 + 1 + 100 * (1 + 1 + 2)
    # and a page size sent as a variable counts the same way
    query = "query($n: Int) { documents(first: $n) { nodes { id employee { id } } } }"
    [(_, by_variable)] = measure_operations(parse(query), schema=schema, variables={"n": 7})
    assert by_variable.total_cost == 1 + 7 * 2
    # and without a page size the default page (20) is assumed
    [(_, default)] = measure_operations(
        parse("{ documents { nodes { id } } }"), schema=schema, variables={}
    )
    assert default.total_cost == 1 + 20


async def test_every_answer_reports_the_cost(admin_client: GraphQLClient) -> None:
    # When a User Admin reads a page
    response = await admin_client(PAGE)
    # Then the answer reports what it cost and what remains of the budget
    response.ok()
    cost = response.extensions["cost"]
    assert cost["requested"] == 402
    assert cost["limit"] == 50_000
    assert 0 <= cost["remaining"] <= 50_000 - 402
    assert datetime.fromisoformat(cost["resetAt"]) > datetime.now(UTC)


async def test_an_error_answer_reports_the_budget_too(anonymous_client: GraphQLClient) -> None:
    response = await anonymous_client("{ viewer { email ")
    assert response.error_codes() == ["BAD_USER_INPUT"]
    assert response.extensions["cost"]["requested"] == 0
    assert response.extensions["cost"]["limit"] == 5_000


async def test_rate_limit_shows_the_callers_budget(admin_client: GraphQLClient) -> None:
    # When the caller asks for its budget along with a page
    response = await admin_client(
        "{ rateLimit { limit cost remaining resetAt } documents(first: 10) { nodes { id } } }"
    )
    # Then it matches the answer's own report
    data = response.ok()
    cost = response.extensions["cost"]
    assert data["rateLimit"] == {
        "limit": cost["limit"],
        "cost": cost["requested"],
        "remaining": cost["remaining"],
        "resetAt": data["rateLimit"]["resetAt"],
    }
    assert data["rateLimit"]["cost"] == 1 + 1 + 10 * 1  # rateLimit, documents, 10 nodes


async def test_an_anonymous_caller_sees_its_own_budget(anonymous_client: GraphQLClient) -> None:
    # When an anonymous caller asks for its budget, then it is the per-IP budget
    data = (await anonymous_client("{ rateLimit { limit cost remaining } }")).ok()
    assert data["rateLimit"]["limit"] == 5_000
    assert data["rateLimit"]["cost"] == 1
    assert data["rateLimit"]["remaining"] <= 5_000 - 1


async def test_thirty_aliases_of_full_pages_are_refused(admin_client: GraphQLClient) -> None:
    # Given 30 aliases of documents(first: 100) with nested objects (5.5 s for any User Admin)
    page = (
        "documents(first: 100) { edges { node { id name employee { id firstName } "
        "visit { id } medicalCenter { id } location { id } reportType { code } } } }"
    )
    query = "{ " + " ".join(f"p{i}: {page}" for i in range(30)) + " }"
    # When it is sent, then it is refused with its cost before anything runs
    response = await admin_client(query)
    assert response.data is None
    [error] = response.errors
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["limit"] == "cost points"
    assert error["extensions"]["measured"] == 30 * (1 + 100 * (1 + 1 + 5))
    assert error["extensions"]["maximum"] == 10_000
    # and the answer reports what it would have cost, charging nothing
    assert response.extensions["cost"]["requested"] == error["extensions"]["measured"]


@pytest.fixture
async def small_budget(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Starlette]:
    """An app whose budgets hold 50 points (anonymous: 12), draining 1 point a second."""
    app = create_app(
        settings.model_copy(
            update={
                "rate_limit_points": 50,
                "rate_limit_anonymous_points": 12,
                "rate_limit_points_per_second": 1.0,
            }
        ),
        sessionmaker=sessionmaker,
    )
    yield app
    await app.state.buckets.close()
    await app.state.engine.dispose()


async def test_a_spent_budget_is_rate_limited(
    small_budget: Starlette, tokens: TokenService, world: World
) -> None:
    token, _ = tokens.mint(kind=SubjectKind.USER, subject_id=world.acme_admin.id)
    transport = httpx.ASGITransport(app=small_budget)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        admin = GraphQLClient(http, token)
        anonymous = GraphQLClient(http)
        # Given a User Admin who spent 42 of 50 points on two pages of 20
        query = "{ documents(first: 20) { nodes { id } } }"
        for _ in range(2):
            assert (await admin(query)).ok()
        # When a third page (21 points) does not fit
        refused = await admin(query)
        # Then it is RATE_LIMITED (HTTP 429), with when to retry and the budget, and nothing ran
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.data is None
        [error] = refused.errors
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert error["extensions"]["retryAfter"] >= 1
        assert error["extensions"]["cost"]["requested"] == 21
        assert error["extensions"]["cost"]["remaining"] < 21
        # and a cheaper operation still fits
        assert (await admin("{ viewer { email } }")).ok()
        # and an anonymous caller has its own, smaller budget (by IP address)
        assert (await anonymous("{ viewer { email } }")).extensions["cost"]["limit"] == 12
        sign_on = "{ signOnLinks { label url } }"  # 10 points: a root list
        answers = [await anonymous(sign_on) for _ in range(2)]
        assert answers[0].error_codes() == []
        assert answers[1].error_codes() == ["RATE_LIMITED"]


async def test_a_bucket_drains_over_time() -> None:
    # Given a bucket of 10 points draining 2 a second, filled by 10 points at t=0
    now = [1000.0]
    buckets = MemoryBuckets(clock=lambda: now[0])
    policy = BucketPolicy(capacity=10, leak_per_second=2.0)
    assert (await buckets.charge("k", 10, policy)).remaining == 0
    assert not (await buckets.charge("k", 1, policy)).allowed
    # When 2 seconds pass, then 4 points fit again, and it is empty 5 seconds after filling
    now[0] += 2
    decision = await buckets.charge("k", 4, policy)
    assert decision.allowed
    assert decision.remaining == 0
    assert decision.reset_at == datetime.fromtimestamp(1002.0 + 5.0, UTC)
    # and another caller's bucket is untouched
    assert (await buckets.charge("other", 0, policy)).remaining == 10


REDIS_URL = os.environ.get("PORTAL_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz").status_code == 200
    except httpx.TransportError:
        return False


@pytest.fixture
def two_processes(settings: Settings, database_url: str, world: World) -> Iterator[list[str]]:
    """Two `portal serve` processes on one database and one Redis, budgets of 100 points."""
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_DATA_DIR": str(settings.resolved_data_dir),
        "PORTAL_REDIS_URL": REDIS_URL,
        "PORTAL_MAIL_WORKER_ENABLED": "false",
        "PORTAL_GRAPHIQL_ENABLED": "false",
        "PORTAL_RATE_LIMIT_POINTS": "100",
        "PORTAL_RATE_LIMIT_POINTS_PER_SECOND": "0.001",
    }
    portal = str(Path(sys.executable).with_name("portal"))
    servers: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    try:
        # One after the other: each migrates and seeds reference data before it serves.
        for _ in range(2):
            port = free_port()
            server = subprocess.Popen(  # noqa: S603 -- the project's own command, fixed arguments
                [portal, "serve", "--port", str(port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            servers.append(server)
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120  # the machine is shared: be patient
            while not _healthy(url):
                assert server.poll() is None, "the server stopped"
                assert time.monotonic() < deadline, f"{url} did not start"
                time.sleep(0.2)
            urls.append(url)
        yield urls
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)


async def test_processes_sharing_redis_share_one_budget(
    two_processes: list[str], tokens: TokenService, world: World
) -> None:
    # Given a principal of its own (a fresh id) signed for both processes
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    assert await redis.ping(), "Redis must run at " + REDIS_URL
    token, _ = tokens.mint(kind=SubjectKind.USER, subject_id=world.globex_admin.id)
    await redis.delete(f"portal:ratelimit:USER:{world.globex_admin.id}")
    query = {"query": "{ documents(first: 30) { nodes { id } } }"}  # 31 points
    headers = {"Authorization": f"Bearer {token}"}
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            # When it spends 62 points on the first process and 31 on the second
            answers: list[dict[str, Any]] = []
            for url in (two_processes[0], two_processes[0], two_processes[1]):
                response = await http.post(f"{url}/graphql", json=query, headers=headers)
                answers.append(response.json())
            # Then the second process saw what the first spent
            assert [a["extensions"]["cost"]["remaining"] for a in answers] == [69, 38, 7], answers
            # and the next page is refused on either process
            for url in two_processes:
                refused = (await http.post(f"{url}/graphql", json=query, headers=headers)).json()
                assert refused["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    finally:
        await redis.delete(f"portal:ratelimit:USER:{world.globex_admin.id}")
        await redis.aclose()


async def test_redis_buckets_admit_when_redis_is_down() -> None:
    # Given buckets pointed at a port where no Redis listens
    buckets = RedisBuckets(f"redis://127.0.0.1:{free_port()}/0")
    try:
        # When a request is charged, then it is admitted (the budget must not stop the service)
        decision = await buckets.charge(f"k-{uuid.uuid4()}", 5, BucketPolicy(10, 1.0))
        assert decision.allowed
    finally:
        await buckets.close()
