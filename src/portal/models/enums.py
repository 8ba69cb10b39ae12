"""Enumerations shared by the tables and the GraphQL schema."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    USER_ADMIN = "USER_ADMIN"
    BASIC = "BASIC"


class Permission(StrEnum):
    VIEW_VISIT_ACTIVITY = "VIEW_VISIT_ACTIVITY"


class UserStatus(StrEnum):
    INVITED = "INVITED"
    ACTIVE = "ACTIVE"
    DEACTIVATED = "DEACTIVATED"


class AccessRequestStatus(StrEnum):
    PENDING = "PENDING"
    APPROVED = "APPROVED"
    DECLINED = "DECLINED"


class ServiceCategory(StrEnum):
    INJURY = "INJURY"
    NON_INJURY = "NON_INJURY"


class Modality(StrEnum):
    IN_CENTER = "IN_CENTER"
    CENTER_TELEMEDICINE = "CENTER_TELEMEDICINE"
    TELEMEDICINE = "TELEMEDICINE"
    TELEREHAB = "TELEREHAB"


CENTER_MODALITIES = frozenset({Modality.IN_CENTER, Modality.CENTER_TELEMEDICINE})


class AuthorizationState(StrEnum):
    """Stored state; EXPIRED is derived from the dates and never stored."""

    ACTIVE = "ACTIVE"
    USED = "USED"
    CANCELLED = "CANCELLED"


class AuthorizationStatus(StrEnum):
    ACTIVE = "ACTIVE"
    EXPIRED = "EXPIRED"
    USED = "USED"
    CANCELLED = "CANCELLED"


class AuthorizationEventKind(StrEnum):
    CREATED = "CREATED"
    SENT = "SENT"
    # A later send (sendAuthorization, an extension sent again) to a recipient sent to before.
    RESENT = "RESENT"
    EXTENDED = "EXTENDED"
    CANCELLED = "CANCELLED"
    USED = "USED"
    DELETED = "DELETED"


class RecipientKind(StrEnum):
    EMPLOYEE = "EMPLOYEE"
    OTHER = "OTHER"


class VisitType(StrEnum):
    INJURY = "INJURY"
    NON_INJURY = "NON_INJURY"


class VisitStatus(StrEnum):
    CHECKED_IN = "CHECKED_IN"
    CHECKED_OUT = "CHECKED_OUT"
    RESULTS_PENDING = "RESULTS_PENDING"
    COMPLETE = "COMPLETE"


class SupportRequestType(StrEnum):
    ACCOUNT_UPDATE = "ACCOUNT_UPDATE"
    TREATMENT_RESULT = "TREATMENT_RESULT"


class SupportTopic(StrEnum):
    # ACCOUNT_UPDATE topics
    NEW_REPORT_TYPE = "NEW_REPORT_TYPE"
    EMAIL_CHANGE = "EMAIL_CHANGE"
    NOTIFICATIONS = "NOTIFICATIONS"
    ADD_REMOVE_SERVICES = "ADD_REMOVE_SERVICES"
    OTHER = "OTHER"
    # TREATMENT_RESULT topics
    SERVICES_QUESTION = "SERVICES_QUESTION"
    MISSING_RESULTS = "MISSING_RESULTS"
    BILLING = "BILLING"
    PRIVACY = "PRIVACY"


ACCOUNT_UPDATE_TOPICS = frozenset(
    {
        SupportTopic.NEW_REPORT_TYPE,
        SupportTopic.EMAIL_CHANGE,
        SupportTopic.NOTIFICATIONS,
        SupportTopic.ADD_REMOVE_SERVICES,
        SupportTopic.OTHER,
    }
)


class SupportRequestStatus(StrEnum):
    NEW = "NEW"
    IN_PROGRESS = "IN_PROGRESS"
    RESOLVED = "RESOLVED"
    CLOSED = "CLOSED"


class ActorType(StrEnum):
    USER = "USER"
    STAFF = "STAFF"
    API_CLIENT = "API_CLIENT"
    # One of the provider's own systems (provider_clients), posting visits and results.
    PROVIDER_CLIENT = "PROVIDER_CLIENT"
    ANONYMOUS = "ANONYMOUS"
    SYSTEM = "SYSTEM"


class AuditResult(StrEnum):
    ALLOWED = "ALLOWED"
    DENIED = "DENIED"


class OutboxChannel(StrEnum):
    EMAIL = "EMAIL"
    WEBHOOK = "WEBHOOK"


class OutboxStatus(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


class StorageClass(StrEnum):
    """Where a document's bytes live: archived ones may move to a colder, cheaper class."""

    STANDARD = "STANDARD"
    COLD = "COLD"


class WebhookEvent(StrEnum):
    """The webhook event catalog; the value is the event's ``type`` in the body."""

    DOCUMENT_POSTED = "document.posted"
    DOCUMENT_RETRACTED = "document.retracted"
    AUTHORIZATION_CREATED = "authorization.created"
    AUTHORIZATION_SENT = "authorization.sent"
    AUTHORIZATION_EXPIRED = "authorization.expired"
    VISIT_STATUS_CHANGED = "visit.status_changed"
    SUPPORT_REQUEST_STATUS_CHANGED = "support_request.status_changed"


class WebhookDeliveryStatus(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


class WebhookDisabledReason(StrEnum):
    """Why an endpoint receives nothing: turned off by a person, or failing for too long."""

    MANUAL = "MANUAL"
    FAILING = "FAILING"
