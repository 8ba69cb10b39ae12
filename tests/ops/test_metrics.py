"""GET /metrics (behind PORTAL_METRICS_ENABLED): requests, latency, pool, outbox, deliveries,
live subscriptions."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.app import create_app
from portal.mail.worker import DeliveryReport
from portal.settings import Settings

ALL_ACCOUNTS = sa.text("SELECT set_config('portal.all_accounts', 'on', true)")


@pytest.fixture
async def metered(
    settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Starlette]:
    app = create_app(
        settings.model_copy(update={"metrics_enabled": True}), sessionmaker=sessionmaker
    )
    yield app
    await app.state.engine.dispose()


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def _scrape(app: Starlette) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return _samples(response.text)


async def test_metrics_are_off_unless_enabled(http: httpx.AsyncClient) -> None:
    assert (await http.get("/metrics")).status_code == 404


async def test_requests_are_counted_by_operation_and_outcome_with_latency(
    metered: Starlette, admin_token: str
) -> None:
    # given two viewer queries and one malformed query
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=metered), base_url="http://t"
    ) as client:
        for _ in range(2):
            response = await client.post(
                "/graphql",
                json={"query": "query Viewer { viewer { id } }", "operationName": "Viewer"},
                headers={"Authorization": f"Bearer {admin_token}"},
            )
            assert response.status_code == 200
        await client.post("/graphql", json={"query": "query Broken { viewer { nope } }"})

    # when Prometheus scrapes
    samples = await _scrape(metered)

    # then each operation is counted with its outcome, and timed
    ok = (("operation", "Viewer"), ("outcome", "ok"), ("route", "/graphql"))
    assert samples[("portal_requests_total", ok)] == 2
    broken = (("operation", "Broken"), ("outcome", "invalid"), ("route", "/graphql"))
    assert samples[("portal_requests_total", broken)] == 1
    timed = (("operation", "Viewer"), ("route", "/graphql"))
    assert samples[("portal_request_duration_seconds_count", timed)] == 2
    assert samples[("portal_request_duration_seconds_sum", timed)] > 0
    # and the pool is described
    assert ("portal_db_pool_connections", (("state", "in_use"),)) in samples
    assert ("portal_db_pool_waiting", ()) in samples


async def test_outbox_depth_and_age_by_kind_deliveries_and_subscriptions(
    metered: Starlette, engine: AsyncEngine
) -> None:
    # given two pending messages of a topic, committed (the scrape reads on its own connection)
    topic = f"test.{uuid.uuid4().hex[:8]}"
    async with engine.begin() as connection:
        await connection.execute(ALL_ACCOUNTS)
        for age in (5, 120):
            await connection.execute(
                sa.text(
                    "INSERT INTO outbox_messages (id, channel, topic, payload, status, attempts,"
                    " next_attempt_at, created_at, updated_at) VALUES (gen_random_uuid(),"
                    " 'EMAIL', :topic, '{}', 'PENDING', 0, now(), now() - make_interval(secs =>"
                    " :age), now())"
                ),
                {"topic": topic, "age": age},
            )
    # and a batch the mail worker reported, and a live subscriber
    metered.state.mail_worker.on_report(DeliveryReport(delivered=3, retrying=1, failed=1))
    try:
        async with metered.state.events.subscribe():
            # when Prometheus scrapes
            samples = await _scrape(metered)
    finally:
        async with engine.begin() as connection:
            await connection.execute(
                sa.text("SELECT set_config('portal.all_accounts', 'on', true)")
            )
            await connection.execute(
                sa.text("DELETE FROM outbox_messages WHERE topic = :topic"), {"topic": topic}
            )

    # then the outbox depth and its oldest message's age are there by channel and topic
    kind = (("channel", "EMAIL"), ("topic", topic))
    assert samples[("portal_outbox_pending", kind)] == 2
    assert 119 <= samples[("portal_outbox_oldest_pending_age_seconds", kind)] < 600
    # and the delivery outcomes and the live subscription
    for outcome, count in (("delivered", 3), ("retrying", 1), ("failed", 1)):
        key = ("portal_outbox_deliveries_total", (("channel", "EMAIL"), ("outcome", outcome)))
        assert samples[key] == count
    assert samples[("portal_live_subscriptions", ())] == 1


async def test_requests_waiting_for_a_pooled_connection_are_counted(
    settings: Settings, admin_token: str
) -> None:
    # given an instance whose one pooled connection is taken
    app = create_app(
        settings.model_copy(
            update={"metrics_enabled": True, "db_pool_size": 1, "db_max_overflow": 0}
        )
    )
    transport = httpx.ASGITransport(app=app)
    try:
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://t") as client,
            app.state.engine.connect() as taken,
        ):
            await taken.exec_driver_sql("SELECT 1")
            # when a request arrives and waits for it
            waiting = asyncio.create_task(
                client.post(
                    "/graphql",
                    json={"query": "{ viewer { email } }"},
                    headers={"Authorization": f"Bearer {admin_token}"},
                )
            )
            deadline = asyncio.get_running_loop().time() + 10
            samples = await _scrape(app)
            while samples[("portal_db_pool_waiting", ())] < 1:
                assert asyncio.get_running_loop().time() < deadline, "nobody waited"
                await asyncio.sleep(0.05)
                samples = await _scrape(app)

            # then the scrape says one request waits, and the connection is in use
            assert samples[("portal_db_pool_waiting", ())] == 1
            assert samples[("portal_db_pool_connections", (("state", "in_use"),))] == 1
        # and once the connection is free, the request is served
        assert (await waiting).status_code == 200
    finally:
        await app.state.engine.dispose()
