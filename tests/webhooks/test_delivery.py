"""Delivering webhook events to a real receiver on loopback: Standard Webhooks signatures checked
with the `standardwebhooks` package, retries after a 500 and after a timeout, backoff, FAILED,
per-endpoint ordering, no redirects, the 1 KB excerpt, SSRF at delivery time, and fan-out only to
the accounts that may see the object."""

from __future__ import annotations

import ssl
from datetime import timedelta
from ipaddress import ip_network
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import standardwebhooks
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from portal.ids import global_id
from portal.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from portal.models.base import utcnow
from portal.models.enums import WebhookDeliveryStatus, WebhookDisabledReason
from portal.settings import Settings
from portal.webhooks.worker import deliver_due, fan_out, retry_delay
from tests.support.graphql import GraphQLClient
from tests.support.receiver import Receiver, Reply, self_signed, serve_receiver
from tests.support.world import World
from tests.webhooks.conftest import add_endpoint, add_event

CREATE = """
mutation ($input: CreateWebhookInput!) {
  createWebhook(input: $input) { webhook { id } secret userErrors { field code message } }
}"""
UPDATE_STATUS = """
mutation ($input: UpdateVisitStatusInput!) {
  updateVisitStatus(input: $input) { visit { id status } userErrors { code } }
}"""
NODE = "query ($id: ID!) { node(id: $id) { id ... on Visit { status } } }"


async def deliveries(db: AsyncSession, endpoint: WebhookEndpoint) -> list[WebhookDelivery]:
    rows = await db.scalars(
        sa.select(WebhookDelivery)
        .where(col(WebhookDelivery.endpoint_id) == endpoint.id)
        .order_by(col(WebhookDelivery.sequence))
        .execution_options(populate_existing=True)
    )
    return list(rows)


async def attempts(db: AsyncSession, delivery: WebhookDelivery) -> list[WebhookAttempt]:
    rows = await db.scalars(
        sa.select(WebhookAttempt)
        .where(col(WebhookAttempt.delivery_id) == delivery.id)
        .order_by(col(WebhookAttempt.attempted_at))
    )
    return list(rows)


async def test_a_change_reaches_the_receiver_signed_with_ids_the_api_resolves(
    admin_client: GraphQLClient,
    staff_client: GraphQLClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    hook_settings: Settings,
    receiver: Receiver,
    world: World,
) -> None:
    # Given Acme's admin registered an endpoint for visit status changes
    created = (
        await admin_client(
            CREATE,
            {"input": {"url": receiver.url(), "events": ["VISIT_STATUS_CHANGED"]}},
        )
    ).ok()["createWebhook"]
    assert created["userErrors"] == []
    secret = created["secret"]
    # When staff complete one of Acme's visits, and the worker runs
    visit_id = global_id("Visit", world.results.alice_physical.id)
    changed = await staff_client(UPDATE_STATUS, {"input": {"id": visit_id, "status": "COMPLETE"}})
    assert changed.ok()["updateVisitStatus"]["userErrors"] == []
    report = await deliver_due(sessionmaker=sessionmaker, settings=hook_settings)
    # Then the receiver got one POST whose signature the standardwebhooks library accepts
    assert (report.fanned_out, report.delivered) == (1, 1)
    [request] = receiver.requests
    assert request.headers["content-type"] == "application/json"
    verified = standardwebhooks.Webhook(secret).verify(request.body, request.headers)
    # And the body names the event, the account and the visit by the API's ids, nothing more
    assert verified["type"] == "visit.status_changed"
    assert verified["id"] == request.webhook_id
    assert verified["account"] == {"id": global_id("Account", world.acme.id)}
    assert verified["data"] == {"visitId": visit_id, "from": "RESULTS_PENDING", "to": "COMPLETE"}
    for phi in ("Alice", "Smith", "1985"):
        assert phi not in request.body.decode()
    # And `node(id:)` fetches what the event names
    node = (await admin_client(NODE, {"id": verified["data"]["visitId"]})).ok()["node"]
    assert node == {"id": visit_id, "status": "COMPLETE"}
    # And a tampered body fails verification
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(secret).verify(request.body + b" ", request.headers)


