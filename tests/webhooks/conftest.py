"""Webhook delivery tests: a real HTTP receiver on loopback, endpoints and events in the test's
transaction, and settings with deterministic (unjittered) retries and short timeouts."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from portal.ids import global_id
from portal.models import OutboxMessage, WebhookEndpoint
from portal.models.enums import WebhookEvent
from portal.resolvers.outbox import enqueue_webhook_event
from portal.settings import Settings
from portal.webhooks.signing import new_secret
from tests.support.receiver import Receiver, serve_receiver

ALL_EVENTS = [event.value for event in WebhookEvent]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve_receiver() as server:
        yield server


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "webhook_retry_jitter": 0.0,
            "webhook_retry_base_seconds": 60.0,
            "webhook_connect_timeout_seconds": 1.0,
            "webhook_read_timeout_seconds": 0.5,
        }
    )


async def add_endpoint(
    db: AsyncSession,
    account_id: uuid.UUID,
    url: str,
    *,
    events: Sequence[str] = ALL_EVENTS,
    secret: str | None = None,
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        account_id=account_id, url=url, events=list(events), secret=secret or new_secret()
    )
    db.add(endpoint)
    await db.commit()
    return endpoint


async def add_event(
    db: AsyncSession,
    account_id: uuid.UUID,
    *,
    topic: str = "visit.status_changed",
    data: dict[str, Any] | None = None,
) -> OutboxMessage:
    message = enqueue_webhook_event(
        session=db,
        account_id=account_id,
        topic=topic,
        data=data or {"visitId": global_id("Visit", uuid.uuid4()), "to": "COMPLETE"},
    )
    await db.commit()
    return message
