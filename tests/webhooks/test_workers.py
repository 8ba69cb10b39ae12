"""Several workers against committed data, each on its own connections: two at once never send
an event twice (and keep each endpoint's order), a worker killed between claim and send loses
nothing, `authorization.expired` is emitted once per authorization, and the app's in-process
worker and `portal worker --once` deliver."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from typer.testing import CliRunner

from portal.app import create_app
from portal.cli import cli
from portal.models import Authorization, OutboxMessage, WebhookDelivery, WebhookEndpoint
from portal.models.base import utcnow
from portal.models.db import AccountScope, create_engine, create_sessionmaker, scoped_session
from portal.models.enums import AuthorizationState, Modality, OutboxChannel, WebhookDeliveryStatus
from portal.settings import Settings
from portal.webhooks.worker import deliver_due, expire_authorizations
from tests.support.receiver import Receiver, Reply
from tests.support.world import World
from tests.webhooks.conftest import add_endpoint, add_event


class Committed:
    """Rows written in their own committed transactions, removed again at the end."""

    def __init__(self, settings: Settings) -> None:
        assert settings.database_url
        self.url = settings.database_url
        self.engines = [create_engine(self.url, pool_size=2, max_overflow=2) for _ in range(2)]
        self.makers = [create_sessionmaker(engine) for engine in self.engines]
        self.outbox_before: set[uuid.UUID] = set()
        self.authorizations: list[uuid.UUID] = []

    def session(self, index: int = 0) -> AbstractAsyncContextManager[AsyncSession]:
        return scoped_session(self.makers[index], AccountScope.everything())

    async def outbox_ids(self) -> set[uuid.UUID]:
        async with self.session() as session:
            return set(
                await session.scalars(
                    sa.select(col(OutboxMessage.id)).where(
                        col(OutboxMessage.channel) == OutboxChannel.WEBHOOK
                    )
                )
            )

    async def clean(self) -> None:
        async with self.session() as session:
            await session.execute(sa.delete(WebhookEndpoint))
            await session.execute(
                sa.delete(OutboxMessage).where(
                    col(OutboxMessage.channel) == OutboxChannel.WEBHOOK,
                    col(OutboxMessage.id).not_in(self.outbox_before),
                )
            )
            if self.authorizations:
                await session.execute(
                    sa.delete(Authorization).where(col(Authorization.id).in_(self.authorizations))
                )
            await session.commit()
        for engine in self.engines:
            await engine.dispose()


@pytest.fixture
async def committed(hook_settings: Settings) -> AsyncIterator[Committed]:
    rows = Committed(hook_settings)
    rows.outbox_before = await rows.outbox_ids()
    try:
        yield rows
    finally:
        await rows.clean()


async def _pending(committed: Committed) -> int:
    async with committed.session() as session:
        deliveries = await session.scalar(
            sa.select(sa.func.count()).where(
                col(WebhookDelivery.status) == WebhookDeliveryStatus.PENDING
            )
        )
        events = await session.scalar(
            sa.select(sa.func.count()).where(
                col(OutboxMessage.channel) == OutboxChannel.WEBHOOK,
                col(OutboxMessage.status) == "PENDING",
            )
        )
        return int(deliveries or 0) + int(events or 0)


async def test_two_workers_at_once_never_send_an_event_twice(
    committed: Committed, hook_settings: Settings, receiver: Receiver, world: World
) -> None:
    # Given three endpoints and eight committed events
    receiver.default = Reply(200, delay=0.02)
    paths = ["/a", "/b", "/c"]
    async with committed.session() as session:
        for path in paths:
            await add_endpoint(session, world.acme.id, receiver.url(path))
        events = [await add_event(session, world.acme.id, data={"n": n}) for n in range(8)]
    settings = hook_settings.model_copy(update={"webhook_batch_size": 2})

    async def work(index: int) -> int:
        sent = 0
        for _ in range(200):
            report = await deliver_due(sessionmaker=committed.makers[index], settings=settings)
            sent += report.delivered
            if report.attempted == 0 and report.fanned_out == 0 and not await _pending(committed):
                break
        return sent

    # When two workers, each on its own connections, run at the same time
    first, second = await asyncio.gather(work(0), work(1))
    # Then every endpoint got every event exactly once, in the order they happened
    assert first + second == 24
    assert first > 0
    assert second > 0
    expected = [f"evt_{event.id.hex}" for event in events]
    for path in paths:
        got = [r.webhook_id for r in receiver.requests if r.path == path]
        assert got == expected, path


KILLED_WORKER = """
import asyncio, sys
from portal.models.base import utcnow
from portal.models.db import create_engine, create_sessionmaker
from portal.settings import Settings
from portal.webhooks.worker import claim, fan_out

async def main() -> None:
    settings = Settings()
    maker = create_sessionmaker(create_engine(settings.database_url))
    await fan_out(sessionmaker=maker, now=utcnow(), limit=10)
    claimed = await claim(sessionmaker=maker, settings=settings, now=utcnow(), limit=10)
    print(f"claimed {len(claimed)}", flush=True)
    await asyncio.sleep(120)  # killed here, before sending

