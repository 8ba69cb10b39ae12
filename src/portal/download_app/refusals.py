"""How a refused download answers: JSON with ``errors[].extensions.code``, never a PDF."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from starlette.responses import JSONResponse

from portal.resolvers.downloads import TicketRefusal, TicketRefused
from portal.resolvers.errors import ErrorCode

# How each refusal answers: unknown URLs are 404, someone else's 403 (their ticket stays
# usable), spent or stale ones 410 Gone with a code saying which, a busy one 409.
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
    TicketRefusal.IN_PROGRESS: (
        409,
        ErrorCode.DOWNLOAD_IN_PROGRESS,
        "This download is being produced by another request; try again in a few seconds.",
    ),
    TicketRefusal.SESSION_ENDED: (
        410,
        ErrorCode.DOWNLOAD_EXPIRED,
        "The sign-in that prepared this download has ended; sign in and prepare it again.",
    ),
}
RETRY_AFTER_SECONDS = 5


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
    if code is ErrorCode.DOWNLOAD_IN_PROGRESS:
        headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code.value, **extensions}}]},
        status_code=status_code,
        headers=headers,
    )


def attachment_name(now: datetime) -> str:
    return f"results-{now.astimezone(UTC):%Y%m%d-%H%M}.pdf"


def refusal_for(refused: TicketRefused) -> Refusal:
    status_code, code, message = _REFUSALS[refused.reason]
    return Refusal(
        status_code,
        code,
        message,
        reason=refused.reason.value,
        object_ids=(str(refused.ticket_id),) if refused.ticket_id else (),
    )
