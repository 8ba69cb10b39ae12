"""Expected failures raised by business logic, each with a stable code."""

from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    RATE_LIMITED = "RATE_LIMITED"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    INTERNAL = "INTERNAL"
    # A download asks for more documents than one merged PDF may hold.
    TOO_MANY_DOCUMENTS = "TOO_MANY_DOCUMENTS"
    # A prepared download URL past its few minutes, or already used once.
    DOWNLOAD_EXPIRED = "DOWNLOAD_EXPIRED"
    DOWNLOAD_ALREADY_USED = "DOWNLOAD_ALREADY_USED"


class PortalError(Exception):
    """An error the caller can act on; its message is safe to show."""

    code: ErrorCode = ErrorCode.BAD_USER_INPUT

    def __init__(
        self, message: str, *, code: ErrorCode | None = None, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field


class BadUserInput(PortalError):
    code = ErrorCode.BAD_USER_INPUT


class NotFound(PortalError):
    code = ErrorCode.NOT_FOUND


class Forbidden(PortalError):
    code = ErrorCode.FORBIDDEN


class Unauthenticated(PortalError):
    code = ErrorCode.UNAUTHENTICATED
