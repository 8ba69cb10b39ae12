"""GET /downloads/{token}: the merged PDF of a prepared download, once, to the one who prepared it.

The URL alone is not enough: the request must also carry the preparer's own bearer access token,
so a URL that leaks (a proxy log, a shared screen) is useless to anyone else. Every refusal is
audited and answers JSON with ``errors[].extensions.code``, like the GraphQL endpoint."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from portal.auth.bearer import authenticate_bearer, bearer_token
from portal.auth.principal import Principal
from portal.auth.tokens import InvalidTokenError, TokenService
from portal.middleware import request_id_of
from portal.models.enums import AuditResult
from portal.resolvers.audit import AuditEntry, RequestMeta, write_events
from portal.resolvers.downloads import (
    AccessCheck,
    DocumentIntegrityError,
    DocumentsNoLongerAccessible,
    RedeemedDownload,
    TicketRefusal,
    TicketRefused,
    redeem_download,
)
from portal.resolvers.errors import ErrorCode
from portal.storage import DocumentStorage

logger = logging.getLogger(__name__)

# How each refusal answers: unknown URLs are 404, someone else's 403 (their ticket stays
# usable), spent or stale ones 410 Gone with a code saying which.
_REFUSALS: dict[TicketRefusal, tuple[int, ErrorCode, str]] = {
    TicketRefusal.UNKNOWN: (
        404,
        ErrorCode.NOT_FOUND,
        "This download link does not exist.",
    ),
    TicketRefusal.FOREIGN: (
        403,
        ErrorCode.FORBIDDEN,
        "This download link was prepared by someone else; prepare your own download.",
    ),
    TicketRefusal.EXPIRED: (
        410,
        ErrorCode.DOWNLOAD_EXPIRED,
        "This download link has expired; prepare the download again.",
    ),
    TicketRefusal.USED: (
        410,
        ErrorCode.DOWNLOAD_ALREADY_USED,
        "This download link was already used; prepare the download again.",
    ),
}


@dataclass(frozen=True, slots=True)
class Refusal:
    status_code: int
    code: ErrorCode
    message: str
    reason: str
    object_ids: tuple[str, ...] = ()


def error_response(
    status_code: int, code: ErrorCode, message: str, request_id: str, **extensions: str
) -> JSONResponse:
    headers = {"X-Request-ID": request_id, "Cache-Control": "no-store"}
    if code is ErrorCode.UNAUTHENTICATED:
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code.value, **extensions}}]},
        status_code=status_code,
        headers=headers,
    )


def attachment_name(now: datetime) -> str:
    return f"results-{now.astimezone(UTC):%Y%m%d-%H%M}.pdf"


class DownloadEndpoint:
    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        tokens: TokenService,
        storage: DocumentStorage,
        accessible: AccessCheck,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.tokens = tokens
        self.storage = storage
        self.accessible = accessible

    async def _audit(
        self, *, principal: Principal, meta: RequestMeta, entries: Sequence[AuditEntry]
    ) -> None:
        await write_events(
            sessionmaker=self.sessionmaker, principal=principal, meta=meta, entries=entries
        )

    async def endpoint(self, request: Request) -> Response:
        request_id = request_id_of(request.scope)
        meta = RequestMeta(
            ip_address=request.client.host if request.client else None,
            request_id=request_id,
            operation_name=None,
        )
        # The request's session is closed before anything is audited: audit entries are written
        # in their own transaction, which must not sit inside the request's.
        async with self.sessionmaker() as session:
            try:
                principal = await authenticate_bearer(
                    session=session,
                    sessionmaker=self.sessionmaker,
                    tokens=self.tokens,
                    token=bearer_token(request.headers),
                    meta=meta,
                )
            except InvalidTokenError:
                return error_response(
                    401,
                    ErrorCode.UNAUTHENTICATED,
                    "The access token is invalid or expired; sign in again.",
                    request_id,
                )
            outcome = await self._redeem(
                session=session, principal=principal, token=request.path_params["token"]
            )
        if isinstance(outcome, Refusal):
            await self._audit(
                principal=principal,
                meta=meta,
                entries=[
                    AuditEntry(
                        action="document.download_refused",
                        result=AuditResult.DENIED,
                        object_ids=outcome.object_ids,
                        details={"reason": outcome.reason},
                    )
                ],
            )
            return error_response(
                outcome.status_code,
                outcome.code,
                outcome.message,
                request_id,
                **({"requestId": request_id} if outcome.code is ErrorCode.INTERNAL else {}),
            )
        await self._audit(principal=principal, meta=meta, entries=outcome.audit_entries)
        pdf = outcome.pdf
        pdf_name = outcome.filename
        return StreamingResponse(
            pdf.chunks(),
            media_type="application/pdf",
            headers={
                "Content-Disposition": (
                    f'attachment; filename="{pdf_name or attachment_name(datetime.now(UTC))}"'
                ),
                "Content-Length": str(pdf.size),
                "Cache-Control": "no-store",
                "X-Request-ID": request_id,
            },
            # The stream closes the file when it ends; this also covers a response never sent.
            background=BackgroundTask(pdf.close),
        )

    async def _redeem(
        self, *, session: AsyncSession, principal: Principal, token: str
    ) -> RedeemedDownload | Refusal:
        if not principal.is_authenticated:
            return Refusal(
                401,
                ErrorCode.UNAUTHENTICATED,
                "Send the access token of the one who prepared this download: "
                "`Authorization: Bearer <token>`.",
                reason="UNAUTHENTICATED",
            )
        try:
            return await redeem_download(
                session=session,
                principal=principal,
                token=token,
                storage=self.storage,
                accessible=self.accessible,
            )
        except TicketRefused as refused:
            await session.rollback()
            status_code, code, message = _REFUSALS[refused.reason]
            return Refusal(
                status_code,
                code,
                message,
                reason=refused.reason.value,
                object_ids=(str(refused.ticket_id),) if refused.ticket_id else (),
            )
        except DocumentsNoLongerAccessible as gone:
            return Refusal(
                403,
                ErrorCode.FORBIDDEN,
                "Some documents of this download are no longer available to you; "
                "prepare a new download.",
                reason="DOCUMENTS_NO_LONGER_ACCESSIBLE",
                object_ids=(str(gone.ticket_id), *(str(i) for i in gone.document_ids)),
            )
        except DocumentIntegrityError as broken:
            # Never serve bytes that differ from what was posted: alert, audit, refuse.
            logger.error("download refused: integrity check failed for %s", broken)
            return Refusal(
                500,
                ErrorCode.INTERNAL,
                "A document of this download could not be read intact. Quote the request id "
                "to support.",
                reason="INTEGRITY_CHECK_FAILED",
                object_ids=(str(broken.document_id),),
            )