async def test_retries_after_a_500_with_exponential_backoff_then_delivers(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    hook_settings: Settings,
    receiver: Receiver,
    world: World,
) -> None:
    # Given an endpoint that answers 500 twice, then 200
    endpoint = await add_endpoint(db, world.acme.id, receiver.url())
    await add_event(db, world.acme.id)
    receiver.respond(Reply(500, b"upstream down"), Reply(503, b"still down"))
    # When the worker runs
    start = utcnow()
    report = await deliver_due(sessionmaker=sessionmaker, settings=hook_settings, now=start)
    # Then the attempt is logged and retried after the base delay (60 s)
    assert report.retrying == 1
    [delivery] = await deliveries(db, endpoint)
    assert delivery.status is WebhookDeliveryStatus.PENDING
    assert delivery.next_attempt_at == start + timedelta(seconds=60)
    [first] = await attempts(db, delivery)
    assert (first.status_code, first.response_excerpt) == (500, "upstream down")
    assert first.error == "the endpoint answered HTTP 500"
    assert first.latency_ms is not None
    # And nothing is sent before then
    early = start + timedelta(seconds=59)
    assert (await deliver_due(sessionmaker=sessionmaker, settings=hook_settings, now=early)) == (
        type(report)()
    )
    # When the second attempt fails too, the wait doubles
    second = start + timedelta(seconds=60)
    await deliver_due(sessionmaker=sessionmaker, settings=hook_settings, now=second)
    [delivery] = await deliveries(db, endpoint)
    assert delivery.next_attempt_at == second + timedelta(seconds=120)
    # And the third attempt delivers it
    third = second + timedelta(seconds=120)
    report = await deliver_due(sessionmaker=sessionmaker, settings=hook_settings, now=third)
    assert report.delivered == 1
    [delivery] = await deliveries(db, endpoint)
    assert delivery.status is WebhookDeliveryStatus.DELIVERED
    assert delivery.attempts == 3
    assert [a.status_code for a in await attempts(db, delivery)] == [500, 503, 200]
    # And every attempt carried the same webhook-id, for the receiver to deduplicate
    assert len({request.webhook_id for request in receiver.requests}) == 1
    assert len(receiver.requests) == 3


async def test_a_timeout_is_a_failed_attempt_retried_later(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    hook_settings: Settings,
    receiver: Receiver,
    world: World,
) -> None:
    # Given an endpoint that answers later than the read timeout (0.5 s) once
    endpoint = await add_endpoint(db, world.acme.id, receiver.url())
    await add_event(db, world.acme.id)
    receiver.respond(Reply(200, delay=1.5))
    start = utcnow()
    # When the worker runs
    report = await deliver_due(sessionmaker=sessionmaker, settings=hook_settings, now=start)
    # Then the attempt timed out and waits for a retry
    assert report.retrying == 1
    [delivery] = await deliveries(db, endpoint)
    [attempt] = await attempts(db, delivery)
    assert attempt.status_code is None
    assert attempt.error is not None
    assert attempt.error.startswith("timed out")
    # And the retry delivers it
    later = start + timedelta(seconds=60)
    assert (
        await deliver_due(sessionmaker=sessionmaker, settings=hook_settings, now=later)
    ).delivered == 1


async def test_the_last_allowed_attempt_marks_the_delivery_failed(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    hook_settings: Settings,
    receiver: Receiver,
    world: World,
) -> None:
    # Given two attempts at most, and an endpoint that always fails
    limited = hook_settings.model_copy(update={"webhook_max_attempts": 2})
    receiver.default = Reply(500)
    endpoint = await add_endpoint(db, world.acme.id, receiver.url())
    await add_event(db, world.acme.id)
    start = utcnow()
    # When both attempts fail
    await deliver_due(sessionmaker=sessionmaker, settings=limited, now=start)
    report = await deliver_due(
        sessionmaker=sessionmaker, settings=limited, now=start + timedelta(seconds=60)
    )
    # Then the delivery is FAILED and never tried again
    assert report.failed == 1
    [delivery] = await deliveries(db, endpoint)
    assert delivery.status is WebhookDeliveryStatus.FAILED
    assert delivery.last_error == "the endpoint answered HTTP 500"
    much_later = start + timedelta(days=3)
    assert (
        await deliver_due(sessionmaker=sessionmaker, settings=limited, now=much_later)
    ).attempted == 0
    assert len(receiver.requests) == 2


def test_backoff_is_exponential_capped_and_jittered(settings: Settings) -> None:
    plain = settings.model_copy(
        update={
            "webhook_retry_base_seconds": 60,
            "webhook_retry_max_seconds": 8 * 3600,
            "webhook_retry_jitter": 0.0,
        }
    )
    delays = [retry_delay(plain, n).total_seconds() for n in range(1, 13)]
    assert delays[:5] == [60, 120, 240, 480, 960]
    assert delays[-1] == 8 * 3600
    jittered = plain.model_copy(update={"webhook_retry_jitter": 0.2})
    samples = {retry_delay(jittered, 3).total_seconds() for _ in range(50)}
    assert all(240 * 0.8 <= s <= 240 * 1.2 for s in samples)
    assert len(samples) > 1


