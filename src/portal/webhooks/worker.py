"""The webhook worker: fan events out of the outbox, deliver them in order, retry, disable.

Three steps, each its own short transaction, none held open during an HTTP call:

1. **Fan-out.** Pending WEBHOOK messages of the outbox (written in the transaction of the change)
   become one ``webhook_deliveries`` row per enabled endpoint subscribed to the event, of the
   object's account or of the third-party administrator over it. One worker fans out at a time
   (a transaction-level advisory lock), oldest event first, so ``sequence`` follows the order in
   which events happened.
2. **Delivery.** A claim (``FOR UPDATE SKIP LOCKED``) takes, per endpoint, only the PENDING
   delivery with the lowest sequence, and only when it is due: a later event waits while an
   earlier one is retrying, and two workers never hold the same endpoint's head. The claim moves
   ``next_attempt_at`` a lease ahead and commits; a worker that dies before recording the outcome
   leaves the delivery PENDING, claimed again when the lease runs out (at least once; receivers
   deduplicate by ``webhook-id``).
3. **Outcome.** Each attempt is logged (time, status, latency, error, 1 KB excerpt); failures wait
   an exponential, jittered delay, and the last allowed attempt marks the delivery FAILED. An
   endpoint whose attempts have all failed for ``webhook_disable_after_seconds`` is disabled and
   its account's User Admins are emailed.

A periodic job in the same worker emits ``authorization.expired`` once per expiry and forgets
finished deliveries past ``webhook_log_retention_days``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased
from sqlmodel import col

from portal.ids import global_id
from portal.models import (
    Account,
    AuditEvent,
    Authorization,
    OutboxMessage,
    PortalUser,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from portal.models.base import utcnow
from portal.models.db import AccountScope, scoped_session
from portal.models.enums import (
    ActorType,
    AuditResult,
    AuthorizationState,
    OutboxChannel,
    OutboxStatus,
    Role,
    UserStatus,
    WebhookDeliveryStatus,
    WebhookDisabledReason,
    WebhookEvent,
)
from portal.resolvers.outbox import enqueue_email, enqueue_webhook_event
from portal.settings import Settings
from portal.webhooks.addresses import redacted_url
from portal.webhooks.sender import Outcome, SendPolicy, new_client, post
from portal.webhooks.signing import signed_headers

if TYPE_CHECKING:
    import httpx  # imported by the sender when the worker sends (see portal.webhooks.sender)

logger = logging.getLogger(__name__)

# pg_try_advisory_xact_lock key of the fan-out step ("webhook" in ASCII).
FAN_OUT_LOCK = 0x776562686F6F6B
STOP_TIMEOUT_SECONDS = 30.0
PARALLEL_SENDS = 10
DISABLED_EMAIL_TOPIC = "webhook_disabled"
DISABLED_EMAIL_SUBJECT = "A webhook endpoint of your company was disabled"

_random = secrets.SystemRandom()


@dataclass
class WebhookReport:
    fanned_out: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    expired: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed


@dataclass(frozen=True, slots=True)
class Claimed:
    id: uuid.UUID
    endpoint_id: uuid.UUID
    account_id: uuid.UUID
    event_id: str
    payload: dict[str, Any]
    attempts: int
    test: bool
    url: str
    signing_secrets: tuple[str, ...]


def send_policy(settings: Settings) -> SendPolicy:
    return SendPolicy(
        allow_http=settings.webhook_http_allowed,
        allowed_networks=tuple(settings.webhook_allowed_networks),
        connect_timeout=settings.webhook_connect_timeout_seconds,
        read_timeout=settings.webhook_read_timeout_seconds,
    )


def retry_delay(settings: Settings, attempts: int, *, jitter: bool = True) -> timedelta:
    """The wait after ``attempts`` failed attempts (1, 2, ...): exponential, capped, jittered."""
    seconds = settings.webhook_retry_base_seconds * 2 ** min(max(attempts - 1, 0), 32)
    seconds = min(seconds, settings.webhook_retry_max_seconds)
    if jitter and settings.webhook_retry_jitter:
        spread = settings.webhook_retry_jitter
        seconds *= 1 + _random.uniform(-spread, spread)
    return timedelta(seconds=seconds)


def event_body(message: OutboxMessage) -> dict[str, Any]:
    """What receivers get: the event's id, type, time and account, and the ids it names."""
    assert message.account_id is not None
    return {
        "id": event_id(message.id),
        "type": message.topic,
        "timestamp": message.created_at.isoformat().replace("+00:00", "Z"),
        "account": {"id": global_id("Account", message.account_id)},
        "data": dict(message.payload.get("data") or {}),
    }