asyncio.run(main())
"""


async def test_a_worker_killed_between_claim_and_send_loses_nothing(
    committed: Committed, hook_settings: Settings, receiver: Receiver, world: World
) -> None:
    # Given a committed event for an endpoint
    async with committed.session() as session:
        endpoint = await add_endpoint(session, world.acme.id, receiver.url())
        event = await add_event(session, world.acme.id)
    # And a worker process that claims it, then is killed before sending
    env = {**os.environ, "PORTAL_DATABASE_URL": committed.url}
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", KILLED_WORKER, env=env, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert worker.stdout is not None
        line = await asyncio.wait_for(worker.stdout.readline(), timeout=60)
        assert line.decode().strip() == "claimed 1"
    finally:
        worker.send_signal(signal.SIGKILL)
        await worker.wait()
    assert receiver.requests == []
    # When another worker runs while the claim's lease holds, it leaves the event alone
    maker = committed.makers[1]
    assert (await deliver_due(sessionmaker=maker, settings=hook_settings)).attempted == 0
    # When the lease has run out, the event is delivered
    after_lease = utcnow() + timedelta(seconds=hook_settings.webhook_claim_lease_seconds + 1)
    report = await deliver_due(sessionmaker=maker, settings=hook_settings, now=after_lease)
    assert report.delivered == 1
    assert [r.webhook_id for r in receiver.requests] == [f"evt_{event.id.hex}"]
    async with committed.session() as session:
        status = await session.scalar(
            sa.select(col(WebhookDelivery.status)).where(
                col(WebhookDelivery.endpoint_id) == endpoint.id
            )
        )
    assert status is WebhookDeliveryStatus.DELIVERED


async def test_two_workers_emit_authorization_expired_once_each(
    committed: Committed, world: World
) -> None:
    # Given 30 committed active authorizations that ended yesterday
    today = utcnow().date()
    alice = world.results.alice_injury
    async with committed.session() as session:
        rows = [
            Authorization(
                account_id=world.acme.id,
                number=f"T-RACE-{n:04d}",
                employee_id=alice.employee_id,
                location_id=alice.location_id,
                modality=Modality.TELEMEDICINE,
                valid_from=today - timedelta(days=10),
                valid_until=today - timedelta(days=1),
                state=AuthorizationState.ACTIVE,
            )
            for n in range(30)
        ]
        session.add_all(rows)
        await session.commit()
        committed.authorizations = [row.id for row in rows]

    async def job(index: int) -> int:
        total = 0
        while found := await expire_authorizations(
            sessionmaker=committed.makers[index], today=today, limit=4
        ):
            total += found
        return total

    # When two workers run the expiry job at the same time
    counts = await asyncio.gather(job(0), job(1))
    # Then each authorization was announced exactly once
    assert sum(counts) == 30
    async with committed.session() as session:
        announced = list(
            await session.scalars(
                sa.select(OutboxMessage.payload["data"]["authorizationId"].astext).where(
                    col(OutboxMessage.topic) == "authorization.expired",
                    col(OutboxMessage.id).not_in(committed.outbox_before),
                )
            )
        )
    assert len(announced) == 30
    assert len(set(announced)) == 30


async def test_the_app_runs_the_webhook_worker_in_process(
    committed: Committed, hook_settings: Settings, receiver: Receiver, world: World
) -> None:
    # Given a committed event and an app whose webhook worker polls often
    async with committed.session() as session:
        await add_endpoint(session, world.acme.id, receiver.url())
        await add_event(session, world.acme.id)
    app = create_app(
        hook_settings.model_copy(
            update={"webhook_worker_enabled": True, "webhook_poll_interval_seconds": 0.05}
        )
    )
    # When the app runs for a moment
    async with app.router.lifespan_context(app):
        assert app.state.webhook_worker.running
        await asyncio.to_thread(receiver.wait_for, 1)
    # Then the event arrived, and the worker ended with the app
    assert len(receiver.requests) == 1
    assert not app.state.webhook_worker.running


async def test_the_in_process_worker_drains_a_backlog_without_waiting_between_rounds(
    committed: Committed, hook_settings: Settings, receiver: Receiver, world: World
) -> None:
    # Given five committed events for one endpoint (one is sent per round, in order)
    async with committed.session() as session:
        await add_endpoint(session, world.acme.id, receiver.url())
        for n in range(5):
            await add_event(session, world.acme.id, data={"n": n})
    # And a worker that polls only every 30 seconds when idle
    app = create_app(
        hook_settings.model_copy(
            update={"webhook_worker_enabled": True, "webhook_poll_interval_seconds": 30.0}
        )
    )
    # When the app runs
    async with app.router.lifespan_context(app):
        await asyncio.to_thread(receiver.wait_for, 5, 20.0)
    # Then all five arrived in order, well before a second poll interval
    assert [body["data"]["n"] for body in receiver.bodies()] == [0, 1, 2, 3, 4]


async def test_portal_worker_once_delivers_webhooks(
    committed: Committed,
    hook_settings: Settings,
    receiver: Receiver,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a committed event, and `portal worker` allowed to call loopback over http
    async with committed.session() as session:
        await add_endpoint(session, world.acme.id, receiver.url())
        await add_event(session, world.acme.id)
    for key, value in {
        "PORTAL_DATABASE_URL": committed.url,
        "PORTAL_DATA_DIR": str(hook_settings.data_dir),
        "PORTAL_WEBHOOK_ALLOW_HTTP": "true",
        "PORTAL_WEBHOOK_ALLOWED_NETWORKS": '["127.0.0.0/8"]',
    }.items():
        monkeypatch.setenv(key, value)
    # When it runs once (in a thread: the command runs its own event loop)
    result = await asyncio.to_thread(CliRunner().invoke, cli, ["worker", "--once"])
    # Then the event was delivered and the command says so
    assert result.exit_code == 0, result.output
    assert "1 event(s) fanned out, delivered 1" in result.output
    assert len(receiver.requests) == 1