async def test_a_later_event_waits_while_an_earlier_one_is_retrying(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    hook_settings: Settings,
    receiver: Receiver,
    world: World,
) -> None:
    # Given two endpoints, the first failing once, and two events in order
    slow = await add_endpoint(db, world.acme.id, receiver.url("/slow"))
    await add_endpoint(db, world.acme.id, receiver.url("/fine"))
    first = await add_event(db, world.acme.id, data={"n": 1})
    second = await add_event(db, world.acme.id, data={"n": 2})
    # The first request to /slow fails (the worker may reach /fine first: the order of the two
    # endpoints' deliveries is not part of the contract).
    receiver.respond_on("/slow", Reply(500))
    start = utcnow()
    # When the worker runs a few rounds before the retry is due
    for _ in range(3):
        await deliver_due(sessionmaker=sessionmaker, settings=hook_settings, now=start)
    # Then the healthy endpoint got both, in order; the failing one only the first attempt
    assert [body["data"]["n"] for body in receiver.bodies("/fine")] == [1, 2]
    assert [body["data"]["n"] for body in receiver.bodies("/slow")] == [1]
    # When the retry is due, the first event goes, and only then the second
    due = start + timedelta(seconds=60)
    await deliver_due(sessionmaker=sessionmaker, settings=hook_settings, now=due)
    assert [body["data"]["n"] for body in receiver.bodies("/slow")] == [1, 1]
    await deliver_due(sessionmaker=sessionmaker, settings=hook_settings, now=due)
    assert [body["data"]["n"] for body in receiver.bodies("/slow")] == [1, 1, 2]
    assert [d.status for d in await deliveries(db, slow)] == [WebhookDeliveryStatus.DELIVERED] * 2
    assert [d.event_id for d in await deliveries(db, slow)] == [
        f"evt_{first.id.hex}",
        f"evt_{second.id.hex}",
    ]


async def test_redirects_are_not_followed_and_only_a_kilobyte_is_kept(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    hook_settings: Settings,
    receiver: Receiver,
    world: World,
) -> None:
    # Given an endpoint that redirects, then answers 200 with a large body
    endpoint = await add_endpoint(db, world.acme.id, receiver.url())
    await add_event(db, world.acme.id)
    receiver.respond(
        Reply(307, b"moved", headers={"location": receiver.url("/elsewhere")}),
        Reply(200, "é".encode() * 3000),
    )
    start = utcnow()
    # When the worker runs twice
    await deliver_due(sessionmaker=sessionmaker, settings=hook_settings, now=start)
    await deliver_due(
        sessionmaker=sessionmaker, settings=hook_settings, now=start + timedelta(seconds=60)
    )
    # Then the redirect was a failed attempt, never followed
    assert [r.path for r in receiver.requests] == ["/hooks", "/hooks"]
    [delivery] = await deliveries(db, endpoint)
    redirected, accepted = await attempts(db, delivery)
    assert redirected.status_code == 307
    assert redirected.error == "the endpoint answered HTTP 307 (redirects are not followed)"
    # And of the large answer at most 1 KB is kept
    assert accepted.status_code == 200
    assert accepted.response_excerpt is not None
    assert 1000 <= len(accepted.response_excerpt.encode()) <= 1024


@pytest.mark.parametrize(
    ("host", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("10.20.30.40", "private"),
        ("192.168.1.20", "private"),
        ("169.254.1.1", "link-local"),
        ("169.254.169.254", "cloud-metadata"),
        ("[fd00:ec2::254]", "cloud-metadata"),
    ],
)
async def test_the_address_is_checked_again_at_delivery(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    hook_settings: Settings,
    receiver: Receiver,
    world: World,
    host: str,
    kind: str,
) -> None:
    # Given an endpoint stored for an internal address (registered while a setting allowed it)
    endpoint = await add_endpoint(db, world.acme.id, f"http://{host}:{receiver.port}/hooks")
    await add_event(db, world.acme.id)
    strict = hook_settings.model_copy(update={"webhook_allowed_networks": []})
    # When the worker runs where internal addresses are not allowed
    report = await deliver_due(sessionmaker=sessionmaker, settings=strict)
    # Then nothing is sent (no connection is even opened), and the attempt says why
    assert report.retrying == 1
    assert receiver.requests == []
    [delivery] = await deliveries(db, endpoint)
    [attempt] = await attempts(db, delivery)
    assert attempt.status_code is None
    assert attempt.error is not None
    assert f"a {kind} address" in attempt.error


