"""Redeeming a download URL: claim the ticket, check access again, merge, audit.

Access is checked again at redemption, with the visibility rules of ``documents(filter:)``, so a
document retracted, archived or unsubscribed between preparing and downloading is refused."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal
from portal.models import Document, Employee, ReportType
from portal.models.enums import AuditResult
from portal.resolvers.audit import AuditEntry
from portal.resolvers.downloads.merge import MergedPdf, MergePart, merge_documents
from portal.resolvers.downloads.tickets import ClaimedTicket, claim_ticket
from portal.storage import DocumentStorage

logger = logging.getLogger(__name__)


class AccessCheck(Protocol):
    """The ids among ``ids`` that ``principal`` may see now (the documents' visibility rules)."""

    def __call__(
        self, *, session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
    ) -> Awaitable[Collection[uuid.UUID]]: ...


class DocumentsNoLongerAccessible(Exception):
    def __init__(self, ticket_id: uuid.UUID, document_ids: Sequence[uuid.UUID]) -> None:
        super().__init__(f"{len(document_ids)} document(s) no longer accessible")
        self.ticket_id = ticket_id
        self.document_ids = tuple(document_ids)


@dataclass(frozen=True, slots=True)
class RedeemedDownload:
    ticket_id: uuid.UUID
    pdf: MergedPdf
    # One audit entry per account the documents belong to (a TPA's download spans its clients).
    audit_entries: tuple[AuditEntry, ...]
    # The file name to offer; None: the merged results' default name.
    filename: str | None = None


def bookmark_title(*, last_name: str, first_name: str, report_type: str, posted_on: str) -> str:
    return f"{last_name}, {first_name} - {report_type} - {posted_on}"


async def merge_parts(
    *, session: AsyncSession, document_ids: Sequence[uuid.UUID]
) -> tuple[list[MergePart], dict[uuid.UUID, uuid.UUID]]:
    """The documents' bookmark titles and stored bytes, in the order asked, and their accounts."""
    rows: sa.Result[Any] = await session.execute(
        sa.select(
            col(Document.id),
            col(Document.account_id),
            col(Document.storage_key),
            col(Document.sha256),
            col(Document.posted_at),
            col(Employee.first_name),
            col(Employee.last_name),
            col(ReportType.name).label("report_type"),
        )
        .join(Employee, col(Employee.id) == Document.employee_id)
        .join(ReportType, col(ReportType.id) == Document.report_type_id)
        .where(col(Document.id).in_(list(document_ids)))
    )
    by_id = {row.id: row for row in rows}
    parts: list[MergePart] = []
    accounts: dict[uuid.UUID, uuid.UUID] = {}
    for document_id in document_ids:
        row = by_id[document_id]
        accounts[document_id] = row.account_id
        parts.append(
            MergePart(
                document_id=document_id,
                title=bookmark_title(
                    last_name=row.last_name,
                    first_name=row.first_name,
                    report_type=row.report_type,
                    posted_on=row.posted_at.astimezone(UTC).date().isoformat(),
                ),
                storage_key=row.storage_key,
                sha256=row.sha256,
            )
        )
    return parts, accounts


async def redeem_download(
    *,
    session: AsyncSession,
    principal: Principal,
    token: str,
    storage: DocumentStorage,
    accessible: AccessCheck,
) -> RedeemedDownload:
    """Spend the ticket and merge its documents.

    Raises ``TicketRefused`` (nothing spent), ``DocumentsNoLongerAccessible`` (spent: the caller
    must prepare again) or ``DocumentIntegrityError`` (spent; a stored file is missing or was
    altered, and nothing is served)."""
    ticket: ClaimedTicket = await claim_ticket(session=session, principal=principal, token=token)
    # The ticket is spent whatever happens next: a second try needs a new prepare.
    await session.commit()
    if ticket.authorization_id is not None:
        # The second kind of ticket: one authorization's printable PDF (imported here because
        # that module builds on this package's tickets).
        from portal.resolvers.authorizations.printing import redeem_authorization

        return await redeem_authorization(
            session=session,
            principal=principal,
            ticket_id=ticket.id,
            authorization_id=ticket.authorization_id,
        )
    allowed = set(await accessible(session=session, principal=principal, ids=ticket.document_ids))
    refused = [document_id for document_id in ticket.document_ids if document_id not in allowed]
    if refused:
        await session.rollback()
        raise DocumentsNoLongerAccessible(ticket.id, refused)
    parts, accounts = await merge_parts(session=session, document_ids=ticket.document_ids)
    # Everything the merge needs is read: give the connection back before the slow part.
    await session.rollback()
    pdf = await merge_documents(storage=storage, parts=parts)
    by_account: dict[uuid.UUID, list[str]] = {}
    for document_id in ticket.document_ids:
        by_account.setdefault(accounts[document_id], []).append(str(document_id))
    entries = tuple(
        AuditEntry(
            action="document.downloaded",
            result=AuditResult.ALLOWED,
            account_id=account_id,
            object_ids=tuple(ids),
            details={"ticket_id": str(ticket.id), "page_count": pdf.page_count},
        )
        for account_id, ids in by_account.items()
    )
    return RedeemedDownload(ticket_id=ticket.id, pdf=pdf, audit_entries=entries)
