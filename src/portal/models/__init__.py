"""SQLModel tables, one module per domain. Importing this package registers every table."""

from sqlmodel import SQLModel

from portal.models.accounts import Account, Location, PortalLink
from portal.models.audit import AuditEvent
from portal.models.authorizations import (
    Authorization,
    AuthorizationEvent,
    AuthorizationRecipient,
    AuthorizationService,
)
from portal.models.catalog import (
    MedicalCenter,
    ReportType,
    Service,
    ServicePackage,
    ServicePackageItem,
)
from portal.models.credentials import OneTimeToken, OneTimeTokenPurpose, RecoveryCode
from portal.models.documents import Document
from portal.models.downloads import DownloadTicket
from portal.models.employees import Employee, EmployeeNameTrigram
from portal.models.idempotency import IdempotencyKey
from portal.models.outbox import OutboxMessage
from portal.models.people import (
    AccessRequest,
    ApiClient,
    Contact,
    NotificationPreference,
    PortalUser,
    ProviderClient,
    ReportSubscription,
    StaffUser,
    UserPermission,
)
from portal.models.sessions import (
    AuthSession,
    LoginFailure,
    LoginLockout,
    RefreshToken,
    SessionSubject,
)
from portal.models.support import SupportComment, SupportRequest, SupportRequestStatusChange
from portal.models.visits import Visit
from portal.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint

metadata = SQLModel.metadata

__all__ = [
    "AccessRequest",
    "Account",
    "ApiClient",
    "AuditEvent",
    "AuthSession",
    "Authorization",
    "AuthorizationEvent",
    "AuthorizationRecipient",
    "AuthorizationService",
    "Contact",
    "Document",
    "DownloadTicket",
    "Employee",
    "EmployeeNameTrigram",
    "IdempotencyKey",
    "Location",
    "LoginFailure",
    "LoginLockout",
    "MedicalCenter",
    "NotificationPreference",
    "OneTimeToken",
    "OneTimeTokenPurpose",
    "OutboxMessage",
    "PortalLink",
    "PortalUser",
    "ProviderClient",
    "RecoveryCode",
    "RefreshToken",
    "ReportSubscription",
    "ReportType",
    "SQLModel",
    "Service",
    "ServicePackage",
    "ServicePackageItem",
    "SessionSubject",
    "StaffUser",
    "SupportComment",
    "SupportRequest",
    "SupportRequestStatusChange",
    "UserPermission",
    "Visit",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "metadata",
]
