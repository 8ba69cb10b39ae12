"""The urgent privacy path ending in a retraction, and the status emails read from a real SMTP
server."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from portal.ids import global_id
from portal.mail import deliver_due
from portal.models import Document, OutboxMessage
from portal.models.enums import OutboxChannel
from portal.settings import Settings
from tests.schema.support.conftest import (
    RETRACT,
    create,
    document_id,
    move,
    node,
    stored,
)
from tests.support.graphql import GraphQLClient
from tests.support.mail import Inbox, body_of
from tests.support.world import World

DOCUMENTS = "{ documents(first: 100) { nodes { id } } }"


async def _privacy_request(client: GraphQLClient, world: World) -> dict[str, Any]:
    return await create(
        client,
        type="TREATMENT_RESULT",
        topic="PRIVACY",
        subject="Alice Smith's result is not ours",
        description="This result is for someone we do not employ.",
        documentId=document_id(world.results.subscribed),
    )


async def test_the_privacy_path_ends_in_a_retraction(
    basic_client: GraphQLClient,
    staff_client: GraphQLClient,
    db: AsyncSession,
    world: World,
) -> None:
    # Given a Basic user's urgent privacy request about a document they see
    request = await _privacy_request(basic_client, world)
    assert request["urgent"] is True
    # Then staff see it first, with the document
    staff_list = (
        await staff_client("{ supportRequests(first: 1) { nodes { id document { id } } } }")
    ).ok()["supportRequests"]["nodes"]
    assert staff_list == [
        {"id": request["id"], "document": {"id": document_id(world.results.subscribed)}}
    ]
    # When staff retract the document from the request
    response = await staff_client(RETRACT, {"input": {"id": request["id"]}})
    payload = response.ok()["retractSupportRequestDocument"]
    assert payload["userErrors"] == []
    # Then the document is retracted with the request number as its reason
    assert payload["document"]["retracted"] is True
    assert payload["document"]["retractionReason"] == f"Support request {request['number']}"
    row = await db.get(Document, world.results.subscribed.id, populate_existing=True)
    assert row is not None
    assert row.retracted_by_staff_id == world.staff.id
    # And the request is resolved by staff
    assert payload["supportRequest"]["status"] == "RESOLVED"
    # And the requester sees "resolved: removed from your view" without the document
    answer = (await node(basic_client, request["id"])).ok()["node"]
    assert (answer["status"], answer["resolution"]) == ("RESOLVED", "Removed from your view.")
    assert answer["document"] is None
    ids = [n["id"] for n in (await basic_client(DOCUMENTS)).ok()["documents"]["nodes"]]
    assert document_id(world.results.subscribed) not in ids
    # And subscribers hear of the retraction
    retracted = await db.scalars(
        sa.select(OutboxMessage).where(col(OutboxMessage.topic) == "document.retracted")
    )
    assert [m.payload["data"]["documentId"] for m in retracted] == [
        global_id("Document", world.results.subscribed.id)
    ]


async def test_only_a_privacy_request_about_a_document_leads_to_retraction(
    admin_client: GraphQLClient, staff_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    request = await create(
        admin_client,
        type="TREATMENT_RESULT",
        topic="SERVICES_QUESTION",
        documentId=document_id(world.results.subscribed),
    )
    response = await staff_client(RETRACT, {"input": {"id": request["id"]}})
    [error] = response.ok()["retractSupportRequestDocument"]["userErrors"]
    assert (error["field"], error["code"]) == ("id", "INVALID_TRANSITION")
    row = await db.get(Document, world.results.subscribed.id, populate_existing=True)
    assert row is not None
    assert row.retracted_at is None
    assert (await stored(db, request["number"])).status.value == "NEW"


async def test_a_resolved_privacy_request_is_not_retracted_twice(
    basic_client: GraphQLClient, staff_client: GraphQLClient, world: World
) -> None:
    request = await _privacy_request(basic_client, world)
    first = await staff_client(RETRACT, {"input": {"id": request["id"]}})
    assert first.ok()["retractSupportRequestDocument"]["userErrors"] == []
    again = await staff_client(RETRACT, {"input": {"id": request["id"]}})
    [error] = again.ok()["retractSupportRequestDocument"]["userErrors"]
    assert error["code"] == "INVALID_TRANSITION"


async def test_the_requester_is_emailed_on_each_change_without_phi(
    basic_client: GraphQLClient,
    staff_client: GraphQLClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
    world: World,
) -> None:
    # Given a privacy request whose subject names the employee
    request = await _privacy_request(basic_client, world)
    # When staff take it, then retract the document (resolving it), and the requester closes it
    assert (await move(staff_client, request["id"], "IN_PROGRESS"))["userErrors"] == []
    retract = await staff_client(RETRACT, {"input": {"id": request["id"]}})
    assert retract.ok()["retractSupportRequestDocument"]["userErrors"] == []
    assert (await move(basic_client, request["id"], "CLOSED"))["userErrors"] == []
    report = await deliver_due(sessionmaker=sessionmaker, settings=mail_settings)
    # Then the SMTP server received one email per change, to the requester
    assert report.delivered == 3
    messages = inbox.to(world.acme_basic.email)
    # (delivery order within one test transaction is not the order of the changes)
    assert sorted(m["Subject"] for m in messages) == [
        f"Support request {request['number']}: Closed",
        f"Support request {request['number']}: In progress",
        f"Support request {request['number']}: Resolved",
    ]
    [resolved] = [m for m in messages if str(m["Subject"]).endswith("Resolved")]
    assert "Outcome: Removed from your view." in body_of(resolved)
    for message in messages:
        body = body_of(message)
        # With a link to the request
        assert re.search(rf"/support-requests/{re.escape(request['id'])}\b", body), body
        # And nothing of the request's content or the document
        for phi in ("Alice", "Smith", "employ", "Work Status Report"):
            assert phi not in body
            assert phi not in str(message["Subject"])


async def test_no_email_is_queued_for_a_refused_change(
    staff_client: GraphQLClient, basic_client: GraphQLClient, db: AsyncSession
) -> None:
    request = await create(basic_client)
    await move(staff_client, request["id"], "CLOSED")
    emails = await db.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(col(OutboxMessage.channel) == OutboxChannel.EMAIL)
    )
    assert emails == 0
