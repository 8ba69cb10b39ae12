"""Redeeming a download URL: who may still use it, and what each kind of ticket downloads.

A ticket's URL is its own credential, so at redemption the preparer is read again from the
database as a request's bearer token would be (active user, live sign-in session), and access to
every object is checked again with the visibility rules of the lists, so a document retracted,
archived or unsubscribed between preparing and downloading is refused.

What a ticket produces depends on its kind: a ``DownloadProducer`` turns a claimed ticket into a
``DownloadJob`` (the files to merge, staged into a folder, and the audit entries written once the
PDF has been delivered). New kinds register a producer beside ``documents_job``."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal, PrincipalKind
from portal.auth.resolve import ResolvedPrincipal, resolve_principal
from portal.auth.scopes import EMPLOYER_SCOPES
from portal.auth.tokens import InvalidTokenError, TokenClaims
from portal.models import Document, Employee, ReportType, Visit
from portal.models.enums import AuditResult
from portal.resolvers.audit import AuditEntry
from portal.resolvers.downloads.merge import MergePart, StagedPart, stage_parts
from portal.resolvers.downloads.tickets import (
    ClaimedTicket,
    TicketRecord,
    TicketRefusal,
    TicketRefused,
)
from portal.storage import DocumentStorage

logger = logging.getLogger(__name__)

DOCUMENTS_READ_SCOPE = "documents:read"


class VisibleCondition(Protocol):
    """The SQL condition on ``documents`` selecting the rows ``principal`` may see now (the
    documents' visibility rules)."""

    def __call__(self, principal: Principal) -> sa.ColumnElement[bool]: ...


class DocumentsNoLongerAccessible(Exception):
    def __init__(self, ticket_id: uuid.UUID, document_ids: Sequence[uuid.UUID]) -> None:
        super().__init__(f"{len(document_ids)} document(s) no longer accessible")
        self.ticket_id = ticket_id
        self.document_ids = tuple(document_ids)


@dataclass(frozen=True, slots=True)
class DownloadJob:
    """What one claimed ticket produces."""

    # Copies the checked input files into the folder, in order (raises before anything is sent).
    stage: Callable[[Path], Awaitable[list[StagedPart]]]
    # The audit entries of a delivered download, given the merged page count.
    audit: Callable[[int], tuple[AuditEntry, ...]]
    # The file name offered to the browser; None: the merged results' default name.
    filename: str | None = None


class DownloadProducer(Protocol):
    """Checks access again and reads what to produce, in ``session``'s open transaction, scoped to
    ``principal`` (the one that claims the ticket). It neither commits nor rolls back: the caller
    commits the claim with it, or rolls both back when it raises."""

    def __call__(
        self, *, session: AsyncSession, principal: Principal, ticket: ClaimedTicket
    ) -> Awaitable[DownloadJob]: ...


async def ticket_principal(*, session: AsyncSession, ticket: TicketRecord) -> ResolvedPrincipal:
    """The preparer as they are now, and the scope the lookup left the open transaction in;
    ``TicketRefused(SESSION_ENDED)`` when their sign-in session has ended or they are no longer
    active (or their client is revoked).

    The lookup sets the system scope itself, then scopes the transaction to the preparer; the
    transaction is left open (the redemption goes on in it), the caller commits or rolls back."""
    claims = TokenClaims(
        subject_kind=ticket.subject_kind,
        subject_id=ticket.subject_id,
        token_id=f"download:{ticket.id}",
        issued_at=0,
        expires_at=0,
        # An API client keeps the scopes it holds now; the producer checks the one it needs.
        scopes=EMPLOYER_SCOPES,
        session_id=ticket.session_id,
    )
    try:
        return await resolve_principal(session, claims)
    except InvalidTokenError:
        raise TicketRefused(TicketRefusal.SESSION_ENDED, ticket.id) from None


def read_by_bearer(bearer: Principal | None, ticket: TicketRecord) -> bool:
    """Whether the request's own bearer lookup read the ticket's preparer as
    ``ticket_principal`` would: the same person or staff member, in the same sign-in session
    (the lookup checked that session and their state, in the same transaction, and left it
    scoped to them). An API client's principal also depends on its token's scopes: it is read
    again."""
    return (
        bearer is not None
        and bearer.kind in (PrincipalKind.USER, PrincipalKind.STAFF)
        and ticket.owned_by(bearer)
        and bearer.session_id == ticket.session_id
    )


def bookmark_title(*, last_name: str, first_name: str, report_type: str, service_on: str) -> str:
    """ "Last, First - report type - service date": the date of the visit, as documents name it."""
    return f"{last_name}, {first_name} - {report_type} - {service_on}"


async def merge_parts(
    *,
    session: AsyncSession,
    document_ids: Sequence[uuid.UUID],
    visible: sa.ColumnElement[bool],
) -> tuple[list[MergePart], dict[uuid.UUID, uuid.UUID], list[uuid.UUID]]:
    """The documents' bookmark titles and stored bytes, in the order asked, and their accounts;
    and the ids among them that ``visible`` (the caller's visibility condition) refuses, or that
    are not found at all. One statement."""
    rows: sa.Result[Any] = await session.execute(
        sa.select(
            col(Document.id),
            col(Document.account_id),
            col(Document.storage_key),
            col(Document.sha256),
            col(Visit.visited_at),
            col(Employee.first_name),
            col(Employee.last_name),
            col(ReportType.name).label("report_type"),
            visible.label("visible"),
        )
        .join(Employee, col(Employee.id) == Document.employee_id)
        .join(Visit, col(Visit.id) == Document.visit_id)
        .join(ReportType, col(ReportType.id) == Document.report_type_id)
        .where(col(Document.id).in_(list(document_ids)))
    )
    by_id = {row.id: row for row in rows}
    refused = [i for i in document_ids if i not in by_id or not by_id[i].visible]
    if refused:
        return [], {}, refused
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
                    service_on=row.visited_at.astimezone(UTC).date().isoformat(),
                ),
                storage_key=row.storage_key,
                sha256=row.sha256,
            )
        )
    return parts, accounts, []