async def test_an_endpoint_gets_only_events_about_objects_its_account_may_see(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    hook_settings: Settings,
    receiver: Receiver,
    world: World,
) -> None:
    # Given endpoints of Acme, Globex, Northwind (a TPA) and Contoso (Northwind's client)
    for name, account in (
        ("acme", world.acme),
        ("globex", world.globex),
        ("northwind", world.northwind),
        ("contoso", world.contoso),
    ):
        await add_endpoint(db, account.id, receiver.url(f"/{name}"))
    # And one with no interest in visits
    await add_endpoint(db, world.acme.id, receiver.url("/acme-docs"), events=["document.posted"])
    # When an event about an Acme object and one about a Contoso object are delivered
    await add_event(db, world.acme.id, data={"of": "acme"})
    await add_event(db, world.contoso.id, data={"of": "contoso"})
    for _ in range(3):
        await deliver_due(sessionmaker=sessionmaker, settings=hook_settings)
    # Then each endpoint received exactly what its account may see
    received = {
        path: [body["data"]["of"] for body in receiver.bodies(path)]
        for path in ("/acme", "/globex", "/northwind", "/contoso", "/acme-docs")
    }
    assert received == {
        "/acme": ["acme"],
        "/globex": [],
        "/northwind": ["contoso"],
        "/contoso": ["contoso"],
        "/acme-docs": [],
    }
    # And the body names the object's own account, also for the administrator's endpoint
    [tpa_body] = receiver.bodies("/northwind")
    assert tpa_body["account"] == {"id": global_id("Account", world.contoso.id)}


async def test_a_disabled_endpoint_receives_nothing_new_and_resumes_in_order(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    hook_settings: Settings,
    receiver: Receiver,
    world: World,
) -> None:
    # Given an endpoint with one waiting event, turned off
    endpoint = await add_endpoint(db, world.acme.id, receiver.url())
    await add_event(db, world.acme.id, data={"n": 1})
    await deliver_due(sessionmaker=sessionmaker, settings=hook_settings, limit=1)
    receiver.requests.clear()
    await add_event(db, world.acme.id, data={"n": 2})
    assert await fan_out(sessionmaker=sessionmaker, now=utcnow(), limit=10) == 1
    endpoint.enabled = False
    endpoint.disabled_reason = WebhookDisabledReason.MANUAL
    db.add(endpoint)
    await db.commit()
    # When the worker runs: the waiting event is kept, nothing is sent
    await deliver_due(sessionmaker=sessionmaker, settings=hook_settings)
    assert receiver.requests == []
    # And an event while it is off is not queued for it
    await add_event(db, world.acme.id, data={"n": 3})
    await deliver_due(sessionmaker=sessionmaker, settings=hook_settings)
    # When it is turned on again, the waiting event goes
    endpoint.enabled = True
    endpoint.disabled_reason = None
    db.add(endpoint)
    await db.commit()
    await deliver_due(sessionmaker=sessionmaker, settings=hook_settings)
    assert [body["data"]["n"] for body in receiver.bodies()] == [2]


async def test_https_goes_to_the_checked_address_with_the_host_name_verified(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    hook_settings: Settings,
    world: World,
    tmp_path: Path,
) -> None:
    # Given an https receiver whose certificate names "localhost", trusted by the sender
    cert, key = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    trusting = ssl.create_default_context(cafile=str(cert))
    loopback = hook_settings.model_copy(
        update={"webhook_allowed_networks": [ip_network("127.0.0.0/8"), ip_network("::1/128")]}
    )
    with serve_receiver(tls=server_tls) as receiver:
        # And endpoints addressed by that name, and by an address the certificate does not name
        await add_endpoint(db, world.acme.id, receiver.url("/named", host="localhost"))
        wrong = await add_endpoint(db, world.acme.id, receiver.url("/wrong"))
        await add_event(db, world.acme.id)
        # When the worker delivers over https
        async with httpx.AsyncClient(
            verify=trusting, follow_redirects=False, trust_env=False
        ) as client:
            report = await deliver_due(sessionmaker=sessionmaker, settings=loopback, client=client)
        # Then the named endpoint got it, with its own host name in the Host header
        assert report.delivered == 1
        [request] = receiver.requests
        assert request.path == "/named"
        assert request.headers["host"] == f"localhost:{receiver.port}"
        # And the other failed certificate verification (nothing was sent there)
        [delivery] = await deliveries(db, wrong)
        [attempt] = await attempts(db, delivery)
        assert attempt.status_code is None
        assert attempt.error is not None
        assert "CERTIFICATE_VERIFY_FAILED" in attempt.error or "certificate" in attempt.error
