"""Download tickets: a random one-time token, stored only as its SHA-256, bound to its preparer.

The token travels in the download URL and is the only credential it needs (a presigned URL); the
database keeps its hash, so a leaked table row cannot be turned back into a working URL. A ticket
names its kind (what it downloads), the principal who prepared it and their sign-in session.

Redeeming is two steps. ``claim_by_token`` finds the ticket and takes it for a short lease in one
``UPDATE ... RETURNING``, so two concurrent requests with the same URL cannot both produce the
PDF; ``spend_ticket`` marks it used once the PDF has been delivered. ``release_claim`` gives it
back when the delivery failed, and a redemption that died without releasing (a killed process)
loses its claim when the lease runs out.

A ticket is no tenant row (``download_tickets`` has no row-level security: a ticket is found by
its token's hash, never by account), so finding, claiming and spending one need no scope: a
transaction such a statement begins is not scoped first (``execute_unscoped``), one round trip
fewer."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal, PrincipalKind
from portal.auth.tokens import SubjectKind
from portal.models.db import execute_unscoped, in_open_transaction
from portal.models.downloads import MAX_DOCUMENTS_PER_DOWNLOAD, DownloadTicket
from portal.models.driver import fetch_alone
from portal.resolvers.audit import bound_recorded_ctes, recorded_ctes, recorded_values

# 256 bits: the URL is the secret, so it must not be guessable.
TOKEN_BYTES = 32


class TicketKind(StrEnum):
    """What a ticket downloads; each kind has its own producer (``portal.download_app``)."""

    DOCUMENTS = "DOCUMENTS"
    # One authorization's printable PDF (``object_ids`` holds its id).
    AUTHORIZATION = "AUTHORIZATION"


class TicketRefusal(StrEnum):
    """Why a ticket cannot be redeemed (most specific first)."""

    UNKNOWN = "UNKNOWN"
    FOREIGN = "FOREIGN"
    EXPIRED = "EXPIRED"
    USED = "USED"
    # Another request is producing this download right now.
    IN_PROGRESS = "IN_PROGRESS"
    # The preparer's sign-in session ended, or the preparer is no longer active.
    SESSION_ENDED = "SESSION_ENDED"


@dataclass(frozen=True, slots=True)
class IssuedTicket:
    id: uuid.UUID
    token: str
    expires_at: datetime
    document_count: int


@dataclass(frozen=True, slots=True)
class TicketRecord:
    """A ticket found by its token, before it is claimed."""

    id: uuid.UUID
    kind: str
    object_ids: tuple[uuid.UUID, ...]
    subject_kind: SubjectKind
    subject_id: uuid.UUID
    session_id: uuid.UUID | None
    used: bool
    expired: bool
    claimed: bool

    def owned_by(self, principal: Principal) -> bool:
        return _subject_of(principal) == (self.subject_kind, self.subject_id)


@dataclass(frozen=True, slots=True)
class ClaimedTicket:
    id: uuid.UUID
    claim_id: uuid.UUID
    kind: str
    object_ids: tuple[uuid.UUID, ...]


class TicketRefused(Exception):
    def __init__(self, reason: TicketRefusal, ticket_id: uuid.UUID | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.ticket_id = ticket_id


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_COLUMNS = {
    SubjectKind.USER: "user_id",
    SubjectKind.STAFF: "staff_id",
    SubjectKind.CLIENT: "api_client_id",
}


def _subject_of(principal: Principal) -> tuple[SubjectKind, uuid.UUID] | None:
    if principal.id is None or principal.provider_system:
        return None
    match principal.kind:
        case PrincipalKind.USER:
            return SubjectKind.USER, principal.id
        case PrincipalKind.STAFF:
            return SubjectKind.STAFF, principal.id
        case PrincipalKind.API_CLIENT:
            return SubjectKind.CLIENT, principal.id
        case _:
            return None


async def issue_ticket(
    *,
    session: AsyncSession,
    principal: Principal,
    object_ids: Sequence[uuid.UUID],
    ttl: timedelta,
    kind: str = TicketKind.DOCUMENTS,
    audit_rows: Callable[[uuid.UUID], Sequence[dict[str, Any]]] | None = None,
) -> IssuedTicket:
    """Record a ticket of ``kind`` for ``object_ids`` (in order, already checked), bound to the
    principal and their sign-in session; the caller commits.

    ``audit_rows``, given the new ticket's id, answers the audit rows (``audit.to_row``) that
    record it: they are inserted by the same statement as the ticket (one round trip, and never
    one without the other)."""
    if not 1 <= len(object_ids) <= MAX_DOCUMENTS_PER_DOWNLOAD:
        raise ValueError("a download holds 1 to 200 objects")
    subject = _subject_of(principal)
    if subject is None:
        raise ValueError("only a person, staff or an employer's API client may hold a ticket")
    subject_kind, subject_id = subject
    token = secrets.token_urlsafe(TOKEN_BYTES)
    ticket_id = uuid.uuid4()
    insert = (
        sa.insert(DownloadTicket)
        .values(
            id=ticket_id,
            token_hash=hash_token(token),
            kind=str(kind),
            object_ids=list(object_ids),
            session_id=principal.session_id,
            expires_at=sa.func.now() + ttl,
            **{_COLUMNS[subject_kind]: subject_id},
        )
        .returning(col(DownloadTicket.id), col(DownloadTicket.expires_at))
    )
    rows = audit_rows(ticket_id) if audit_rows is not None else ()
    statement: sa.Executable = insert
    if rows:
        ticket = insert.cte("ticket")
        statement = sa.select(ticket.c.id, ticket.c.expires_at).add_cte(*recorded_ctes(rows))
    row = (await session.execute(statement)).one()
    return IssuedTicket(
        id=row.id, token=token, expires_at=row.expires_at, document_count=len(object_ids)
    )


_RECORD_COLUMNS = (
    col(DownloadTicket.id),
    col(DownloadTicket.kind),
    col(DownloadTicket.object_ids),
    col(DownloadTicket.user_id),
    col(DownloadTicket.staff_id),
    col(DownloadTicket.api_client_id),
    col(DownloadTicket.session_id),
)


def _record(row: Any, *, used: bool, expired: bool, claimed: bool) -> TicketRecord:
    if row.user_id is not None:
        subject = (SubjectKind.USER, row.user_id)
    elif row.staff_id is not None:
        subject = (SubjectKind.STAFF, row.staff_id)
    else:
        subject = (SubjectKind.CLIENT, row.api_client_id)
    return TicketRecord(
        id=row.id,
        kind=row.kind,
        object_ids=tuple(row.object_ids),
        subject_kind=subject[0],
        subject_id=subject[1],
        session_id=row.session_id,
        used=used,
        expired=expired,
        claimed=claimed,
    )


# The statements finding and claiming a ticket by its token, built once (their values bound
# parameters, named unlike any column: an UPDATE takes a parameter named as a column to SET).
_TOKEN_HASH = sa.bindparam("ticket_token_hash", type_=sa.String)
_FIND = sa.select(
    *_RECORD_COLUMNS,
    col(DownloadTicket.used_at).is_not(None).label("used"),
    (col(DownloadTicket.expires_at) <= sa.func.now()).label("expired"),
    sa.func.coalesce(col(DownloadTicket.claimed_until) > sa.func.now(), False).label("claimed"),
).where(col(DownloadTicket.token_hash) == _TOKEN_HASH)
_CLAIM = (
    sa.update(DownloadTicket)
    .where(
        col(DownloadTicket.token_hash) == _TOKEN_HASH,
        col(DownloadTicket.used_at).is_(None),
        col(DownloadTicket.expires_at) > sa.func.now(),
        sa.or_(
            col(DownloadTicket.claimed_until).is_(None),
            col(DownloadTicket.claimed_until) <= sa.func.now(),
        ),
    )
    .values(
        claim_id=sa.bindparam("new_claim_id", type_=sa.Uuid),
        claimed_until=sa.func.now() + sa.bindparam("claim_lease", type_=sa.Interval),
    )
    .returning(*_RECORD_COLUMNS)
)


async def find_ticket(*, session: AsyncSession, token: str) -> TicketRecord:
    """The ticket of ``token`` and its state; ``TicketRefused(UNKNOWN)`` when there is none."""
    row = await execute_unscoped(session, _FIND, {_TOKEN_HASH.key: hash_token(token)})
    if row is None:
        raise TicketRefused(TicketRefusal.UNKNOWN)
    return _record(row, used=bool(row.used), expired=bool(row.expired), claimed=bool(row.claimed))


def check_claimable(ticket: TicketRecord) -> None:
    """Raise ``TicketRefused`` when ``ticket`` cannot be claimed now (used, expired, busy)."""
    if ticket.used:
        raise TicketRefused(TicketRefusal.USED, ticket.id)
    if ticket.expired:
        raise TicketRefused(TicketRefusal.EXPIRED, ticket.id)
    if ticket.claimed:
        raise TicketRefused(TicketRefusal.IN_PROGRESS, ticket.id)


@dataclass(frozen=True, slots=True)
class TicketClaim:
    """A ticket found by its token and, when it was claimable, claimed."""

    ticket: TicketRecord
    # None: it could not be claimed (``check_claimable`` says why; if it says nothing, another
    # redemption took it at the same moment).
    claimed: ClaimedTicket | None


async def claim_by_token(*, session: AsyncSession, token: str, lease: timedelta) -> TicketClaim:
    """Find the ticket of ``token`` and take it for ``lease`` when it can be claimed, in one
    ``UPDATE ... RETURNING`` (a second statement only when it could not be claimed, to say why);
    ``TicketRefused(UNKNOWN)`` when there is none. The caller commits the claim, or rolls it
    back when a later check refuses the redemption.

    The claim and its conditions are one statement, so of two concurrent redemptions one wins."""
    claim_id = uuid.uuid4()
    row = await execute_unscoped(
        session,
        _CLAIM,
        {_TOKEN_HASH.key: hash_token(token), "new_claim_id": claim_id, "claim_lease": lease},
    )
    if row is None:
        return TicketClaim(ticket=await find_ticket(session=session, token=token), claimed=None)
    ticket = _record(row, used=False, expired=False, claimed=False)
    return TicketClaim(
        ticket=ticket,
        claimed=ClaimedTicket(
            id=ticket.id, claim_id=claim_id, kind=ticket.kind, object_ids=ticket.object_ids
        ),
    )


async def renew_claim(*, session: AsyncSession, ticket: ClaimedTicket, lease: timedelta) -> bool:
    """Extend a claim still held; commits. False when it was lost (its lease ran out and another
    request claimed the ticket)."""
    result = await session.execute(
        sa.update(DownloadTicket)
        .where(
            col(DownloadTicket.id) == ticket.id,
            col(DownloadTicket.claim_id) == ticket.claim_id,
            col(DownloadTicket.used_at).is_(None),
        )
        .values(claimed_until=sa.func.now() + lease)
        .returning(col(DownloadTicket.id))
    )
    renewed = result.one_or_none() is not None
    await session.commit()
    return renewed


async def release_claim(*, session: AsyncSession, ticket: ClaimedTicket) -> None:
    """Give the ticket back unspent (nothing was delivered); commits."""
    await session.execute(
        sa.update(DownloadTicket)
        .where(
            col(DownloadTicket.id) == ticket.id,
            col(DownloadTicket.claim_id) == ticket.claim_id,
            col(DownloadTicket.used_at).is_(None),
        )
        .values(claim_id=None, claimed_until=None)
    )
    await session.commit()


@cache
def _spend_statement(audit_rows: int) -> sa.Select[Any]:
    """The spend of a ticket with ``audit_rows`` audit rows, built once per count."""
    spent = (
        sa.update(DownloadTicket)
        .where(
            # Named unlike any column (an UPDATE takes a parameter named as a column to SET).
            col(DownloadTicket.id) == sa.bindparam("spent_ticket_id", type_=sa.Uuid),
            col(DownloadTicket.claim_id) == sa.bindparam("spent_claim_id", type_=sa.Uuid),
            col(DownloadTicket.used_at).is_(None),
        )
        .values(used_at=sa.func.now(), claimed_until=sa.null())
        .returning(col(DownloadTicket.id))
        .cte("spent")
    )
    return (
        sa.select(sa.func.count().label("spent"))
        .select_from(spent)
        .add_cte(*bound_recorded_ctes(audit_rows))
    )


async def spend_ticket(
    *, session: AsyncSession, ticket: ClaimedTicket, audit_rows: Sequence[dict[str, Any]] = ()
) -> bool:
    """Mark the ticket used now that its PDF has been delivered, and insert the delivery's audit
    rows (``audit.to_row``) in the same statement, whether or not the ticket could be spent.
    False when the claim had been lost meanwhile (the ticket was spent by someone else's
    redemption).

    Outside a transaction the statement runs alone on the driver when it may (``fetch_alone``:
    one round trip, committed by PostgreSQL as it ends); otherwise in the session's transaction,
    which the caller commits (a commit with nothing to commit costs nothing)."""
    statement = _spend_statement(len(audit_rows))
    values = {
        "spent_ticket_id": ticket.id,
        "spent_claim_id": ticket.claim_id,
        **recorded_values(audit_rows),
    }
    if not in_open_transaction(session):
        ran, alone = await fetch_alone(session.bind, statement, values)
        if ran:
            return bool(alone.spent)
    row = await execute_unscoped(session, statement, values)
    return row is not None and bool(row.spent)
