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
    # The database is down, restarting or out of connections: retry after ``Retry-After``.
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    # Passwords and emailed links (password reset, invitations).
    PASSWORD_TOO_SHORT = "PASSWORD_TOO_SHORT"  # noqa: S105 -- error codes, not secrets
    PASSWORD_TOO_LONG = "PASSWORD_TOO_LONG"  # noqa: S105
    PASSWORD_TOO_COMMON = "PASSWORD_TOO_COMMON"  # noqa: S105
    PASSWORD_CONTAINS_EMAIL = "PASSWORD_CONTAINS_EMAIL"  # noqa: S105
    PASSWORD_CONTAINS_PRODUCT_NAME = "PASSWORD_CONTAINS_PRODUCT_NAME"  # noqa: S105
    INCORRECT_PASSWORD = "INCORRECT_PASSWORD"  # noqa: S105
    INVALID_TOKEN = "INVALID_TOKEN"  # noqa: S105
    USER_ALREADY_ACTIVE = "USER_ALREADY_ACTIVE"
    # Document uploads (ingestion): why a file was refused.
    NOT_A_PDF = "NOT_A_PDF"
    PDF_ENCRYPTED = "PDF_ENCRYPTED"
    PDF_CORRUPT = "PDF_CORRUPT"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    EMPTY_FILE = "EMPTY_FILE"
    # A change of state the object's current state does not allow (e.g. a visit's status).
    INVALID_TRANSITION = "INVALID_TRANSITION"
    # A download asks for more documents than one merged PDF may hold.
    TOO_MANY_DOCUMENTS = "TOO_MANY_DOCUMENTS"
    # A prepared download URL past its few minutes, or already used once.
    DOWNLOAD_EXPIRED = "DOWNLOAD_EXPIRED"
    DOWNLOAD_ALREADY_USED = "DOWNLOAD_ALREADY_USED"


class PortalError(Exception):
    """An error the caller can act on; its message is safe to show."""

    code: ErrorCode = ErrorCode.BAD_USER_INPUT
    # A finer, stable reason beside the code (``extensions.reason``), where clients act on it.
    reason: str | None = None

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


class ServiceUnavailable(PortalError):
    """The request could not be completed now (the database is unreachable, or the audit trail
    could not be written); nothing was answered from it. Retry shortly."""

    code = ErrorCode.SERVICE_UNAVAILABLE


class MfaEnrollmentRequired(Forbidden):
    """The session is restricted until the person enrols a second factor."""

    reason = "MFA_ENROLLMENT_REQUIRED"
