"""Download tickets: a random one-time token, stored only as its SHA-256, bound to its preparer.

The token travels in the download URL; the database keeps its hash, so a leaked table row cannot
be turned back into a working URL. Redeeming claims the ticket in one ``UPDATE ... RETURNING``:
two concurrent requests with the same URL cannot both get the PDF."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal, PrincipalKind
from portal.models.downloads import MAX_DOCUMENTS_PER_DOWNLOAD, DownloadTicket

# 256 bits: the URL is the secret, so it must not be guessable.
TOKEN_BYTES = 32


class TicketRefusal(StrEnum):
    """Why a ticket cannot be redeemed (most specific first)."""

    UNKNOWN = "UNKNOWN"
    FOREIGN = "FOREIGN"
    EXPIRED = "EXPIRED"
    USED = "USED"


@dataclass(frozen=True, slots=True)
class IssuedTicket:
    id: uuid.UUID
    token: str
    expires_at: datetime
    document_count: int


@dataclass(frozen=True, slots=True)
class ClaimedTicket:
    id: uuid.UUID
    document_ids: tuple[uuid.UUID, ...]
    # Set for an authorization's printable PDF (then there are no documents).
    authorization_id: uuid.UUID | None = None


class TicketRefused(Exception):
    def __init__(self, reason: TicketRefusal, ticket_id: uuid.UUID | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.ticket_id = ticket_id


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _subject(principal: Principal) -> tuple[str, uuid.UUID]:
    """The ticket column naming this principal (people, staff and API clients may download)."""
    if principal.id is None:
        raise ValueError("an anonymous caller cannot hold a download ticket")
    match principal.kind:
        case PrincipalKind.USER:
            return "user_id", principal.id
        case PrincipalKind.STAFF:
            return "staff_id", principal.id
        case PrincipalKind.API_CLIENT:
            return "api_client_id", principal.id
        case _:
            raise ValueError("an anonymous caller cannot hold a download ticket")


async def issue_ticket(
    *,
    session: AsyncSession,
    principal: Principal,
    document_ids: Sequence[uuid.UUID],
    ttl: timedelta,
    authorization_id: uuid.UUID | None = None,
) -> IssuedTicket:
    """Record a ticket for ``document_ids`` (in order, already checked), or for one
    authorization's printable PDF (already checked, no documents); the caller commits."""
    if authorization_id is not None and document_ids:
        raise ValueError("a ticket is for documents or for an authorization, not both")
    if authorization_id is None and not 1 <= len(document_ids) <= MAX_DOCUMENTS_PER_DOWNLOAD:
        raise ValueError("a download holds 1 to 200 documents")
    column, subject_id = _subject(principal)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    row = (
        await session.execute(
            sa.insert(DownloadTicket)
            .values(
                id=uuid.uuid4(),
                token_hash=hash_token(token),
                document_ids=list(document_ids),
                authorization_id=authorization_id,
                expires_at=sa.func.now() + ttl,
                **{column: subject_id},
            )
            .returning(col(DownloadTicket.id), col(DownloadTicket.expires_at))
        )
    ).one()
    return IssuedTicket(
        id=row.id, token=token, expires_at=row.expires_at, document_count=len(document_ids)
    )


async def claim_ticket(*, session: AsyncSession, principal: Principal, token: str) -> ClaimedTicket:
    """Spend the ticket of ``token`` for ``principal``, or raise ``TicketRefused``.

    The claim and its conditions are one statement, so a ticket is spent at most once. A refused
    claim changes nothing: another principal presenting the URL does not burn the owner's ticket.
    The caller commits."""
    token_hash = hash_token(token)
    column, subject_id = _subject(principal)
    subject = getattr(DownloadTicket, column)
    claimed = (
        await session.execute(
            sa.update(DownloadTicket)
            .where(
                col(DownloadTicket.token_hash) == token_hash,
                col(subject) == subject_id,
                col(DownloadTicket.used_at).is_(None),
                col(DownloadTicket.expires_at) > sa.func.now(),
            )
            .values(used_at=sa.func.now())
            .returning(
                col(DownloadTicket.id),
                col(DownloadTicket.document_ids),
                col(DownloadTicket.authorization_id),
            )
        )
    ).one_or_none()
    if claimed is not None:
        return ClaimedTicket(
            id=claimed.id,
            document_ids=tuple(claimed.document_ids),
            authorization_id=claimed.authorization_id,
        )
    # Not claimable: say why, in the order that reveals least to someone else holding the URL.
    found = (
        await session.execute(
            sa.select(
                col(DownloadTicket.id),
                (col(subject) == subject_id).label("owned"),
                col(DownloadTicket.used_at).is_not(None).label("used"),
                (col(DownloadTicket.expires_at) <= sa.func.now()).label("expired"),
            ).where(col(DownloadTicket.token_hash) == token_hash)
        )
    ).one_or_none()
    if found is None:
        raise TicketRefused(TicketRefusal.UNKNOWN)
    if not found.owned:
        raise TicketRefused(TicketRefusal.FOREIGN, found.id)
    if found.used:
        raise TicketRefused(TicketRefusal.USED, found.id)
    raise TicketRefused(TicketRefusal.EXPIRED, found.id)