def _document_audit(
    ticket_id: uuid.UUID, by_account: dict[uuid.UUID, list[str]], page_count: int
) -> tuple[AuditEntry, ...]:
    # One entry per account the documents belong to (a TPA's download spans its clients).
    return tuple(
        AuditEntry(
            action="document.downloaded",
            result=AuditResult.ALLOWED,
            account_id=account_id,
            object_ids=tuple(ids),
            details={"ticket_id": str(ticket_id), "page_count": page_count},
        )
        for account_id, ids in by_account.items()
    )


async def documents_job(
    *,
    session: AsyncSession,
    principal: Principal,
    ticket: ClaimedTicket,
    storage: DocumentStorage,
    visible: VisibleCondition,
) -> DownloadJob:
    """A DOCUMENTS ticket: its documents merged in the order asked, one bookmark each.

    Raises ``DocumentsNoLongerAccessible`` when any of them may no longer be seen (or an API
    client lost ``documents:read``). Runs in ``session``'s open transaction (see
    ``DownloadProducer``)."""
    document_ids = ticket.object_ids
    if principal.kind is PrincipalKind.API_CLIENT and DOCUMENTS_READ_SCOPE not in principal.scopes:
        raise DocumentsNoLongerAccessible(ticket.id, document_ids)
    # Access checked and what to merge read by one statement.
    parts, accounts, refused = await merge_parts(
        session=session, document_ids=document_ids, visible=visible(principal)
    )
    if refused:
        raise DocumentsNoLongerAccessible(ticket.id, refused)
    by_account: dict[uuid.UUID, list[str]] = {}
    for document_id in document_ids:
        by_account.setdefault(accounts[document_id], []).append(str(document_id))
    return DownloadJob(
        stage=partial(_stage, storage, parts),
        audit=partial(_document_audit, ticket.id, by_account),
    )


async def _stage(
    storage: DocumentStorage, parts: Sequence[MergePart], folder: Path
) -> list[StagedPart]:
    return await stage_parts(storage=storage, parts=parts, folder=folder)
