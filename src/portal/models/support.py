"""Support requests and their comment threads."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlmodel import Field

from portal.models.base import TimestampedTable, enum_column, fk, uuid_pk
from portal.models.enums import SupportRequestStatus, SupportRequestType, SupportTopic

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
    document_id: uuid.UUID | None = fk("documents.id", nullable=True, index=False)
    visit_id: uuid.UUID | None = fk("visits.id", nullable=True, index=False)
    subject: str = Field(max_length=200)
    description: str = Field(max_length=5000)


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