def event_id(message_id: uuid.UUID) -> str:
    return f"evt_{message_id.hex}"


async def fan_out(
    *, sessionmaker: async_sessionmaker[AsyncSession], now: datetime, limit: int
) -> int:
    """Turn due outbox events into deliveries; answers how many events were fanned out."""
    async with scoped_session(sessionmaker, AccountScope.everything()) as session:
        if not await session.scalar(sa.select(sa.func.pg_try_advisory_xact_lock(FAN_OUT_LOCK))):
            return 0  # another worker is fanning out; events stay in order behind it
        messages = list(
            await session.scalars(
                sa.select(OutboxMessage)
                .where(
                    col(OutboxMessage.channel) == OutboxChannel.WEBHOOK,
                    col(OutboxMessage.status) == OutboxStatus.PENDING,
                )
                .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        for message in messages:
            if message.account_id is not None:
                await _fan_out_one(session, message, now=now)
            message.status = OutboxStatus.DELIVERED
            message.delivered_at = now
            message.attempts += 1
            message.updated_at = now
        await session.commit()
    return len(messages)


async def _fan_out_one(session: AsyncSession, message: OutboxMessage, *, now: datetime) -> None:
    assert message.account_id is not None
    # The object's account, and the third-party administrator that sees its clients' data.
    parent = (
        sa.select(col(Account.parent_account_id))
        .where(col(Account.id) == message.account_id)
        .scalar_subquery()
    )
    endpoints = await session.execute(
        sa.select(col(WebhookEndpoint.id), col(WebhookEndpoint.account_id))
        .where(
            col(WebhookEndpoint.enabled).is_(True),
            sa.or_(
                col(WebhookEndpoint.account_id) == message.account_id,
                col(WebhookEndpoint.account_id) == parent,
            ),
            col(WebhookEndpoint.events).contains([message.topic]),
        )
        .order_by(col(WebhookEndpoint.created_at), col(WebhookEndpoint.id))
    )
    body = event_body(message)
    for endpoint_id, account_id in endpoints:
        session.add(
            WebhookDelivery(
                endpoint_id=endpoint_id,
                account_id=account_id,
                event_id=body["id"],
                event_type=message.topic,
                payload=body,
                next_attempt_at=now,
            )
        )
    await session.flush()


async def claim(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    now: datetime,
    limit: int,
) -> list[Claimed]:
    """Take due deliveries (each endpoint's head only) for one lease, and commit the claim."""
    endpoint = aliased(WebhookEndpoint)
    earlier = aliased(WebhookDelivery)
    blocked = (
        sa.select(sa.literal(1))
        .where(
            col(earlier.endpoint_id) == col(WebhookDelivery.endpoint_id),
            col(earlier.status) == WebhookDeliveryStatus.PENDING,
            col(earlier.test).is_(False),
            col(earlier.sequence) < col(WebhookDelivery.sequence),
        )
        .exists()
    )
    due = (
        sa.select(col(WebhookDelivery.id))
        .join(endpoint, col(endpoint.id) == col(WebhookDelivery.endpoint_id))
        .where(
            col(WebhookDelivery.status) == WebhookDeliveryStatus.PENDING,
            col(WebhookDelivery.next_attempt_at) <= now,
            sa.or_(
                col(WebhookDelivery.test).is_(True),
                sa.and_(col(endpoint.enabled).is_(True), ~blocked),
            ),
        )
        .order_by(col(WebhookDelivery.sequence))
        .limit(limit)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    )
    lease = timedelta(seconds=settings.webhook_claim_lease_seconds)
    async with scoped_session(sessionmaker, AccountScope.everything()) as session:
        rows = (
            await session.execute(
                sa.update(WebhookDelivery)
                .where(col(WebhookDelivery.id).in_(due.scalar_subquery()))
                .values(next_attempt_at=now + lease, updated_at=now)
                .returning(col(WebhookDelivery.id))
                .execution_options(synchronize_session=False)
            )
        ).all()
        ids = [row.id for row in rows]
        claimed: list[Claimed] = []
        if ids:
            details = await session.execute(
                sa.select(
                    col(WebhookDelivery.id),
                    col(WebhookDelivery.endpoint_id),
                    col(WebhookDelivery.account_id),
                    col(WebhookDelivery.event_id),
                    col(WebhookDelivery.payload),
                    col(WebhookDelivery.attempts),
                    col(WebhookDelivery.test),
                    col(WebhookEndpoint.url),
                    col(WebhookEndpoint.secret),
                    col(WebhookEndpoint.previous_secret),
                    col(WebhookEndpoint.previous_secret_expires_at),
                )
                .join(WebhookEndpoint, col(WebhookEndpoint.id) == col(WebhookDelivery.endpoint_id))
                .where(col(WebhookDelivery.id).in_(ids))
                .order_by(col(WebhookDelivery.sequence))
            )
            for row in details:
                keys = [row.secret]
                if row.previous_secret and row.previous_secret_expires_at > now:
                    keys.append(row.previous_secret)
                claimed.append(
                    Claimed(
                        id=row.id,
                        endpoint_id=row.endpoint_id,
                        account_id=row.account_id,
                        event_id=row.event_id,
                        payload=row.payload,
                        attempts=row.attempts,
                        test=row.test,
                        url=row.url,
                        signing_secrets=tuple(keys),
                    )
                )
        await session.commit()
    return claimed


async def send(client: httpx.AsyncClient, policy: SendPolicy, delivery: Claimed) -> Outcome:
    body = orjson.dumps(delivery.payload).decode()
    headers = signed_headers(
        signing_secrets=delivery.signing_secrets,
        message_id=delivery.event_id,
        timestamp=utcnow(),
        body=body,
    )
    return await post(client, policy, url=delivery.url, headers=headers, body=body.encode())


async def record(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    delivery: Claimed,
    outcome: Outcome,
    now: datetime,
) -> WebhookDeliveryStatus:
    """Log the attempt and move the delivery (and, for real events, the endpoint) on."""
    attempts = delivery.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "updated_at": now}
    if outcome.ok:
        status = WebhookDeliveryStatus.DELIVERED
        values.update(status=status, delivered_at=now, last_error=None)
    elif delivery.test or attempts >= settings.webhook_max_attempts:
        status = WebhookDeliveryStatus.FAILED
        values.update(status=status, last_error=outcome.error)
    else:
        status = WebhookDeliveryStatus.PENDING
        values.update(
            last_error=outcome.error, next_attempt_at=now + retry_delay(settings, attempts)
        )
    async with scoped_session(sessionmaker, AccountScope.everything()) as session:
        still_there = await session.scalar(
            sa.select(col(WebhookDelivery.id))
            .where(col(WebhookDelivery.id) == delivery.id)
            .with_for_update()
        )
        if still_there is None:  # the endpoint was deleted while the event was on its way
            return WebhookDeliveryStatus.FAILED
        session.add(
            WebhookAttempt(
                delivery_id=delivery.id,
                account_id=delivery.account_id,
                attempted_at=now,
                status_code=outcome.status_code,
                latency_ms=outcome.latency_ms,
                error=outcome.error,
                response_excerpt=outcome.excerpt,
            )
        )
        if not delivery.test and await _endpoint_disabled(
            session, settings, delivery=delivery, ok=outcome.ok, now=now
        ):
            status = WebhookDeliveryStatus.FAILED
            values.update(status=status, next_attempt_at=now)
        await session.execute(
            sa.update(WebhookDelivery)
            .where(
                col(WebhookDelivery.id) == delivery.id,
                col(WebhookDelivery.status) == WebhookDeliveryStatus.PENDING,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        await session.commit()
    if status is not WebhookDeliveryStatus.DELIVERED:
        logger.warning(
            "webhook delivery %s to endpoint %s: attempt %d %s (%s)",
            delivery.id,
            delivery.endpoint_id,
            attempts,
            "FAILED for good" if status is WebhookDeliveryStatus.FAILED else "failed",
            outcome.error,
        )
    return status


async def _endpoint_disabled(
    session: AsyncSession,
    settings: Settings,
    *,
    delivery: Claimed,
    ok: bool,
    now: datetime,
) -> bool:
    """Track the endpoint's run of failures; True when this failure disables it."""
    endpoint = await session.scalar(
        sa.select(WebhookEndpoint)
        .where(col(WebhookEndpoint.id) == delivery.endpoint_id)
        .with_for_update()
    )
    if endpoint is None:
        return False
    if ok:
        endpoint.failing_since = None
        return False
    if endpoint.failing_since is None:
        endpoint.failing_since = now
    failing_for = now - endpoint.failing_since
    if not endpoint.enabled or failing_for < timedelta(
        seconds=settings.webhook_disable_after_seconds
    ):
        return False
    endpoint.enabled = False
    endpoint.disabled_reason = WebhookDisabledReason.FAILING
    endpoint.disabled_at = now
    logger.error(
        "webhook endpoint %s disabled: failing since %s", endpoint.id, endpoint.failing_since
    )
    # The worker has no signed-in principal: the trail records the system acting.
    session.add(
        AuditEvent(
            actor_type=ActorType.SYSTEM,
            actor_label="webhook worker",
            account_id=endpoint.account_id,
            action="webhook.disabled",
            object_ids=[str(endpoint.id)],
            result=AuditResult.ALLOWED,
            details={
                "reason": WebhookDisabledReason.FAILING.value,
                "failingSince": endpoint.failing_since.isoformat(),
                "url": redacted_url(endpoint.url),
            },
        )
    )
    await _email_admins(session, settings, endpoint=endpoint)
    await session.flush()
    return True


async def _email_admins(
    session: AsyncSession, settings: Settings, *, endpoint: WebhookEndpoint
) -> None:
    admins = await session.scalars(
        sa.select(col(PortalUser.email))
        .where(
            col(PortalUser.account_id) == endpoint.account_id,
            col(PortalUser.role) == Role.USER_ADMIN,
            col(PortalUser.status) == UserStatus.ACTIVE,
        )
        .order_by(col(PortalUser.email))
    )
    webhook_id = global_id("Webhook", endpoint.id)
    text = (
        "A webhook endpoint of your company has failed to accept events for more than "
        f"{settings.webhook_disable_after_seconds / 3600:g} hours, so the Employer Health Portal "
        "has stopped sending to it.\n\n"
        f"Endpoint: {redacted_url(endpoint.url)}\n"
        f"Webhook id: {webhook_id}\n\n"
        "Events that were waiting are kept. Fix the receiving system, check it with "
        "`sendTestWebhook`, then turn the endpoint back on with `updateWebhook` "
        "(enabled: true); the delivery log (`Webhook.deliveries`) shows each failed attempt.\n\n"
        f"{settings.public_url.rstrip('/')}/\n"
    )
    for email in admins:
        enqueue_email(
            session=session,
            account_id=endpoint.account_id,
            topic=DISABLED_EMAIL_TOPIC,
            to=email,
            subject=DISABLED_EMAIL_SUBJECT,
            text=text,
        )


async def expire_authorizations(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    today: date | None = None,
    limit: int = 500,
) -> int:
    """Emit ``authorization.expired`` for active authorizations past their end date, once per
    expiry: the row records the end date it was emitted for, in the same transaction, and
    concurrent workers skip rows another one holds."""
    current = sa.func.current_date() if today is None else sa.literal(today, sa.Date)
    due = (
        sa.select(col(Authorization.id))
        .where(
            col(Authorization.state) == AuthorizationState.ACTIVE,
            col(Authorization.deleted_at).is_(None),
            col(Authorization.valid_until) < current,
            col(Authorization.expiry_event_valid_until).is_distinct_from(
                col(Authorization.valid_until)
            ),
        )
        .order_by(col(Authorization.valid_until), col(Authorization.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    async with scoped_session(sessionmaker, AccountScope.everything()) as session:
        rows = (
            await session.execute(
                sa.update(Authorization)
                .where(col(Authorization.id).in_(due.scalar_subquery()))
                .values(
                    expiry_event_valid_until=col(Authorization.valid_until),
                    updated_at=col(Authorization.updated_at),
                )
                .returning(
                    col(Authorization.id),
                    col(Authorization.account_id),
                    col(Authorization.valid_until),
                )
                .execution_options(synchronize_session=False)
            )
        ).all()
        for row in rows:
            enqueue_webhook_event(
                session=session,
                account_id=row.account_id,
                topic=WebhookEvent.AUTHORIZATION_EXPIRED.value,
                data={
                    "authorizationId": global_id("Authorization", row.id),
                    "validUntil": row.valid_until.isoformat(),
                },
            )
        await session.commit()
    return len(rows)


async def purge_delivery_log(
    *, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, now: datetime
) -> int:
    """Forget finished deliveries older than the retention (their attempts go with them), and
    the fanned-out webhook events of the outbox as old; answers how many deliveries went."""
    cutoff = now - timedelta(days=settings.webhook_log_retention_days)
    async with scoped_session(sessionmaker, AccountScope.everything()) as session:
        removed = await session.execute(
            sa.delete(WebhookDelivery)
            .where(
                col(WebhookDelivery.status) != WebhookDeliveryStatus.PENDING,
                col(WebhookDelivery.updated_at) < cutoff,
            )
            .returning(col(WebhookDelivery.id))
        )
        count = len(removed.all())
        await session.execute(
            sa.delete(OutboxMessage).where(
                col(OutboxMessage.channel) == OutboxChannel.WEBHOOK,
                col(OutboxMessage.status) == OutboxStatus.DELIVERED,
                col(OutboxMessage.updated_at) < cutoff,
            )
        )
        await session.commit()
    return count


async def deliver_due(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    now: datetime | None = None,
    client: httpx.AsyncClient | None = None,
    limit: int | None = None,
) -> WebhookReport:
    """One round: fan out new events, then attempt the due deliveries."""
    moment = now or utcnow()
    size = limit or settings.webhook_batch_size
    report = WebhookReport()
    report.fanned_out = await fan_out(sessionmaker=sessionmaker, now=moment, limit=size)
    claimed = await claim(sessionmaker=sessionmaker, settings=settings, now=moment, limit=size)
    if not claimed:
        return report
    policy = send_policy(settings)
    own_client = client is None
    http = client or new_client(policy)
    gate = asyncio.Semaphore(PARALLEL_SENDS)

    async def one(delivery: Claimed) -> Outcome:
        async with gate:
            return await send(http, policy, delivery)

    # The POSTs run side by side (one per endpoint at most); outcomes are recorded one by one,
    # so a round needs a single database connection at a time.
    try:
        outcomes = await asyncio.gather(*(one(delivery) for delivery in claimed))
    finally:
        if own_client:
            await http.aclose()
    statuses = [
        await record(
            sessionmaker=sessionmaker,
            settings=settings,
            delivery=delivery,
            outcome=outcome,
            now=now or utcnow(),
        )
        for delivery, outcome in zip(claimed, outcomes, strict=True)
    ]
    for status in statuses:
        if status is WebhookDeliveryStatus.DELIVERED:
            report.delivered += 1
        elif status is WebhookDeliveryStatus.FAILED:
            report.failed += 1
        else:
            report.retrying += 1
    return report


class WebhookWorker:
    """Polls the outbox and the deliveries until stopped: inside the app's lifespan, or as
    `portal worker`; every ``webhook_expiry_check_interval_seconds`` it also runs the expiry job.
    """

    def __init__(
        self, *, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._next_expiry_check = 0.0

    async def run_once(self, client: httpx.AsyncClient) -> WebhookReport:
        report = WebhookReport()
        if time.monotonic() >= self._next_expiry_check:
            self._next_expiry_check = (
                time.monotonic() + self.settings.webhook_expiry_check_interval_seconds
            )
            report.expired = await expire_authorizations(sessionmaker=self.sessionmaker)
            await purge_delivery_log(
                sessionmaker=self.sessionmaker, settings=self.settings, now=utcnow()
            )
        found = await deliver_due(
            sessionmaker=self.sessionmaker, settings=self.settings, client=client
        )
        found.expired = report.expired
        return found

    async def run(self) -> None:
        async with new_client(send_policy(self.settings)) as client:
            while not self._stopping.is_set():
                report = WebhookReport()
                try:
                    report = await self.run_once(client)
                except Exception:  # a database hiccup must not end the worker; try again later
                    logger.exception("the webhook worker could not read the outbox")
                if report.fanned_out or report.attempted:
                    # Each round sends at most one event per endpoint (their order): a backlog
                    # drains round after round, without waiting for the poll interval.
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self._stopping.wait(),
                        timeout=self.settings.webhook_poll_interval_seconds,
                    )

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="portal-webhook-worker")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """Finish the deliveries in hand, then end; cancel if that takes too long (a cancelled
        delivery stays claimed until its lease runs out, then is sent again)."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(task, timeout=STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            logger.warning("the webhook worker did not stop in time; cancelled")
