"""The outbox's email worker: claim due messages, deliver them, record the outcome, retry later.

Claiming and delivering are separate transactions. A claim (``FOR UPDATE SKIP LOCKED``, so
several workers on several hosts never take the same row) only moves the message's
``next_attempt_at`` a lease ahead and commits; the SMTP conversation then runs with no database
transaction or row lock open, and its outcome is written afterwards. A worker that dies between
the two leaves the message PENDING, and it is claimed again once the lease has run out: delivery
is at least once, and the Message-ID (derived from the outbox row) lets a mail client recognise
the rare duplicate.

WEBHOOK messages share the table and are left to their own worker. Once an hour the worker also
removes expired idempotency keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from portal.mail.attachments import render_attachments
from portal.mail.transports import (
    MailTransport,
    build_message,
    is_permanent_failure,
    transport_for,
)
from portal.models import OutboxMessage
from portal.models.base import utcnow
from portal.models.db import AccountScope, scoped_session
from portal.models.enums import OutboxChannel, OutboxStatus
from portal.resolvers.idempotency import purge_expired_keys
from portal.settings import Settings

logger = logging.getLogger(__name__)

MAX_ERROR_LENGTH = 2000
# Expired idempotency keys are removed this often by the worker.
PURGE_INTERVAL_SECONDS = 3600.0
STOP_TIMEOUT_SECONDS = 10.0


@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def attempted(self) -> int:
        return self.delivered + self.retrying + self.failed


@dataclass(frozen=True, slots=True)
class _Claimed:
    id: uuid.UUID
    payload: dict[str, Any]
    attempts: int


def retry_delay(settings: Settings, attempts: int) -> timedelta:
    """Exponential backoff after ``attempts`` failed attempts (1, 2, ...), capped."""
    seconds = settings.mail_retry_base_seconds * 2 ** min(max(attempts - 1, 0), 32)
    return timedelta(seconds=min(seconds, settings.mail_retry_max_seconds))


async def deliver_due(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    transport: MailTransport | None = None,
    now: datetime | None = None,
    limit: int | None = None,
) -> DeliveryReport:
    """Deliver one batch of due EMAIL messages; answers what became of them."""
    transport = transport if transport is not None else transport_for(settings)
    claimed = await _claim(
        sessionmaker, settings, now=now or utcnow(), limit=limit or settings.mail_batch_size
    )
    report = DeliveryReport()
    for message in claimed:
        error: str | None = None
        permanent = False
        try:
            attachments = await render_attachments(
                sessionmaker, message.payload.get("attachments") or ()
            )
            await transport.send(
                build_message(
                    message_id=message.id,
                    sender=settings.mail_from,
                    payload=message.payload,
                    attachments=attachments,
                )
            )
        except Exception as failure:  # one failed attempt: retried later unless permanent
            error = f"{type(failure).__name__}: {failure}"[:MAX_ERROR_LENGTH]
            permanent = is_permanent_failure(failure)
            logger.warning(
                "email %s not delivered (%s): %s",
                message.id,
                "permanent" if permanent else "will retry",
                type(failure).__name__,
            )
        status = await _record(sessionmaker, settings, message, error=error, permanent=permanent)
        if status is OutboxStatus.DELIVERED:
            report.delivered += 1
        elif status is OutboxStatus.FAILED:
            report.failed += 1
        else:
            report.retrying += 1
    return report


async def _claim(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    *,
    now: datetime,
    limit: int,
) -> list[_Claimed]:
    due = (
        sa.select(col(OutboxMessage.id))
        .where(
            col(OutboxMessage.channel) == OutboxChannel.EMAIL,
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.next_attempt_at) <= now,
        )
        .order_by(col(OutboxMessage.next_attempt_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    lease = timedelta(seconds=settings.mail_claim_lease_seconds)
    async with scoped_session(sessionmaker, AccountScope.everything()) as session:
        rows = await session.execute(
            sa.update(OutboxMessage)
            .where(col(OutboxMessage.id).in_(due.scalar_subquery()))
            .values(next_attempt_at=now + lease, updated_at=now)
            .returning(
                col(OutboxMessage.id),
                col(OutboxMessage.payload),
                col(OutboxMessage.attempts),
            )
            .execution_options(synchronize_session=False)
        )
        claimed = [_Claimed(id=row.id, payload=row.payload, attempts=row.attempts) for row in rows]
        await session.commit()
    return claimed


async def _record(
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    message: _Claimed,
    *,
    error: str | None,
    permanent: bool = False,
) -> OutboxStatus:
    now = utcnow()
    attempts = message.attempts + 1
    values: dict[str, Any] = {"attempts": attempts, "updated_at": now}
    if error is None:
        status = OutboxStatus.DELIVERED
        values.update(status=status, delivered_at=now, last_error=None)
    elif permanent or attempts >= settings.mail_max_attempts:
        status = OutboxStatus.FAILED
        values.update(status=status, last_error=error)
        logger.error(
            "email %s FAILED after %d attempt(s)%s",
            message.id,
            attempts,
            " (refused for good by the server)" if permanent else "",
        )
    else:
        status = OutboxStatus.PENDING
        values.update(last_error=error, next_attempt_at=now + retry_delay(settings, attempts))
    async with scoped_session(sessionmaker, AccountScope.everything()) as session:
        await session.execute(
            sa.update(OutboxMessage)
            .where(
                col(OutboxMessage.id) == message.id,
                col(OutboxMessage.status) == OutboxStatus.PENDING,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        await session.commit()
    return status


async def purge_idempotency_keys(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Remove idempotency keys past their 24 hours (housekeeping, system scope)."""
    async with scoped_session(sessionmaker, AccountScope.everything()) as session:
        purged = await purge_expired_keys(session=session)
        await session.commit()
    return purged


class MailWorker:
    """Polls the outbox until stopped: inside the app's lifespan, or as `portal worker`."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        transport: MailTransport | None = None,
        on_report: Callable[[DeliveryReport], None] | None = None,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.transport = transport if transport is not None else transport_for(settings)
        # Told what became of each batch (the delivery metrics).
        self.on_report = on_report
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run(self) -> None:
        purged_at: float | None = None
        while not self._stopping.is_set():
            now = asyncio.get_running_loop().time()
            if purged_at is None or now - purged_at >= PURGE_INTERVAL_SECONDS:
                purged_at = now
                try:
                    await purge_idempotency_keys(self.sessionmaker)
                except Exception:  # housekeeping only: try again at the next interval
                    logger.exception("the worker could not purge expired idempotency keys")
            report = DeliveryReport()
            try:
                report = await deliver_due(
                    sessionmaker=self.sessionmaker, settings=self.settings, transport=self.transport
                )
            except Exception:  # a database hiccup must not end the worker; try again next poll
                logger.exception("the email worker could not read the outbox")
            if self.on_report is not None and report.attempted:
                self.on_report(report)
            if report.attempted >= self.settings.mail_batch_size:
                continue  # a full batch: more may be due right away
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._stopping.wait(), timeout=self.settings.mail_poll_interval_seconds
                )

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self.run(), name="portal-mail-worker")

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self) -> None:
        """Finish the message in hand, then end; cancel if that takes too long."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is None:
            return
        try:
            await asyncio.wait_for(task, timeout=STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            logger.warning("the email worker did not stop in time; cancelled")
