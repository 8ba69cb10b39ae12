"""The printable authorization as a download: a one-time URL through the download tickets
documents use (a ticket of kind ``AUTHORIZATION`` naming the authorization), the PDF rendered when
the URL is redeemed, after the caller's access is checked again."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from functools import partial
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.principal import Principal
from portal.models.enums import AuditResult
from portal.resolvers.audit import AuditEntry
from portal.resolvers.authorizations.pdf import (
    PrintableAuthorization,
    load_printable,
    render_authorization_pdf,
)
from portal.resolvers.authorizations.records import load_authorizations
from portal.resolvers.downloads.merge import StagedPart
from portal.resolvers.downloads.prepare import PreparedDownload, download_url
from portal.resolvers.downloads.redeem import DocumentsNoLongerAccessible, DownloadJob
from portal.resolvers.downloads.tickets import ClaimedTicket, TicketKind, issue_ticket
from portal.resolvers.errors import NotFound


async def prepare_authorization_download(
    *,
    session: AsyncSession,
    principal: Principal,
    authorization_id: uuid.UUID,
    ttl: timedelta,
    public_url: str,
) -> tuple[PreparedDownload, uuid.UUID]:
    """A one-time URL for the authorization's PDF, bound to the caller; commits. Answers it and
    the authorization's account."""
    [record] = await load_authorizations(
        session=session, principal=principal, ids=[authorization_id]
    )
    if record is None:
        await session.rollback()
        raise NotFound("No authorization of yours has this id.", field="id")
    ticket = await issue_ticket(
        session=session,
        principal=principal,
        object_ids=[authorization_id],
        ttl=ttl,
        kind=TicketKind.AUTHORIZATION,
    )
    await session.commit()
    return PreparedDownload(url=download_url(public_url, ticket.token), ticket=ticket), (
        record.account_id
    )


async def authorization_job(
    *, session: AsyncSession, principal: Principal, ticket: ClaimedTicket
) -> DownloadJob:
    """An AUTHORIZATION ticket: the printable PDF, if the caller may still see it. Runs in
    ``session``'s transaction (see ``DownloadProducer``)."""
    [authorization_id] = ticket.object_ids
    [record] = await load_authorizations(
        session=session, principal=principal, ids=[authorization_id]
    )
    printable = (
        await load_printable(session=session, authorization_id=authorization_id)
        if record is not None
        else None
    )
    if record is None or printable is None:
        raise DocumentsNoLongerAccessible(ticket.id, [authorization_id])
    audit = AuditEntry(
        action="authorization.downloaded",
        result=AuditResult.ALLOWED,
        account_id=record.account_id,
        object_ids=(str(authorization_id),),
        details={"ticket_id": str(ticket.id)},
    )
    return DownloadJob(
        stage=partial(_stage, printable),
        audit=lambda _pages: (audit,),
        filename=printable.filename,
    )


async def _stage(printable: PrintableAuthorization, folder: Path) -> list[StagedPart]:
    data = await asyncio.to_thread(render_authorization_pdf, printable)
    path = folder / "authorization.pdf"
    await asyncio.to_thread(path.write_bytes, data)
    return [StagedPart(path=str(path), title=f"Authorization {printable.number}")]
