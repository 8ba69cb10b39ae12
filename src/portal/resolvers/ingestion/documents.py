"""Posting, retracting and restoring documents (staff ingestion).

A document's account, employee and location come from its visit, never from the caller. Posting
checks the file before anything is written (see ``pdf``), writes the row and the new-results
emails in one transaction, stores the bytes (content-addressed) and commits; live subscribers hear
of it only after the commit. Retraction writes its webhook event in the same transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.events import DocumentPosted, EventHub
from portal.ids import global_id
from portal.models import (
    Contact,
    Document,
    NotificationPreference,
    PortalUser,
    ReportSubscription,
    ReportType,
    Visit,
)
from portal.models.base import utcnow
from portal.models.db import AccountScope
from portal.models.enums import UserStatus
from portal.resolvers.display_text import check_display_text
from portal.resolvers.documents.visibility import archived_condition
from portal.resolvers.errors import BadUserInput, ErrorCode, NotFound, PortalError
from portal.resolvers.ingestion.isolation import validate_pdf
from portal.resolvers.outbox import enqueue_email, enqueue_webhook_event
from portal.storage import DocumentStorage

NAME_MAX = 255
REASON_MAX = 1000
NEW_RESULTS_TOPIC = "new_results"
NEW_RESULTS_SUBJECT = "New results are available in the Employer Health Portal"


class AlreadyPosted(BadUserInput):
    """The same bytes are already posted (and not retracted) for this visit."""

    def __init__(self, document_id: uuid.UUID) -> None:
        super().__init__("This file is already posted for this visit.", field="file")
        self.document_id = document_id


def clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise BadUserInput("Give the document a name.", field="name")
    if len(cleaned) > NAME_MAX:
        raise BadUserInput(f"A document name has at most {NAME_MAX} characters.", field="name")
    return check_display_text(cleaned, field="name", what="A document name")


async def find_posted(
    *, session: AsyncSession, visit_id: uuid.UUID, sha256: str
) -> uuid.UUID | None:
    """The live (not retracted) document of this visit with these bytes, if there is one."""
    found: uuid.UUID | None = await session.scalar(
        sa.select(col(Document.id)).where(
            col(Document.visit_id) == visit_id,
            col(Document.sha256) == sha256,
            col(Document.retracted_at).is_(None),
        )
    )
    return found


async def post_document(
    *,
    session: AsyncSession,
    scope: AccountScope,
    storage: DocumentStorage,
    visit_id: uuid.UUID,
    report_type_code: str,
    name: str,
    data: bytes,
    max_bytes: int,
    public_url: str,
    posted_at: datetime | None = None,
    events: EventHub | None = None,
) -> Document:
    """Check, record and store one PDF for a visit; email the subscribed contacts who asked and
    queue ``document.posted`` for webhook subscribers, in the same transaction."""
    document_name = clean_name(name)
    visit = await session.scalar(
        sa.select(Visit).where(col(Visit.id) == visit_id, scope.filter(col(Visit.account_id)))
    )
    if visit is None:
        raise NotFound("No visit has this id.", field="visitId")
    report_type_id = await session.scalar(
        sa.select(col(ReportType.id)).where(col(ReportType.code) == report_type_code.strip())
    )
    if report_type_id is None:
        raise NotFound("No report type has this code.", field="reportType")
    if posted_at is not None and posted_at.tzinfo is None:
        raise BadUserInput("Give the posting time with its time zone.", field="postedAt")
    checked = await validate_pdf(data, limit=max_bytes)
    # What is stored is the checked copy: without active content when the upload had any.
    data, facts = checked.data, checked.facts
    existing = await find_posted(session=session, visit_id=visit.id, sha256=facts.sha256)
    if existing is not None:
        raise AlreadyPosted(existing)

    document = Document(
        account_id=visit.account_id,
        visit_id=visit.id,
        employee_id=visit.employee_id,
        location_id=visit.location_id,
        report_type_id=report_type_id,
        name=document_name,
        posted_at=posted_at or utcnow(),
        page_count=facts.page_count,
        size_bytes=facts.size_bytes,
        sha256=facts.sha256,
        # Content-addressed: the key is the SHA-256, known before the bytes are stored.
        storage_key=facts.sha256,
    )
    session.add(document)
    # Ids and the report type only: subscribers fetch the rest with their own credentials.
    enqueue_webhook_event(
        session=session,
        account_id=visit.account_id,
        topic="document.posted",
        data={
            "documentId": global_id("Document", document.id),
            "visitId": global_id("Visit", visit.id),
            "reportType": report_type_code.strip(),
            "postedAt": document.posted_at.isoformat(),
        },
    )
    await enqueue_new_results_emails(
        session=session,
        account_id=visit.account_id,
        report_type_id=report_type_id,
        location_id=visit.location_id,
        public_url=public_url,
    )
    # Constraint failures surface here, before any bytes are stored.
    await session.flush()
    key = await storage.put(data)
    if key != document.storage_key:  # a backend that keys differently: record its key
        document.storage_key = key
        await session.flush()
    await session.commit()
    if events is not None:
        events.publish(DocumentPosted(document_id=document.id, account_id=document.account_id))
    return document


async def new_results_recipients(
    *,
    session: AsyncSession,
    account_id: uuid.UUID,
    report_type_id: uuid.UUID,
    location_id: uuid.UUID,
) -> list[str]:
    """Work emails of the account's active contacts with an ACTIVE login, subscribed to this
    (report type, location), whose notification preference asks for email."""
    rows = await session.scalars(
        sa.select(col(Contact.work_email))
        .join(ReportSubscription, col(ReportSubscription.contact_id) == col(Contact.id))
        .join(NotificationPreference, col(NotificationPreference.contact_id) == col(Contact.id))
        .join(PortalUser, col(PortalUser.contact_id) == col(Contact.id))
        .where(
            col(Contact.account_id) == account_id,
            col(Contact.is_active).is_(True),
            col(ReportSubscription.report_type_id) == report_type_id,
            col(ReportSubscription.location_id) == location_id,
            col(NotificationPreference.email_on_new_results).is_(True),
            col(PortalUser.status) == UserStatus.ACTIVE,
        )
        .distinct()
        .order_by(col(Contact.work_email))
    )
    return list(rows)


async def enqueue_new_results_emails(
    *,
    session: AsyncSession,
    account_id: uuid.UUID,
    report_type_id: uuid.UUID,
    location_id: uuid.UUID,
    public_url: str,
) -> Sequence[str]:
    """One email per recipient, in the caller's transaction. No PHI: neither the employee nor the
    report is named; the reader signs in to see what was posted."""
    recipients = await new_results_recipients(
        session=session,
        account_id=account_id,
        report_type_id=report_type_id,
        location_id=location_id,
    )
    link = public_url.rstrip("/") + "/"
    text = (
        "New results have been posted to the Employer Health Portal for a location you "
        "follow.\n\n"
        f"Sign in to view them: {link}\n\n"
        "You receive this email because you asked to be told when new results are posted. "
        "A User Admin of your company can change this.\n"
    )
    for email in recipients:
        enqueue_email(
            session=session,
            account_id=account_id,
            topic=NEW_RESULTS_TOPIC,
            to=email,
            subject=NEW_RESULTS_SUBJECT,
            text=text,
        )
    return recipients


async def retract_document(
    *,
    session: AsyncSession,
    scope: AccountScope,
    staff_id: uuid.UUID,
    document_id: uuid.UUID,
    reason: str,
) -> Document:
    """Withdraw a document posted in error: gone from employer views at once, the row and its
    audit kept, and a ``document.retracted`` webhook event queued in the same transaction."""
    cleaned = reason.strip()
    if not cleaned:
        raise BadUserInput("Say why the document is retracted.", field="reason")
    if len(cleaned) > REASON_MAX:
        raise BadUserInput(f"A reason has at most {REASON_MAX} characters.", field="reason")
    check_display_text(cleaned, field="reason", what="A reason", allow_line_breaks=True)
    document = await _locked_document(session=session, scope=scope, document_id=document_id)
    if document.retracted_at is not None:
        raise PortalError(
            "This document is already retracted.", code=ErrorCode.INVALID_TRANSITION, field="id"
        )
    now = utcnow()
    document.retracted_at = now
    document.retraction_reason = cleaned
    document.retracted_by_staff_id = staff_id
    # The reason stays inside the portal: subscribers learn only which document to purge.
    enqueue_webhook_event(
        session=session,
        account_id=document.account_id,
        topic="document.retracted",
        data={
            "documentId": global_id("Document", document.id),
            "retractedAt": now.isoformat(),
        },
    )
    await session.flush()
    await session.commit()
    return document


async def restore_document(
    *, session: AsyncSession, scope: AccountScope, document_id: uuid.UUID
) -> Document:
    """Bring an archived document back into employer views (staff)."""
    document = await _locked_document(session=session, scope=scope, document_id=document_id)
    archived = await session.scalar(
        sa.select(archived_condition()).where(col(Document.id) == document.id)
    )
    if document.retracted_at is not None:
        raise PortalError(
            "A retracted document cannot be restored.",
            code=ErrorCode.INVALID_TRANSITION,
            field="id",
        )
    if not archived:
        raise PortalError(
            "This document is not archived.", code=ErrorCode.INVALID_TRANSITION, field="id"
        )
    document.restored_at = utcnow()
    await session.flush()
    await session.commit()
    return document


async def _locked_document(
    *, session: AsyncSession, scope: AccountScope, document_id: uuid.UUID
) -> Document:
    document = await session.scalar(
        sa.select(Document)
        .where(col(Document.id) == document_id, scope.filter(col(Document.account_id)))
        .with_for_update()
    )
    if document is None:
        raise NotFound("No document has this id.", field="id")
    return document
