"""The delivery log of an endpoint, resending a delivery, and test events."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal
from portal.ids import global_id
from portal.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from portal.models.base import utcnow
from portal.models.db import AccountScope
from portal.models.enums import WebhookDeliveryStatus, WebhookEvent
from portal.resolvers.errors import ErrorCode, NotFound, PortalError
from portal.resolvers.pagination import Page, PageRequest, SortKey, paginate
from portal.resolvers.webhooks.endpoints import locked_webhook

TEST_EVENT_TYPE = "webhook.test"
MAX_PENDING_TESTS = 5
UNKNOWN_DELIVERY = "No webhook delivery has this id."


@dataclass(frozen=True, slots=True)
class DeliveryFilter:
    status: WebhookDeliveryStatus | None = None
    event: WebhookEvent | None = None


async def list_deliveries(
    *,
    session: AsyncSession,
    scope: AccountScope,
    webhook_id: uuid.UUID,
    page: PageRequest,
    filter: DeliveryFilter,
) -> Page[WebhookDelivery]:
    """Newest first."""
    statement = sa.select(WebhookDelivery).where(
        col(WebhookDelivery.endpoint_id) == webhook_id,
        scope.filter(col(WebhookDelivery.account_id)),
    )
    if filter.status is not None:
        statement = statement.where(col(WebhookDelivery.status) == filter.status)
    if filter.event is not None:
        statement = statement.where(col(WebhookDelivery.event_type) == filter.event.value)
    return await paginate(
        session=session,
        statement=statement,
        keys=[SortKey(col(WebhookDelivery.sequence), descending=True, python_type=int)],
        request=page,
        convert=lambda row: row,
    )


async def load_deliveries(
    *, session: AsyncSession, scope: AccountScope, ids: Sequence[uuid.UUID]
) -> list[WebhookDelivery | None]:
    rows = await session.scalars(
        sa.select(WebhookDelivery).where(
            col(WebhookDelivery.id).in_(ids), scope.filter(col(WebhookDelivery.account_id))
        )
    )
    by_id = {row.id: row for row in rows}
    return [by_id.get(i) for i in ids]


async def load_attempts(
    *, session: AsyncSession, scope: AccountScope, delivery_ids: Sequence[uuid.UUID]
) -> list[list[WebhookAttempt]]:
    rows = await session.scalars(
        sa.select(WebhookAttempt)
        .where(
            col(WebhookAttempt.delivery_id).in_(delivery_ids),
            scope.filter(col(WebhookAttempt.account_id)),
        )
        .order_by(col(WebhookAttempt.attempted_at), col(WebhookAttempt.id))
    )
    by_delivery: dict[uuid.UUID, list[WebhookAttempt]] = {i: [] for i in delivery_ids}
    for row in rows:
        by_delivery[row.delivery_id].append(row)
    return [by_delivery[i] for i in delivery_ids]


async def resend_delivery(
    *, session: AsyncSession, principal: Principal, delivery_id: uuid.UUID
) -> WebhookDelivery:
    """Queue the same event (same ``webhook-id``) to the same endpoint again, after the events
    already waiting for it."""
    original = await session.scalar(
        sa.select(WebhookDelivery).where(
            col(WebhookDelivery.id) == delivery_id,
            principal.scope.filter(col(WebhookDelivery.account_id)),
        )
    )
    if original is None:
        raise NotFound(UNKNOWN_DELIVERY, field="id")
    await locked_webhook(session=session, scope=principal.scope, webhook_id=original.endpoint_id)
    waiting = await session.scalar(
        sa.select(col(WebhookDelivery.id)).where(
            col(WebhookDelivery.endpoint_id) == original.endpoint_id,
            col(WebhookDelivery.event_id) == original.event_id,
            col(WebhookDelivery.status) == WebhookDeliveryStatus.PENDING,
        )
    )
    if waiting is not None:
        raise PortalError(
            "This event is already waiting to be sent to this webhook.",
            code=ErrorCode.INVALID_TRANSITION,
            field="id",
        )
    copy = WebhookDelivery(
        endpoint_id=original.endpoint_id,
        account_id=original.account_id,
        event_id=original.event_id,
        event_type=original.event_type,
        test=original.test,
        payload=original.payload,
    )
    session.add(copy)
    await session.commit()
    return copy


async def send_test(
    *, session: AsyncSession, principal: Principal, webhook_id: uuid.UUID
) -> WebhookDelivery:
    """Queue a ``webhook.test`` event: sent at once (outside the order of real events, and even
    to a disabled endpoint, to check it before enabling it again), attempted once."""
    endpoint = await locked_webhook(
        session=session, scope=principal.scope, webhook_id=webhook_id, field="webhookId"
    )
    pending = await session.scalar(
        sa.select(sa.func.count()).where(
            col(WebhookDelivery.endpoint_id) == endpoint.id,
            col(WebhookDelivery.test).is_(True),
            col(WebhookDelivery.status) == WebhookDeliveryStatus.PENDING,
        )
    )
    if (pending or 0) >= MAX_PENDING_TESTS:
        raise PortalError(
            "Several test events are already waiting for this webhook; wait for them first.",
            code=ErrorCode.RATE_LIMITED,
            field="webhookId",
        )
    now = utcnow()
    event_id = f"evt_test_{uuid.uuid4().hex}"
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        account_id=endpoint.account_id,
        event_id=event_id,
        event_type=TEST_EVENT_TYPE,
        test=True,
        payload=sample_body(event_id=event_id, endpoint=endpoint, now=now),
        next_attempt_at=now,
    )
    session.add(delivery)
    await session.commit()
    return delivery


def sample_body(*, event_id: str, endpoint: WebhookEndpoint, now: datetime) -> dict[str, object]:
    return {
        "id": event_id,
        "type": TEST_EVENT_TYPE,
        "timestamp": now.isoformat().replace("+00:00", "Z"),
        "account": {"id": global_id("Account", endpoint.account_id)},
        "data": {"webhookId": global_id("Webhook", endpoint.id)},
    }
