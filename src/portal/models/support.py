"""Support requests, their comment threads and their status history."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.models.base import TimestampedTable, enum_column, fk, timestamp, uuid_pk
from portal.models.enums import (
    SupportRequestStatus,
    SupportRequestType,
    SupportTopic,
    VisitStatus,
)

# Request numbers (``SR-000123``) come from this sequence: unique without locking the table.
SUPPORT_REQUEST_NUMBERS = sa.Sequence("support_request_numbers", metadata=SQLModel.metadata)

_ACCOUNT_UPDATE_TOPICS = (
    "('NEW_REPORT_TYPE', 'EMAIL_CHANGE', 'NOTIFICATIONS', 'ADD_REMOVE_SERVICES', 'OTHER')"
)


class SupportRequest(TimestampedTable, table=True):
    __tablename__ = "support_requests"
    __table_args__ = (
        sa.CheckConstraint(
            f"(request_type = 'ACCOUNT_UPDATE') = (topic IN {_ACCOUNT_UPDATE_TOPICS})",
            name="topic_matches_type",
        ),
        sa.CheckConstraint("length(btrim(description)) > 0", name="description_not_blank"),
        sa.CheckConstraint(
            "(requester_user_id IS NULL) <> (requester_staff_id IS NULL)", name="one_requester"
        ),
        sa.Index(
            "ix_support_requests_account_id_created_at", "account_id", sa.text("created_at DESC")
        ),
    )

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID = fk("accounts.id", ondelete="CASCADE", index=False)
    number: str = Field(max_length=20, unique=True)
    request_type: SupportRequestType = enum_column(SupportRequestType)
    topic: SupportTopic = enum_column(SupportTopic)
    # A privacy concern (information received in error) is always urgent.
    urgent: bool | None = Field(
        default=None,
        sa_column_args=[sa.Computed("topic = 'PRIVACY'", persisted=True)],
        sa_type=sa.Boolean,
    )
    status: SupportRequestStatus = enum_column(
        SupportRequestStatus, default=SupportRequestStatus.NEW
    )
    requester_user_id: uuid.UUID | None = fk("portal_users.id", nullable=True, ondelete="SET NULL")
    requester_staff_id: uuid.UUID | None = fk("staff_users.id", nullable=True, index=False)
    assigned_staff_id: uuid.UUID | None = fk("staff_users.id", nullable=True, index=False)
    # Indexed: a document's or visit's requests are looked up by these.
    document_id: uuid.UUID | None = fk("documents.id", nullable=True)
    visit_id: uuid.UUID | None = fk("visits.id", nullable=True)
    subject: str = Field(max_length=200)
    description: str = Field(max_length=5000)
    # The visit's status when a missing-results request was opened.
    visit_status: VisitStatus | None = enum_column(VisitStatus, default=None, nullable=True)
    # When it last became RESOLVED: the requester may reopen it for a while after.
    resolved_at: datetime | None = timestamp(nullable=True)
    # What the requester is told of the outcome (e.g. a document removed from their view).
    resolution: str | None = Field(default=None, max_length=500)


class SupportComment(TimestampedTable, table=True):
    __tablename__ = "support_comments"
    __table_args__ = (
        sa.CheckConstraint(
            "(author_user_id IS NULL) <> (author_staff_id IS NULL)", name="one_author"
        ),
        sa.CheckConstraint("length(btrim(body)) > 0", name="body_not_blank"),
    )

    id: uuid.UUID = uuid_pk()
    support_request_id: uuid.UUID = fk("support_requests.id", ondelete="CASCADE")
    account_id: uuid.UUID = fk("accounts.id", ondelete="CASCADE")
    author_user_id: uuid.UUID | None = fk(
        "portal_users.id", nullable=True, ondelete="SET NULL", index=False
    )
    author_staff_id: uuid.UUID | None = fk("staff_users.id", nullable=True, index=False)
    body: str = Field(max_length=5000)
    # A staff note employers never see (in no field, count or subscription).
    internal: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})


def _status_type(name: str) -> sa.Enum:
    """Two status columns in one table: each CHECK constraint needs its own name."""
    return sa.Enum(
        SupportRequestStatus,
        native_enum=False,
        create_constraint=True,
        length=32,
        name=name,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class SupportRequestStatusChange(SQLModel, table=True):
    """One change of a request's status: from what, to what, by whom, when (append-only)."""

    __tablename__ = "support_request_status_changes"
    __table_args__ = (
        sa.CheckConstraint(
            "changed_by_user_id IS NULL OR changed_by_staff_id IS NULL", name="one_actor"
        ),
    )

    id: uuid.UUID = uuid_pk()
    support_request_id: uuid.UUID = fk("support_requests.id", ondelete="CASCADE")
    account_id: uuid.UUID = fk("accounts.id", ondelete="CASCADE", index=False)
    # Null for the opening of the request.
    from_status: SupportRequestStatus | None = Field(
        default=None, sa_type=_status_type("from_status"), nullable=True
    )
    to_status: SupportRequestStatus = Field(sa_type=_status_type("to_status"), nullable=False)
    changed_by_user_id: uuid.UUID | None = fk(
        "portal_users.id", nullable=True, ondelete="SET NULL", index=False
    )
    changed_by_staff_id: uuid.UUID | None = fk("staff_users.id", nullable=True, index=False)
    changed_at: datetime = timestamp(default_now=True)
