"""Preparing a merged-PDF download: every id checked, then one ticket; or nothing at all."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.principal import Principal
from portal.models.downloads import MAX_DOCUMENTS_PER_DOWNLOAD
from portal.models.enums import AuditResult
from portal.resolvers.audit import AuditEntry, RequestMeta, to_row
from portal.resolvers.documents.visibility import accessible_document_ids
from portal.resolvers.downloads.tickets import IssuedTicket, TicketKind, issue_ticket
from portal.resolvers.errors import BadUserInput, ErrorCode, NotFound, PortalError

DOWNLOAD_PATH = "/downloads"


@dataclass(frozen=True, slots=True)
class PreparedDownload:
    url: str
    ticket: IssuedTicket


class DocumentsNotFound(Exception):
    """Some asked ids name no document the caller may see; one error per id, nothing prepared."""

    def __init__(self, errors: Sequence[PortalError], document_ids: Sequence[uuid.UUID]) -> None:
        super().__init__(f"{len(errors)} document(s) not found")
        self.errors = tuple(errors)
        self.document_ids = tuple(document_ids)


def distinct_in_order(ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """Asking for a document twice includes it once, where it was first asked."""
    return list(dict.fromkeys(ids))


def download_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}{DOWNLOAD_PATH}/{token}"


async def prepare_download(
    *,
    session: AsyncSession,
    principal: Principal,
    document_ids: Sequence[uuid.UUID],
    labels: dict[uuid.UUID, str],
    ttl: timedelta,
    public_url: str,
    meta: RequestMeta,
) -> PreparedDownload:
    """Check every id and record a one-time ticket for them, in order, with its audit entry
    (``document.download_prepared``, written by the same statement); commits.

    ``labels`` are the ids as the client wrote them, so an error names the id it sent. Raises
    ``PortalError`` (no ids, too many) or ``DocumentsNotFound`` (unknown and foreign ids alike)."""
    wanted = distinct_in_order(document_ids)
    if not wanted:
        raise BadUserInput("Choose at least one document to download.", field="documentIds")
    if len(wanted) > MAX_DOCUMENTS_PER_DOWNLOAD:
        raise PortalError(
            f"A download holds at most {MAX_DOCUMENTS_PER_DOWNLOAD} documents; you chose "
            f"{len(wanted)}. Download them in several parts.",
            code=ErrorCode.TOO_MANY_DOCUMENTS,
            field="documentIds",
        )
    visible = await accessible_document_ids(session=session, principal=principal, ids=wanted)
    missing = [document_id for document_id in wanted if document_id not in visible]
    if missing:
        await session.rollback()
        raise DocumentsNotFound(
            [
                NotFound(f"No document with id {labels[document_id]}.", field="documentIds")
                for document_id in missing
            ],
            missing,
        )

    def audit_rows(ticket_id: uuid.UUID) -> list[dict[str, Any]]:
        entry = AuditEntry(
            action="document.download_prepared",
            result=AuditResult.ALLOWED,
            object_ids=tuple(str(i) for i in wanted),
            details={"ticket_id": str(ticket_id)},
        )
        return [to_row(principal=principal, meta=meta, entry=entry)]

    ticket = await issue_ticket(
        session=session,
        principal=principal,
        object_ids=wanted,
        ttl=ttl,
        kind=TicketKind.DOCUMENTS,
        audit_rows=audit_rows,
    )
    await session.commit()
    return PreparedDownload(url=download_url(public_url, ticket.token), ticket=ticket)
