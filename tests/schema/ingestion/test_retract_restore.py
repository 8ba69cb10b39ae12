"""``retractDocument`` and ``restoreDocument`` (staff): a retraction takes a document out of every
employer view at once and queues ``document.retracted``; a restore brings an archived one back."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import AuditEvent, OutboxMessage
from portal.models import Document as DocumentRow
from portal.models.enums import OutboxChannel
from portal.schema.documents import Document
from portal.schema.relay import global_id
from tests.support.graphql import GraphQLClient
from tests.support.world import World

RETRACT = """
mutation Retract($input: RetractDocumentInput!) {
  retractDocument(input: $input) {
    document { id retracted retractedAt retractionReason }
    userErrors { field code message }
  }
}
"""

RESTORE = """
mutation Restore($input: RestoreDocumentInput!) {
  restoreDocument(input: $input) {
    document { id archived archivesAt }
    userErrors { field code message }
  }
}
"""

NODE = "query ($id: ID!) { node(id: $id) { id ... on Document { name } } }"


async def _webhooks(db: AsyncSession) -> list[OutboxMessage]:
    rows = await db.scalars(
        sa.select(OutboxMessage).where(
            col(OutboxMessage.channel) == OutboxChannel.WEBHOOK,
            col(OutboxMessage.topic) == "document.retracted",
        )
    )
    return list(rows)


async def test_retraction_hides_the_document_from_employers_at_once(
    staff_client: GraphQLClient,
    admin_client: GraphQLClient,
    basic_client: GraphQLClient,
    api_client: GraphQLClient,
    world: World,
    db: AsyncSession,
) -> None:
    # Given a document the employer sees
    document_id = global_id(Document, world.results.subscribed.id)
    assert (await admin_client(NODE, {"id": document_id})).ok()["node"] is not None
    # When staff retract it with a reason
    response = await staff_client(
        RETRACT, {"input": {"id": document_id, "reason": "  Posted to the wrong patient  "}}
    )
    payload = response.ok()["retractDocument"]
    # Then the payload shows it retracted, with the reason
    assert payload["userErrors"] == []
    assert payload["document"]["retracted"] is True
    assert payload["document"]["retractionReason"] == "Posted to the wrong patient"
    # And no employer sees it any more, while staff still do
    for client in (admin_client, basic_client, api_client):
        assert (await client(NODE, {"id": document_id})).ok()["node"] is None
    assert (await staff_client(NODE, {"id": document_id})).ok()["node"]["id"] == document_id
    # And the row keeps who and why, and one webhook event names only the document
    row = await db.get(DocumentRow, world.results.subscribed.id)
    assert row is not None
    await db.refresh(row)
    assert row.retracted_by_staff_id == world.staff.id
    webhooks = await _webhooks(db)
    assert len(webhooks) == 1
    assert webhooks[0].account_id == world.acme.id
    assert webhooks[0].payload["data"]["documentId"] == document_id
    assert "wrong patient" not in str(webhooks[0].payload)


async def test_retraction_is_audited(
    staff_client: GraphQLClient, world: World, db: AsyncSession
) -> None:
    # When staff retract a document
    document_id = global_id(Document, world.results.other_type.id)
    await staff_client(RETRACT, {"input": {"id": document_id, "reason": "duplicate"}})
    # Then the audit trail records it against the account
    action = await db.scalar(
        sa.select(col(AuditEvent.action)).where(
            col(AuditEvent.action) == "document.retracted",
            sa.literal(str(world.results.other_type.id)) == sa.func.any(col(AuditEvent.object_ids)),
        )
    )
    assert action == "document.retracted"


@pytest.mark.parametrize(
    ("name", "reason", "field", "code"),
    [
        ("subscribed", "   ", "reason", "BAD_USER_INPUT"),
        ("retracted", "again", "id", "INVALID_TRANSITION"),
    ],
)
async def test_retraction_user_errors_write_nothing(
    staff_client: GraphQLClient,
    world: World,
    db: AsyncSession,
    name: str,
    reason: str,
    field: str,
    code: str,
) -> None:
    # When staff retract without a reason, or retract a retracted document
    document_id = global_id(Document, getattr(world.results, name).id)
    response = await staff_client(RETRACT, {"input": {"id": document_id, "reason": reason}})
    # Then a user error explains and no webhook event is queued
    payload = response.ok()["retractDocument"]
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, code)]
    assert await _webhooks(db) == []


@pytest.mark.parametrize(
    "client_fixture", ["admin_client", "basic_client", "api_client", "anonymous_client"]
)
async def test_only_staff_retract(
    request: pytest.FixtureRequest,
    http: httpx.AsyncClient,
    world: World,
    db: AsyncSession,
    client_fixture: str,
) -> None:
    # Given a caller who is not staff (``http`` first, so client fixtures resolve by name)
    client: GraphQLClient = request.getfixturevalue(client_fixture)
    document_id = global_id(Document, world.results.subscribed.id)
    # When they retract a document
    response = await client(RETRACT, {"input": {"id": document_id, "reason": "no"}})
    # Then it is refused and nothing changes
    expected = "UNAUTHENTICATED" if client_fixture == "anonymous_client" else "FORBIDDEN"
    assert expected in response.error_codes()
    assert await _webhooks(db) == []
    retracted_at = await db.scalar(
        sa.select(col(DocumentRow.retracted_at)).where(
            col(DocumentRow.id) == world.results.subscribed.id
        )
    )
    assert retracted_at is None


async def test_restore_brings_an_archived_document_back(
    staff_client: GraphQLClient, admin_client: GraphQLClient, world: World
) -> None:
    # Given an archived document the employer no longer sees
    document_id = global_id(Document, world.results.archived.id)
    assert (await admin_client(NODE, {"id": document_id})).ok()["node"] is None
    # When staff restore it
    response = await staff_client(RESTORE, {"input": {"id": document_id}})
    payload = response.ok()["restoreDocument"]
    # Then it is no longer archived and the employer sees it again
    assert payload["userErrors"] == []
    assert payload["document"]["archived"] is False
    assert payload["document"]["archivesAt"] is None
    assert (await admin_client(NODE, {"id": document_id})).ok()["node"]["id"] == document_id


@pytest.mark.parametrize(
    ("name", "code"),
    [("subscribed", "INVALID_TRANSITION"), ("restored", "INVALID_TRANSITION")],
    ids=["never-archived", "already-restored"],
)
async def test_restoring_a_document_that_is_not_archived_is_a_user_error(
    staff_client: GraphQLClient, world: World, name: str, code: str
) -> None:
    # When staff restore a document that is not archived
    document_id = global_id(Document, getattr(world.results, name).id)
    response = await staff_client(RESTORE, {"input": {"id": document_id}})
    # Then a user error says so
    payload = response.ok()["restoreDocument"]
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("id", code)]


@pytest.mark.parametrize(
    "client_fixture", ["admin_client", "basic_client", "api_client", "anonymous_client"]
)
async def test_only_staff_restore(
    request: pytest.FixtureRequest,
    http: httpx.AsyncClient,
    world: World,
    db: AsyncSession,
    client_fixture: str,
) -> None:
    # Given a caller who is not staff
    client: GraphQLClient = request.getfixturevalue(client_fixture)
    document_id = global_id(Document, world.results.archived.id)
    # When they restore an archived document
    response = await client(RESTORE, {"input": {"id": document_id}})
    # Then it is refused and the document stays archived
    expected = "UNAUTHENTICATED" if client_fixture == "anonymous_client" else "FORBIDDEN"
    assert expected in response.error_codes()
    restored_at = await db.scalar(
        sa.select(col(DocumentRow.restored_at)).where(
            col(DocumentRow.id) == world.results.archived.id
        )
    )
    assert restored_at is None
