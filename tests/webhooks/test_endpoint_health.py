"""An endpoint over time: disabled after a day of failures with its admins emailed over real
SMTP, secret rotation (both signatures during the grace period), test events, and the
`authorization.expired` job."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
import standardwebhooks
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from portal.ids import global_id
from portal.mail import deliver_due as deliver_mail
from portal.models import AuditEvent, Authorization, OutboxMessage, WebhookEndpoint
from portal.models.base import utcnow
from portal.models.enums import (
    ActorType,
    AuthorizationState,
    Modality,
    OutboxChannel,
    WebhookDeliveryStatus,
    WebhookDisabledReason,
)
from portal.settings import Settings
from portal.webhooks.worker import deliver_due, expire_authorizations, purge_delivery_log
from tests.support.graphql import GraphQLClient
from tests.support.mail import body_of, serve_inbox, smtp_settings
from tests.support.receiver import Receiver, Reply
from tests.support.world import World
from tests.webhooks.conftest import add_endpoint, add_event
from tests.webhooks.test_delivery import CREATE, deliveries

ROTATE = """
mutation ($id: ID!) {
  rotateWebhookSecret(input: {id: $id}) {
    secret webhook { previousSecretExpiresAt } userErrors { code }
  }
}"""
SEND_TEST = """
mutation ($id: ID!) {
  sendTestWebhook(input: {webhookId: $id}) {
    delivery { id eventType test status event } userErrors { field code }
  }
}"""


async def reload(db: AsyncSession, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    row = await db.get(WebhookEndpoint, endpoint.id, populate_existing=True)
    assert row is not None
    return row


async def test_an_endpoint_failing_for_a_day_is_disabled_and_its_admins_emailed(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    hook_settings: Settings,
    receiver: Receiver,
    world: World,
) -> None:
    # Given an endpoint that always answers 500
    receiver.default = Reply(500)
    endpoint = await add_endpoint(db, world.acme.id, receiver.url() + "?token=s3cr3t")
    await add_event(db, world.acme.id)
    start = utcnow()
    # When it has failed for 23 hours, it is still enabled, and its failures are dated
    await deliver_due(sessionmaker=sessionmaker, settings=hook_settings, now=start)
    await deliver_due(
        sessionmaker=sessionmaker, settings=hook_settings, now=start + timedelta(hours=23)
    )
    row = await reload(db, endpoint)
    assert row.enabled
    assert row.failing_since == start
    # When it fails again past a day
    report = await deliver_due(
        sessionmaker=sessionmaker, settings=hook_settings, now=start + timedelta(hours=25)
    )
    # Then it is disabled as FAILING, and the delivery in hand is FAILED
    assert report.failed == 1
    row = await reload(db, endpoint)
    assert (row.enabled, row.disabled_reason) == (False, WebhookDisabledReason.FAILING)
    [delivery] = await deliveries(db, endpoint)
    assert delivery.status is WebhookDeliveryStatus.FAILED
    # And the system's decision is in the audit trail
    [audit] = await db.scalars(
        sa.select(AuditEvent).where(col(AuditEvent.action) == "webhook.disabled")
    )
    assert (audit.actor_type, audit.account_id) == (ActorType.SYSTEM, world.acme.id)
    assert audit.object_ids == [str(endpoint.id)]
    assert "s3cr3t" not in str(audit.details)
    # And nothing more is sent to it
    await add_event(db, world.acme.id)
    later = start + timedelta(days=2)
    assert (
        await deliver_due(sessionmaker=sessionmaker, settings=hook_settings, now=later)
    ).attempted == 0
    # And the account's User Admins (only they) get an email, read from a real SMTP server
    with serve_inbox() as inbox:
        mailed = await deliver_mail(
            sessionmaker=sessionmaker, settings=smtp_settings(hook_settings, inbox.port)
        )
    assert mailed.delivered == 1
    [message] = inbox.messages
    assert message["To"] == "admin@acme.example"
    assert message["Subject"] == "A webhook endpoint of your company was disabled"
    text = body_of(message)
    assert receiver.url() + "?…" in text
    assert "s3cr3t" not in text
    assert global_id("Webhook", endpoint.id) in text
    assert "updateWebhook" in text


async def test_a_success_ends_a_run_of_failures(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    hook_settings: Settings,
    receiver: Receiver,
    world: World,
) -> None:
    # Given an endpoint that failed once
    receiver.respond(Reply(500))
    endpoint = await add_endpoint(db, world.acme.id, receiver.url())
    await add_event(db, world.acme.id)
    start = utcnow()
    await deliver_due(sessionmaker=sessionmaker, settings=hook_settings, now=start)
    assert (await reload(db, endpoint)).failing_since == start
    # When the retry succeeds
    await deliver_due(
        sessionmaker=sessionmaker, settings=hook_settings, now=start + timedelta(hours=20)
    )
    # Then the endpoint no longer counts as failing, so a failure later starts a new day
    assert (await reload(db, endpoint)).failing_since is None


async def test_after_a_rotation_both_secrets_sign_until_the_grace_period_ends(
    admin_client: GraphQLClient,
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    hook_settings: Settings,
    receiver: Receiver,
    world: World,
) -> None:
    # Given an endpoint registered through the API, and its secret rotated
    created = (
        await admin_client(
            CREATE, {"input": {"url": receiver.url(), "events": ["VISIT_STATUS_CHANGED"]}}
        )
    ).ok()["createWebhook"]
    old_secret = created["secret"]
    rotated = (await admin_client(ROTATE, {"id": created["webhook"]["id"]})).ok()[
        "rotateWebhookSecret"
    ]
    assert rotated["userErrors"] == []
    new_secret = rotated["secret"]
    assert new_secret.startswith("whsec_")
    assert new_secret != old_secret
    assert rotated["webhook"]["previousSecretExpiresAt"] is not None
    # When an event is delivered during the grace period
    await add_event(db, world.acme.id)
    await deliver_due(sessionmaker=sessionmaker, settings=hook_settings)
    # Then it carries two signatures, and either secret verifies it
    [during] = receiver.requests
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    for secret in (old_secret, new_secret):
        standardwebhooks.Webhook(secret).verify(during.body, during.headers)
    # When an event is delivered after the grace period (24 hours)
    await add_event(db, world.acme.id)
    await deliver_due(
        sessionmaker=sessionmaker, settings=hook_settings, now=utcnow() + timedelta(hours=25)
    )
    # Then only the new secret signs it
    after = receiver.requests[1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    standardwebhooks.Webhook(new_secret).verify(after.body, after.headers)
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(old_secret).verify(after.body, after.headers)


async def test_a_test_event_is_sent_once_even_past_a_retrying_event(
    admin_client: GraphQLClient,
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    hook_settings: Settings,
    receiver: Receiver,
    world: World,
) -> None:
    # Given an endpoint whose real event is waiting to be retried
    created = (
        await admin_client(
            CREATE, {"input": {"url": receiver.url(), "events": ["VISIT_STATUS_CHANGED"]}}
        )
    ).ok()["createWebhook"]
    webhook_id = created["webhook"]["id"]
    receiver.respond(Reply(500))
    await add_event(db, world.acme.id)
    await deliver_due(sessionmaker=sessionmaker, settings=hook_settings)
    # When a test event is asked for and the worker runs
    sent = (await admin_client(SEND_TEST, {"id": webhook_id})).ok()["sendTestWebhook"]
    assert sent["userErrors"] == []
    assert sent["delivery"]["eventType"] == "webhook.test"
    assert sent["delivery"]["test"] is True
    assert sent["delivery"]["event"] is None
    assert sent["delivery"]["status"] == "PENDING"
    report = await deliver_due(sessionmaker=sessionmaker, settings=hook_settings)
    # Then it went at once, signed, naming the webhook
    assert report.delivered == 1
    test_request = receiver.requests[-1]
    body = standardwebhooks.Webhook(created["secret"]).verify(
        test_request.body, test_request.headers
    )
    assert body["type"] == "webhook.test"
    assert body["data"] == {"webhookId": webhook_id}
    # When a test event fails, it is not retried
    receiver.respond(Reply(500))
    await admin_client(SEND_TEST, {"id": webhook_id})
    assert (await deliver_due(sessionmaker=sessionmaker, settings=hook_settings)).failed == 1


async def _authorization(
    db: AsyncSession, world: World, *, valid_until: date, state: AuthorizationState, number: str
) -> Authorization:
    alice = world.results.alice_injury
    row = Authorization(
        account_id=world.acme.id,
        number=number,
        employee_id=alice.employee_id,
        location_id=alice.location_id,
        modality=Modality.IN_CENTER,
        medical_center_id=world.centers[0].id,
        valid_from=valid_until - timedelta(days=30),
        valid_until=valid_until,
        state=state,
        cancelled_at=utcnow() if state is AuthorizationState.CANCELLED else None,
    )
    db.add(row)
    await db.commit()
    return row


async def _expired_events(db: AsyncSession) -> list[OutboxMessage]:
    rows = await db.scalars(
        sa.select(OutboxMessage)
        .where(
            col(OutboxMessage.channel) == OutboxChannel.WEBHOOK,
            col(OutboxMessage.topic) == "authorization.expired",
        )
        .order_by(col(OutboxMessage.created_at))
    )
    return list(rows)


async def test_authorization_expired_is_emitted_once_per_expiry(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    hook_settings: Settings,
    receiver: Receiver,
    world: World,
) -> None:
    # Given an active authorization that ended yesterday, and used and cancelled ones too
    today = utcnow().date()
    expired = await _authorization(
        db,
        world,
        valid_until=today - timedelta(days=1),
        state=AuthorizationState.ACTIVE,
        number="T-EXP-1",
    )
    await _authorization(
        db,
        world,
        valid_until=today - timedelta(days=1),
        state=AuthorizationState.USED,
        number="T-EXP-2",
    )
    await _authorization(
        db,
        world,
        valid_until=today - timedelta(days=1),
        state=AuthorizationState.CANCELLED,
        number="T-EXP-3",
    )
    current = await _authorization(
        db, world, valid_until=today, state=AuthorizationState.ACTIVE, number="T-EXP-4"
    )
    await add_endpoint(db, world.acme.id, receiver.url(), events=["authorization.expired"])
    # When the job runs twice
    assert await expire_authorizations(sessionmaker=sessionmaker, today=today) == 1
    assert await expire_authorizations(sessionmaker=sessionmaker, today=today) == 0
    # Then one event names the expired authorization, and the row records it
    [event] = await _expired_events(db)
    assert event.account_id == world.acme.id
    assert event.payload["data"] == {
        "authorizationId": global_id("Authorization", expired.id),
        "validUntil": (today - timedelta(days=1)).isoformat(),
    }
    row = await db.get(Authorization, expired.id, populate_existing=True)
    assert row is not None
    assert row.expiry_event_valid_until == today - timedelta(days=1)
    # And the receiver gets it
    await deliver_due(sessionmaker=sessionmaker, settings=hook_settings)
    [body] = receiver.bodies()
    assert body["type"] == "authorization.expired"
    # When the still-valid one ends, and the expired one is extended and ends again
    row.valid_until = today + timedelta(days=2)
    db.add(row)
    await db.commit()
    later = today + timedelta(days=3)
    assert await expire_authorizations(sessionmaker=sessionmaker, today=later) == 2
    # Then each new expiry is announced once
    announced = {e.payload["data"]["authorizationId"] for e in (await _expired_events(db))[1:]}
    assert announced == {
        global_id("Authorization", expired.id),
        global_id("Authorization", current.id),
    }


async def test_finished_deliveries_leave_the_log_after_the_retention(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    hook_settings: Settings,
    receiver: Receiver,
    world: World,
) -> None:
    # Given a delivered event and one still waiting for a retry
    endpoint = await add_endpoint(db, world.acme.id, receiver.url())
    await add_event(db, world.acme.id, data={"n": 1})
    await deliver_due(sessionmaker=sessionmaker, settings=hook_settings)
    receiver.respond(Reply(500))
    await add_event(db, world.acme.id, data={"n": 2})
    await deliver_due(sessionmaker=sessionmaker, settings=hook_settings)
    # When the log is purged within the retention, nothing goes
    soon = utcnow() + timedelta(days=29)
    assert (
        await purge_delivery_log(sessionmaker=sessionmaker, settings=hook_settings, now=soon) == 0
    )
    # When it is purged past the retention (30 days)
    later = utcnow() + timedelta(days=31)
    removed = await purge_delivery_log(sessionmaker=sessionmaker, settings=hook_settings, now=later)
    # Then the delivered one is gone, the waiting one stays
    assert removed == 1
    assert [d.status for d in await deliveries(db, endpoint)] == [WebhookDeliveryStatus.PENDING]
