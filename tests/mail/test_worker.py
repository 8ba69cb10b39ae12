"""The outbox email worker: delivery over real SMTP, retries with backoff, FAILED, .eml fallback,
the in-process worker of the app and `portal worker`."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from typer.testing import CliRunner

from portal.app import create_app
from portal.cli import cli
from portal.mail import deliver_due
from portal.mail.worker import retry_delay
from portal.models import OutboxMessage
from portal.models.base import utcnow
from portal.models.db import AccountScope, create_engine, create_sessionmaker, scoped_session
from portal.models.enums import OutboxStatus
from portal.resolvers.outbox import enqueue_email, enqueue_webhook_event
from portal.settings import Settings
from tests.support.mail import Inbox, body_of, serve_inbox, smtp_settings
from tests.support.network import free_port
from tests.support.world import World

LINK = "http://127.0.0.1:8000/reset-password#token=abc123"


async def queue(db: AsyncSession, world: World, to: str = "admin@acme.example") -> OutboxMessage:
    message = enqueue_email(
        session=db,
        account_id=world.acme.id,
        topic="password_reset",
        to=to,
        subject="Reset your password",
        text=f"Open this link to choose a new password:\n{LINK}\n",
    )
    await db.commit()
    return message


async def reload(db: AsyncSession, message: OutboxMessage) -> OutboxMessage:
    row = await db.get(OutboxMessage, message.id, populate_existing=True)
    assert row is not None
    return row


async def test_delivers_a_due_email_over_smtp(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
    world: World,
) -> None:
    # Given a queued email
    message = await queue(db, world)
    # When the worker runs once
    report = await deliver_due(sessionmaker=sessionmaker, settings=mail_settings)
    # Then the SMTP server received it, and the row says DELIVERED
    assert (report.delivered, report.retrying, report.failed) == (1, 0, 0)
    [received] = inbox.messages
    assert received["To"] == "admin@acme.example"
    assert received["Subject"] == "Reset your password"
    assert received["From"] == mail_settings.mail_from
    assert received["Message-ID"] == f"<{message.id.hex}@portal.example>"
    assert LINK in body_of(received)
    row = await reload(db, message)
    assert row.status is OutboxStatus.DELIVERED
    assert row.delivered_at is not None
    assert row.attempts == 1
    assert row.last_error is None
    # And a second run sends nothing again
    assert (await deliver_due(sessionmaker=sessionmaker, settings=mail_settings)).attempted == 0
    assert len(inbox.messages) == 1


async def test_leaves_webhooks_and_messages_not_yet_due(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
    world: World,
) -> None:
    # Given a webhook event and an email whose next attempt is later
    webhook = enqueue_webhook_event(
        session=db, account_id=world.acme.id, topic="document.posted", data={"id": "x"}
    )
    later = await queue(db, world)
    later.next_attempt_at = utcnow() + timedelta(minutes=5)
    db.add(later)
    await db.commit()
    # When the worker runs
    report = await deliver_due(sessionmaker=sessionmaker, settings=mail_settings)
    # Then neither was touched
    assert report.attempted == 0
    assert inbox.messages == []
    assert (await reload(db, webhook)).attempts == 0
    assert (await reload(db, later)).status is OutboxStatus.PENDING


async def test_retries_with_backoff_then_fails_on_a_closed_port(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: World,
) -> None:
    # Given an SMTP host whose port nobody listens on, and three attempts at most
    closed = smtp_settings(
        settings,
        free_port(),
        mail_max_attempts=3,
        mail_retry_base_seconds=60,
        smtp_timeout_seconds=5,
    )
    message = await queue(db, world)
    # When the first attempt fails
    before = utcnow()
    report = await deliver_due(sessionmaker=sessionmaker, settings=closed)
    # Then it waits one base delay, with the error recorded
    assert report.retrying == 1
    row = await reload(db, message)
    assert row.status is OutboxStatus.PENDING
    assert row.attempts == 1
    assert row.last_error
    assert "SMTPConnect" in row.last_error
    assert before + timedelta(seconds=60) <= row.next_attempt_at <= utcnow() + timedelta(seconds=61)
    # And it is not retried before then
    assert (await deliver_due(sessionmaker=sessionmaker, settings=closed)).attempted == 0
    # When the second attempt (once due) fails, the wait doubles
    second_try = row.next_attempt_at + timedelta(seconds=1)
    assert (await deliver_due(sessionmaker=sessionmaker, settings=closed, now=second_try)).retrying
    row = await reload(db, message)
    assert row.attempts == 2
    assert row.next_attempt_at - utcnow() > timedelta(seconds=115)
    # When the last attempt fails, the message is FAILED and never tried again
    third_try = row.next_attempt_at + timedelta(seconds=1)
    report = await deliver_due(sessionmaker=sessionmaker, settings=closed, now=third_try)
    assert report.failed == 1
    row = await reload(db, message)
    assert row.status is OutboxStatus.FAILED
    assert row.attempts == 3
    assert row.delivered_at is None
    far_future = third_try + timedelta(days=30)
    assert (
        await deliver_due(sessionmaker=sessionmaker, settings=closed, now=far_future)
    ).attempted == 0


async def test_a_temporary_refusal_counts_as_a_failed_attempt_retried_later(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: World,
) -> None:
    # Given an SMTP server that refuses every recipient for now (4xx)
    with serve_inbox(refuse=True, refusal="450 4.2.1 mailbox busy, try later") as refusing:
        message = await queue(db, world)
        # When the worker runs
        report = await deliver_due(
            sessionmaker=sessionmaker, settings=smtp_settings(settings, refusing.port)
        )
    # Then the attempt is recorded with the server's answer, and retried later
    assert report.retrying == 1
    assert refusing.messages == []
    row = await reload(db, message)
    assert row.status is OutboxStatus.PENDING
    assert row.attempts == 1
    assert row.last_error is not None
    assert "450" in row.last_error


async def test_a_permanent_refusal_fails_at_once(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: World,
) -> None:
    # Given an SMTP server that refuses the recipient for good (5xx)
    with serve_inbox(refuse=True, refusal="550 5.1.1 no such mailbox") as refusing:
        message = await queue(db, world)
        # When the worker runs once
        report = await deliver_due(
            sessionmaker=sessionmaker, settings=smtp_settings(settings, refusing.port)
        )
    # Then the message failed after that one attempt, not retried for hours
    assert (report.failed, report.retrying) == (1, 0)
    row = await reload(db, message)
    assert row.status is OutboxStatus.FAILED
    assert row.attempts == 1
    assert row.last_error is not None
    assert "550" in row.last_error


def test_backoff_is_exponential_and_capped(settings: Settings) -> None:
    tuned = settings.model_copy(
        update={"mail_retry_base_seconds": 30, "mail_retry_max_seconds": 3600}
    )
    delays = [retry_delay(tuned, attempts).total_seconds() for attempts in range(1, 10)]
    assert delays[:5] == [30, 60, 120, 240, 480]
    assert delays[-1] == 3600


async def test_without_smtp_host_writes_eml_files_and_logs_the_link(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: World,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given no SMTP host
    # (a fresh Settings: a copy would keep the cached data folder of the original)
    offline = Settings(
        environment="development", database_url=settings.database_url, data_dir=tmp_path
    )
    assert offline.smtp_host is None
    message = await queue(db, world)
    # When the worker runs (in development: the log shows the link)
    with caplog.at_level(logging.WARNING, logger="portal.mail"):
        report = await deliver_due(sessionmaker=sessionmaker, settings=offline)
    # Then the message is an .eml file under <data_dir>/mail, and the log shows its link
    assert report.delivered == 1
    path = tmp_path / "mail" / f"{message.id.hex}.eml"
    assert path.exists()
    text = path.read_text()
    assert "To: admin@acme.example" in text
    assert "Subject: Reset your password" in text
    assert LINK in caplog.text
    assert (await reload(db, message)).status is OutboxStatus.DELIVERED


async def test_outside_development_the_file_transport_never_logs_the_link(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    world: World,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Given no SMTP host on an instance that is not a development machine
    offline = Settings(environment="test", database_url=settings.database_url, data_dir=tmp_path)
    await queue(db, world)
    # When the worker writes the message as a file
    with caplog.at_level(logging.DEBUG, logger="portal.mail"):
        report = await deliver_due(sessionmaker=sessionmaker, settings=offline)
    # Then the log names the file but never the link and its one-time token
    assert report.delivered == 1
    assert "no SMTP server configured" in caplog.text
    assert LINK not in caplog.text
    assert "token" not in caplog.text


async def test_the_app_runs_the_worker_and_stops_it_at_shutdown(
    settings: Settings, world: World
) -> None:
    # Given a committed email and an app whose in-process worker polls often
    assert settings.database_url
    engine = create_engine(settings.database_url, pool_size=1, max_overflow=1)
    committed = create_sessionmaker(engine)
    message_id = uuid.uuid4()
    with serve_inbox() as inbox:
        app = create_app(
            smtp_settings(
                settings, inbox.port, mail_worker_enabled=True, mail_poll_interval_seconds=0.05
            )
        )
        try:
            async with scoped_session(committed, AccountScope.everything()) as session:
                enqueue_email(
                    session=session,
                    account_id=world.acme.id,
                    topic="test",
                    to="admin@acme.example",
                    subject="In-process",
                    text="Delivered by the app's own worker.",
                ).id = message_id
                await session.commit()
            # When the app runs for a moment
            async with app.router.lifespan_context(app):
                assert app.state.mail_worker.running
                for _ in range(200):
                    if inbox.messages:
                        break
                    await asyncio.sleep(0.05)
            # Then the message arrived, and the worker ended with the app
            assert [m["Subject"] for m in inbox.messages] == ["In-process"]
            assert not app.state.mail_worker.running
            async with scoped_session(committed, AccountScope.everything()) as session:
                status = await session.scalar(
                    sa.select(col(OutboxMessage.status)).where(col(OutboxMessage.id) == message_id)
                )
                assert status is OutboxStatus.DELIVERED
        finally:
            async with scoped_session(committed, AccountScope.everything()) as session:
                await session.execute(
                    sa.delete(OutboxMessage).where(col(OutboxMessage.id) == message_id)
                )
                await session.commit()
            await engine.dispose()


def test_portal_worker_once_delivers_due_email(
    settings: Settings, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a committed email and `portal worker` configured for a loopback SMTP server
    assert settings.database_url
    message_id = uuid.uuid4()

    async def change(statement: sa.Executable | None = None) -> OutboxStatus | None:
        assert settings.database_url
        engine = create_engine(settings.database_url, pool_size=1, max_overflow=0)
        try:
            async with scoped_session(
                create_sessionmaker(engine), AccountScope.everything()
            ) as session:
                if statement is not None:
                    await session.execute(statement)
                    await session.commit()
                    return None
                return await session.scalar(
                    sa.select(col(OutboxMessage.status)).where(col(OutboxMessage.id) == message_id)
                )
        finally:
            await engine.dispose()

    asyncio.run(
        change(
            sa.insert(OutboxMessage).values(
                id=message_id,
                account_id=world.acme.id,
                channel="EMAIL",
                topic="test",
                payload={"to": "basic@acme.example", "subject": "From the CLI", "text": "Hi"},
            )
        )
    )
    try:
        with serve_inbox() as inbox:
            for key, value in {
                "PORTAL_DATABASE_URL": settings.database_url,
                "PORTAL_DATA_DIR": str(settings.data_dir),
                "PORTAL_SMTP_HOST": "127.0.0.1",
                "PORTAL_SMTP_PORT": str(inbox.port),
                "PORTAL_SMTP_STARTTLS": "false",
            }.items():
                monkeypatch.setenv(key, value)
            # When it runs once
            result = CliRunner().invoke(cli, ["worker", "--once"])
        # Then the message was delivered and the command says so
        assert result.exit_code == 0, result.output
        assert "delivered 1" in result.output
        assert [m["Subject"] for m in inbox.messages] == ["From the CLI"]
        assert asyncio.run(change()) is OutboxStatus.DELIVERED
    finally:
        asyncio.run(change(sa.delete(OutboxMessage).where(col(OutboxMessage.id) == message_id)))
