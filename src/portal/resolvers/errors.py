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
    # On a list of passwords known from breaches (apart from merely easy to guess).
    PASSWORD_BREACHED = "PASSWORD_BREACHED"  # noqa: S105
    PASSWORD_CONTAINS_EMAIL = "PASSWORD_CONTAINS_EMAIL"  # noqa: S105
    PASSWORD_CONTAINS_PRODUCT_NAME = "PASSWORD_CONTAINS_PRODUCT_NAME"  # noqa: S105
    INCORRECT_PASSWORD = "INCORRECT_PASSWORD"  # noqa: S105
    INVALID_TOKEN = "INVALID_TOKEN"  # noqa: S105
    USER_ALREADY_ACTIVE = "USER_ALREADY_ACTIVE"
    # Document uploads (ingestion): why a file was refused.
    NOT_A_PDF = "NOT_A_PDF"
    PDF_ENCRYPTED = "PDF_ENCRYPTED"
    PDF_CORRUPT = "PDF_CORRUPT"
    # A PDF whose pages inflate far past its size (a decompression bomb), or too slow to check.
    PDF_TOO_COMPLEX = "PDF_TOO_COMPLEX"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    EMPTY_FILE = "EMPTY_FILE"
    # A change of state the object's current state does not allow (e.g. a visit's status).
    INVALID_TRANSITION = "INVALID_TRANSITION"
    # A download asks for more documents than one merged PDF may hold.
    TOO_MANY_DOCUMENTS = "TOO_MANY_DOCUMENTS"
    # A prepared download URL past its few minutes, or already used once.
    DOWNLOAD_EXPIRED = "DOWNLOAD_EXPIRED"
    DOWNLOAD_ALREADY_USED = "DOWNLOAD_ALREADY_USED"
    # Account administration: a location still referenced, a work email already used by a contact
    # of the account, an access request already pending or already decided.
    LOCATION_IN_USE = "LOCATION_IN_USE"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    ACCESS_REQUEST_PENDING = "ACCESS_REQUEST_PENDING"
    ACCESS_REQUEST_DECIDED = "ACCESS_REQUEST_DECIDED"
    # A webhook URL the portal never calls (not https, or resolving to a loopback, private,
    # link-local or cloud-metadata address).
    UNSAFE_URL = "UNSAFE_URL"
    # An account already has as many of these (e.g. webhooks) as it may.
    LIMIT_REACHED = "LIMIT_REACHED"
    # login: the password was right and a second factor is enrolled: send `totp` (or a
    # `recoveryCode`) with it.
    TOTP_REQUIRED = "TOTP_REQUIRED"
    # A provider system named an employee by account and employee number (or name and date of
    # birth) and no employee, or more than one, matches.
    EMPLOYEE_NOT_FOUND = "EMPLOYEE_NOT_FOUND"
    EMPLOYEE_AMBIGUOUS = "EMPLOYEE_AMBIGUOUS"
    # /graphql over HTTP: a method other than POST (405), or a JSON array of operations (400).
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    BATCH_NOT_SUPPORTED = "BATCH_NOT_SUPPORTED"
    # An idempotency key already used by this caller for this operation with a different input.
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    # A support request's topic that is not one of its type's topics.
    TOPIC_NOT_IN_TYPE = "TOPIC_NOT_IN_TYPE"
    # "My results are missing" before the visit's results are due (the message says when).
    RESULTS_NOT_YET_DUE = "RESULTS_NOT_YET_DUE"
    # A new employee given inline looks like one the account already has (same employee number,
    # or same name and date of birth): the message names the existing one.
    DUPLICATE_EMPLOYEE = "DUPLICATE_EMPLOYEE"
    # An authorization (PHI) may be emailed only to the employee, the account's contacts and
    # addresses at the account's own email domains.
    RECIPIENT_NOT_ALLOWED = "RECIPIENT_NOT_ALLOWED"
    # Another request is producing this download right now; retry after a few seconds.
    DOWNLOAD_IN_PROGRESS = "DOWNLOAD_IN_PROGRESS"


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
