"""Managing webhooks over GraphQL: createWebhook (the secret once), Account.webhooks,
updateWebhook, rotateWebhookSecret, deleteWebhook, the delivery log, resendWebhookDelivery and
sendTestWebhook; every user error, SSRF refusals per address class, tenants and audit."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from portal.ids import global_id
from portal.models import AuditEvent, WebhookEndpoint
from portal.models.webhooks import MAX_URL_LENGTH
from portal.resolvers.webhooks.endpoints import MAX_ENDPOINTS_PER_ACCOUNT
from portal.settings import Settings
from portal.webhooks.worker import deliver_due
from tests.support.graphql import GraphQLClient
from tests.support.receiver import Receiver, Reply
from tests.support.world import World
from tests.webhooks.conftest import add_endpoint, add_event

CREATE = """
mutation ($input: CreateWebhookInput!) {
  createWebhook(input: $input) {
    secret
    webhook { id url description events enabled disabledReason createdAt }
    userErrors { field code message }
  }
}"""
UPDATE = """
mutation ($input: UpdateWebhookInput!) {
  updateWebhook(input: $input) {
    webhook { id url description events enabled disabledReason disabledAt }
    userErrors { field code message }
  }
}"""
DELETE = """
mutation ($id: ID!) {
  deleteWebhook(input: {id: $id}) { deletedWebhookId userErrors { field code } }
}"""
ROTATE = """
mutation ($id: ID!) {
  rotateWebhookSecret(input: {id: $id}) { secret userErrors { field code } }
}"""
RESEND = """
mutation ($id: ID!) {
  resendWebhookDelivery(input: {id: $id}) {
    delivery { id eventId status attemptCount } userErrors { field code }
  }
}"""
SEND_TEST = """
mutation ($id: ID!) {
  sendTestWebhook(input: {webhookId: $id}) { delivery { id } userErrors { field code } }
}"""
LIST = """
{ account { webhooks { totalCount nodes { id url events } } } }
"""
LOG = """
query ($id: ID!, $filter: WebhookDeliveryFilter, $first: Int, $after: String) {
  node(id: $id) {
    ... on Webhook {
      deliveries(first: $first, after: $after, filter: $filter) {
        totalCount
        pageInfo { hasNextPage endCursor }
        nodes {
          id eventId eventType event status attemptCount lastError deliveredAt payload
          attempts { attemptedAt statusCode latencyMs error responseExcerpt }
        }
      }
    }
  }
}"""
NODE = "query ($id: ID!) { node(id: $id) { id } }"


def _input(url: str, **extra: Any) -> dict[str, Any]:
    return {"input": {"url": url, "events": ["DOCUMENT_POSTED", "DOCUMENT_RETRACTED"], **extra}}


async def _create(client: GraphQLClient, url: str, **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = (await client(CREATE, _input(url, **extra))).ok()["createWebhook"]
    return payload


async def _endpoint_count(db: AsyncSession) -> int:
    return int(await db.scalar(sa.select(sa.func.count()).select_from(WebhookEndpoint)) or 0)


async def _audit(db: AsyncSession, action: str) -> list[AuditEvent]:
    return list(
        await db.scalars(
            sa.select(AuditEvent)
            .where(col(AuditEvent.action) == action)
            .order_by(col(AuditEvent.occurred_at))
        )
    )


async def test_create_answers_the_secret_once_and_lists_the_endpoint_without_it(
    admin_client: GraphQLClient, db: AsyncSession, receiver: Receiver, world: World
) -> None:
    # When Acme's admin registers an endpoint
    created = await _create(admin_client, receiver.url(), description="  HRIS results feed  ")
    # Then the answer holds a Standard Webhooks secret (whsec_ + 32 random bytes)
    assert created["userErrors"] == []
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    webhook = created["webhook"]
    assert webhook["url"] == receiver.url()
    assert webhook["description"] == "HRIS results feed"
    assert webhook["events"] == ["DOCUMENT_POSTED", "DOCUMENT_RETRACTED"]
    assert (webhook["enabled"], webhook["disabledReason"]) == (True, None)
    # And the account lists it, with no way to read the secret again
    listed = (await admin_client(LIST)).ok()["account"]["webhooks"]
    assert listed["totalCount"] == 1
    assert listed["nodes"][0]["id"] == webhook["id"]
    assert secret not in str(listed)
    # And the creation is audited, without the secret
    [audit] = await _audit(db, "webhook.created")
    assert audit.account_id == world.acme.id
    assert audit.actor_id == world.acme_admin.id
    assert secret not in str(audit.details)
    assert audit.details["url"] == receiver.url()


@pytest.mark.parametrize(
    ("url", "field", "code"),
    [
        ("", "url", "BAD_USER_INPUT"),
        ("https://x.example/" + "a" * MAX_URL_LENGTH, "url", "BAD_USER_INPUT"),
        ("ftp://127.0.0.1/hooks", "url", "UNSAFE_URL"),
        ("https://", "url", "UNSAFE_URL"),
        ("http://user:pass@127.0.0.1/hooks", "url", "UNSAFE_URL"),
        ("http://127.0.0.1/hooks#part", "url", "UNSAFE_URL"),
        ("not a url at all", "url", "UNSAFE_URL"),
        ("https://no-such-host.invalid/hooks", "url", "UNSAFE_URL"),
    ],
)
async def test_create_refuses_a_bad_url_and_writes_nothing(
    admin_client: GraphQLClient, db: AsyncSession, url: str, field: str, code: str
) -> None:
    # When the URL is unusable
    payload = await _create(admin_client, url)
    # Then a user error names it, and nothing is written
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, code)]
    assert payload["webhook"] is None
    assert payload["secret"] is None
    assert await _endpoint_count(db) == 0


@pytest.mark.parametrize(
    ("extra", "field", "code"),
    [
        ({"events": []}, "events", "BAD_USER_INPUT"),
        ({"events": ["DOCUMENT_POSTED"] * 21}, "events", "BAD_USER_INPUT"),
        ({"description": "x" * 501}, "description", "BAD_USER_INPUT"),
    ],
)
async def test_create_refuses_bad_events_or_description(
    admin_client: GraphQLClient,
    db: AsyncSession,
    receiver: Receiver,
    extra: dict[str, Any],
    field: str,
    code: str,
) -> None:
    payload = await _create(admin_client, receiver.url(), **extra)
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, code)]
    assert await _endpoint_count(db) == 0


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("https://127.0.0.1/hooks", "loopback"),
        ("https://127.8.9.10/hooks", "loopback"),
        ("https://[::1]/hooks", "loopback"),
        ("https://[::ffff:127.0.0.1]/hooks", "loopback"),
        ("https://localhost/hooks", "loopback"),
        ("https://10.1.2.3/hooks", "private"),
        ("https://172.16.5.4/hooks", "private"),
        ("https://192.168.0.10/hooks", "private"),
        ("https://[fd12:3456::1]/hooks", "private"),
        ("https://100.64.1.1/hooks", "private"),
        ("https://169.254.10.20/hooks", "link-local"),
        ("https://[fe80::1]/hooks", "link-local"),
        ("https://169.254.169.254/latest/meta-data", "cloud-metadata"),
        ("https://[fd00:ec2::254]/latest", "cloud-metadata"),
        ("https://100.100.100.200/latest", "cloud-metadata"),
        ("https://0.0.0.0/hooks", "non-routable"),
    ],
)
async def test_internal_addresses_are_refused_at_registration(
    admin_client: GraphQLClient, db: AsyncSession, strict: Settings, url: str, kind: str
) -> None:
    # Given production's safety settings, When an internal address is registered
    payload = await _create(admin_client, url)
    # Then it is refused with the address class, and nothing is written
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == ("url", "UNSAFE_URL")
    assert f"a {kind} address" in error["message"]
    assert await _endpoint_count(db) == 0


async def test_https_only_in_production_and_public_addresses_are_accepted(
    admin_client: GraphQLClient, db: AsyncSession, strict: Settings, app: Any
) -> None:
    # Given production, where the http setting is ignored
    app.state.graphql.settings = strict.model_copy(
        update={"environment": "production", "webhook_allow_http": True}
    )
    # When an http URL is registered, Then it is refused
    refused = await _create(admin_client, "http://93.184.215.14/hooks")
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [("url", "UNSAFE_URL")]
    # And an https URL at a public address is accepted (nothing is sent at registration)
    accepted = await _create(admin_client, "https://93.184.215.14/hooks")
    assert accepted["userErrors"] == []
    assert await _endpoint_count(db) == 1


async def test_an_account_has_a_bounded_number_of_webhooks(
    admin_client: GraphQLClient, db: AsyncSession, receiver: Receiver
) -> None:
    for n in range(MAX_ENDPOINTS_PER_ACCOUNT):
        assert (await _create(admin_client, receiver.url(f"/{n}")))["userErrors"] == []
    payload = await _create(admin_client, receiver.url("/one-too-many"))
    assert [e["code"] for e in payload["userErrors"]] == ["LIMIT_REACHED"]
    assert await _endpoint_count(db) == MAX_ENDPOINTS_PER_ACCOUNT


async def test_an_api_client_subscribes_only_to_objects_its_scopes_read(
    webhooks_api_client: GraphQLClient, db: AsyncSession, receiver: Receiver
) -> None:
    # Given an API client holding visits:read and webhooks:manage
    # When it subscribes to visit events, Then it may
    allowed = (
        await webhooks_api_client(
            CREATE, {"input": {"url": receiver.url(), "events": ["VISIT_STATUS_CHANGED"]}}
        )
    ).ok()["createWebhook"]
    assert allowed["userErrors"] == []
    # When it subscribes to documents (no documents:read) or support requests, Then it may not
    for events in (["DOCUMENT_POSTED"], ["SUPPORT_REQUEST_STATUS_CHANGED"]):
        refused = (
            await webhooks_api_client(CREATE, {"input": {"url": receiver.url(), "events": events}})
        ).ok()["createWebhook"]
        assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [("events", "FORBIDDEN")]
    assert await _endpoint_count(db) == 1


async def test_update_changes_what_is_given_and_is_audited(
    admin_client: GraphQLClient, db: AsyncSession, receiver: Receiver
) -> None:
    # Given an endpoint
    webhook_id = (await _create(admin_client, receiver.url()))["webhook"]["id"]
    # When its URL and events change and it is turned off
    changed = (
        await admin_client(
            UPDATE,
            {
                "input": {
                    "id": webhook_id,
                    "url": receiver.url("/v2"),
                    "events": ["AUTHORIZATION_EXPIRED", "DOCUMENT_POSTED"],
                    "enabled": False,
                }
            },
        )
    ).ok()["updateWebhook"]
    # Then it answers the changed endpoint, events in catalog order, disabled by hand
    assert changed["userErrors"] == []
    webhook = changed["webhook"]
    assert webhook["url"] == receiver.url("/v2")
    assert webhook["events"] == ["DOCUMENT_POSTED", "AUTHORIZATION_EXPIRED"]
    assert (webhook["enabled"], webhook["disabledReason"]) == (False, "MANUAL")
    assert webhook["disabledAt"] is not None
    [audit] = await _audit(db, "webhook.updated")
    assert audit.details["changed"] == ["url", "events", "enabled"]
    # When it is turned on again
    on = (await admin_client(UPDATE, {"input": {"id": webhook_id, "enabled": True}})).ok()
    assert on["updateWebhook"]["webhook"]["disabledReason"] is None
    # And an unsafe URL is refused without changing anything
    unsafe = (
        await admin_client(UPDATE, {"input": {"id": webhook_id, "url": "ftp://127.0.0.1/"}})
    ).ok()["updateWebhook"]
    assert [(e["field"], e["code"]) for e in unsafe["userErrors"]] == [("url", "UNSAFE_URL")]
    row = await db.scalar(sa.select(WebhookEndpoint))
    assert row is not None
    await db.refresh(row)
    assert row.url == receiver.url("/v2")


async def test_another_accounts_webhook_answers_like_an_unknown_one(
    admin_client: GraphQLClient, globex_client: GraphQLClient, db: AsyncSession, receiver: Receiver
) -> None:
    # Given Acme's endpoint
    webhook_id = (await _create(admin_client, receiver.url()))["webhook"]["id"]
    # When Globex's admin reads, changes, rotates, tests or deletes it
    assert (await globex_client(NODE, {"id": webhook_id})).ok()["node"] is None
    answers = [
        (await globex_client(UPDATE, {"input": {"id": webhook_id, "enabled": False}})).ok()[
            "updateWebhook"
        ],
        (await globex_client(ROTATE, {"id": webhook_id})).ok()["rotateWebhookSecret"],
        (await globex_client(DELETE, {"id": webhook_id})).ok()["deleteWebhook"],
    ]
    test = (await globex_client(SEND_TEST, {"id": webhook_id})).ok()["sendTestWebhook"]
    # Then each answers NOT_FOUND, and the endpoint is untouched
    for answer in answers:
        assert [(e["field"], e["code"]) for e in answer["userErrors"]] == [("id", "NOT_FOUND")]
    assert [(e["field"], e["code"]) for e in test["userErrors"]] == [("webhookId", "NOT_FOUND")]
    row = await db.scalar(sa.select(WebhookEndpoint))
    assert row is not None
    assert row.enabled


async def test_a_third_party_administrator_manages_its_clients_webhooks(
    tpa_client: GraphQLClient, db: AsyncSession, receiver: Receiver, world: World
) -> None:
    # Given an endpoint of Contoso, a client of Northwind

    endpoint = await add_endpoint(db, world.contoso.id, receiver.url())
    query = "query ($id: ID!) { account(id: $id) { webhooks { nodes { id } } } }"
    # When Northwind's admin lists Contoso's webhooks and turns this one off
    listed = (await tpa_client(query, {"id": global_id("Account", world.contoso.id)})).ok()
    webhook_id = global_id("Webhook", endpoint.id)
    assert listed["account"]["webhooks"]["nodes"] == [{"id": webhook_id}]
    off = (await tpa_client(UPDATE, {"input": {"id": webhook_id, "enabled": False}})).ok()
    # Then it may, audited in Contoso's account
    assert off["updateWebhook"]["userErrors"] == []
    [audit] = await _audit(db, "webhook.updated")
    assert audit.account_id == world.contoso.id


async def test_rotate_and_delete(
    admin_client: GraphQLClient, db: AsyncSession, receiver: Receiver
) -> None:
    # Given an endpoint
    created = await _create(admin_client, receiver.url())
    webhook_id = created["webhook"]["id"]
    # When its secret is rotated
    rotated = (await admin_client(ROTATE, {"id": webhook_id})).ok()["rotateWebhookSecret"]
    # Then a new secret is answered once, the old kept only for the grace period, audited
    assert rotated["userErrors"] == []
    row = await db.scalar(sa.select(WebhookEndpoint))
    assert row is not None
    await db.refresh(row)
    assert (row.secret, row.previous_secret) == (rotated["secret"], created["secret"])
    [audit] = await _audit(db, "webhook.secret_rotated")
    assert created["secret"] not in str(audit.details)
    assert rotated["secret"] not in str(audit.details)
    # When it is deleted
    deleted = (await admin_client(DELETE, {"id": webhook_id})).ok()["deleteWebhook"]
    # Then it is gone, audited, and a second delete finds nothing
    assert deleted == {"deletedWebhookId": webhook_id, "userErrors": []}
    assert (await admin_client(NODE, {"id": webhook_id})).ok()["node"] is None
    assert await _endpoint_count(db) == 0
    assert len(await _audit(db, "webhook.deleted")) == 1
    again = (await admin_client(DELETE, {"id": webhook_id})).ok()["deleteWebhook"]
    assert [(e["field"], e["code"]) for e in again["userErrors"]] == [("id", "NOT_FOUND")]


async def test_the_delivery_log_pages_filters_and_resends(
    admin_client: GraphQLClient,
    globex_client: GraphQLClient,
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    receiver: Receiver,
    world: World,
) -> None:
    # Given an endpoint, a delivered event and a failed one
    hooks = settings.model_copy(update={"webhook_max_attempts": 1})
    webhook_id = (
        await admin_client(
            CREATE, {"input": {"url": receiver.url(), "events": ["VISIT_STATUS_CHANGED"]}}
        )
    ).ok()["createWebhook"]["webhook"]["id"]
    await add_event(db, world.acme.id, data={"n": 1})
    await add_event(db, world.acme.id, data={"n": 2})
    receiver.respond(Reply(200, b"thanks"), Reply(500, b"nope " * 400))
    await deliver_due(sessionmaker=sessionmaker, settings=hooks)
    await deliver_due(sessionmaker=sessionmaker, settings=hooks)
    # When the admin reads the log, newest first, one per page
    first = (await admin_client(LOG, {"id": webhook_id, "first": 1})).ok()["node"]["deliveries"]
    # Then the failed delivery shows its attempt, with at most 1 KB of the answer
    assert first["totalCount"] == 2
    assert first["pageInfo"]["hasNextPage"] is True
    [failed] = first["nodes"]
    assert (failed["status"], failed["event"], failed["attemptCount"]) == (
        "FAILED",
        "VISIT_STATUS_CHANGED",
        1,
    )
    assert failed["eventType"] == "visit.status_changed"
    assert failed["payload"]["data"] == {"n": 2}
    [attempt] = failed["attempts"]
    assert attempt["statusCode"] == 500
    assert attempt["latencyMs"] is not None
    assert len(attempt["responseExcerpt"].encode()) == 1024
    # And the next page holds the delivered one
    after = first["pageInfo"]["endCursor"]
    second = (await admin_client(LOG, {"id": webhook_id, "first": 1, "after": after})).ok()["node"][
        "deliveries"
    ]
    [delivered] = second["nodes"]
    assert delivered["status"] == "DELIVERED"
    assert delivered["attempts"][0]["responseExcerpt"] == "thanks"
    # And the filter narrows by status and by event
    only_failed = (
        await admin_client(LOG, {"id": webhook_id, "filter": {"status": "FAILED"}})
    ).ok()["node"]["deliveries"]
    assert [d["id"] for d in only_failed["nodes"]] == [failed["id"]]
    other_event = (
        await admin_client(LOG, {"id": webhook_id, "filter": {"event": "DOCUMENT_POSTED"}})
    ).ok()["node"]["deliveries"]
    assert other_event["totalCount"] == 0
    # When the failed delivery is resent
    resent = (await admin_client(RESEND, {"id": failed["id"]})).ok()["resendWebhookDelivery"]
    # Then the same event (same webhook-id) is queued again, and delivered
    assert resent["userErrors"] == []
    assert resent["delivery"]["eventId"] == failed["eventId"]
    assert (resent["delivery"]["status"], resent["delivery"]["attemptCount"]) == ("PENDING", 0)
    # And resending it again while that copy waits is refused
    twice = (await admin_client(RESEND, {"id": failed["id"]})).ok()["resendWebhookDelivery"]
    assert [(e["field"], e["code"]) for e in twice["userErrors"]] == [("id", "INVALID_TRANSITION")]
    assert (await deliver_due(sessionmaker=sessionmaker, settings=hooks)).delivered == 1
    assert receiver.requests[-1].webhook_id == failed["eventId"]
    assert len(await _audit(db, "webhook.delivery_resent")) == 1
    # And another account can neither read the log nor resend from it
    assert (await globex_client(LOG, {"id": webhook_id})).ok()["node"] is None
    foreign = (await globex_client(RESEND, {"id": failed["id"]})).ok()["resendWebhookDelivery"]
    assert [(e["field"], e["code"]) for e in foreign["userErrors"]] == [("id", "NOT_FOUND")]


async def test_resend_and_test_of_unknown_ids_are_not_found(admin_client: GraphQLClient) -> None:

    from portal.ids import global_id

    nobody = uuid.uuid4()
    resend = (await admin_client(RESEND, {"id": global_id("WebhookDelivery", nobody)})).ok()[
        "resendWebhookDelivery"
    ]
    assert [(e["field"], e["code"]) for e in resend["userErrors"]] == [("id", "NOT_FOUND")]
    test = (await admin_client(SEND_TEST, {"id": global_id("Webhook", nobody)})).ok()[
        "sendTestWebhook"
    ]
    assert [(e["field"], e["code"]) for e in test["userErrors"]] == [("webhookId", "NOT_FOUND")]
    wrong_type = (await admin_client(SEND_TEST, {"id": global_id("Visit", nobody)})).ok()[
        "sendTestWebhook"
    ]
    assert [e["code"] for e in wrong_type["userErrors"]] == ["BAD_USER_INPUT"]


async def test_test_events_are_bounded_per_webhook(
    admin_client: GraphQLClient, db: AsyncSession, receiver: Receiver
) -> None:
    webhook_id = (await _create(admin_client, receiver.url()))["webhook"]["id"]
    for _ in range(5):
        sent = (await admin_client(SEND_TEST, {"id": webhook_id})).ok()["sendTestWebhook"]
        assert sent["userErrors"] == []
    sixth = (await admin_client(SEND_TEST, {"id": webhook_id})).ok()["sendTestWebhook"]
    assert [(e["field"], e["code"]) for e in sixth["userErrors"]] == [("webhookId", "RATE_LIMITED")]
    assert len(await _audit(db, "webhook.test_sent")) == 5


async def test_node_answers_webhooks_only_to_those_who_manage_them(
    admin_client: GraphQLClient,
    webhooks_api_client: GraphQLClient,
    basic_client: GraphQLClient,
    api_client: GraphQLClient,
    staff_client: GraphQLClient,
    receiver: Receiver,
) -> None:
    # Given Acme's endpoint
    webhook_id = (await _create(admin_client, receiver.url()))["webhook"]["id"]
    # Then its admin and the API client holding webhooks:manage fetch it by id
    for allowed in (admin_client, webhooks_api_client):
        assert (await allowed(NODE, {"id": webhook_id})).ok()["node"] == {"id": webhook_id}
    # And a Basic user, an API client without the scope and staff get null
    for denied in (basic_client, api_client, staff_client):
        assert (await denied(NODE, {"id": webhook_id})).ok()["node"] is None
