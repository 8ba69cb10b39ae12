"""The printable authorization as a download: a one-time URL through the download tickets
documents use (a ticket of the second kind, naming the authorization), the PDF rendered when the
URL is redeemed, after the caller's access is checked again."""

from __future__ import annotations

import asyncio
import io
import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.principal import Principal
from portal.models.enums import AuditResult
from portal.resolvers.audit import AuditEntry
from portal.resolvers.authorizations.pdf import load_printable, render_authorization_pdf
from portal.resolvers.authorizations.records import load_authorizations
from portal.resolvers.downloads.merge import MergedPdf
from portal.resolvers.downloads.prepare import PreparedDownload, download_url
from portal.resolvers.downloads.redeem import DocumentsNoLongerAccessible, RedeemedDownload
from portal.resolvers.downloads.tickets import issue_ticket
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
        document_ids=[],
        ttl=ttl,
        authorization_id=authorization_id,
    )
    await session.commit()
    return PreparedDownload(url=download_url(public_url, ticket.token), ticket=ticket), (
        record.account_id
    )


async def redeem_authorization(
    *,
    session: AsyncSession,
    principal: Principal,
    ticket_id: uuid.UUID,
    authorization_id: uuid.UUID,
) -> RedeemedDownload:
    """The PDF of a claimed ticket, if the caller may still see the authorization."""
    [record] = await load_authorizations(
        session=session, principal=principal, ids=[authorization_id]
    )
    printable = (
        await load_printable(session=session, authorization_id=authorization_id)
        if record is not None
        else None
    )
    await session.rollback()
    if record is None or printable is None:
        raise DocumentsNoLongerAccessible(ticket_id, [authorization_id])
    data = await asyncio.to_thread(render_authorization_pdf, printable)
    return RedeemedDownload(
        ticket_id=ticket_id,
        pdf=MergedPdf(file=io.BytesIO(data), size=len(data), page_count=1),
        audit_entries=(
            AuditEntry(
                action="authorization.downloaded",
                result=AuditResult.ALLOWED,
                account_id=record.account_id,
                object_ids=(str(authorization_id),),
                details={"ticket_id": str(ticket_id)},
            ),
        ),
        filename=printable.filename,
    )
