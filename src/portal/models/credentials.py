"""Single-use secrets of people: emailed set-password links and second-factor recovery codes.

Neither is a tenant table: both are read before a principal is known (a reset link is opened
anonymously; a recovery code is checked during sign-in), and only by the identity code. Each
secret is stored as the SHA-256 hex of its text, never the text itself.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.models.base import enum_column, fk, timestamp, uuid_pk

EXACTLY_ONE_SUBJECT = (
    "(user_id IS NOT NULL AND staff_id IS NULL) OR (staff_id IS NOT NULL AND user_id IS NULL)"
)


class OneTimeTokenPurpose(StrEnum):
    PASSWORD_RESET = "PASSWORD_RESET"  # noqa: S105 -- an enum label, not a secret
    INVITATION = "INVITATION"
    # Confirms a new login email (sent to the new address).
    EMAIL_CHANGE = "EMAIL_CHANGE"


class OneTimeToken(SQLModel, table=True):
    """An emailed link's token: random, stored hashed, usable once, until ``expires_at``."""

    __tablename__ = "one_time_tokens"
    __table_args__ = (
        sa.CheckConstraint(EXACTLY_ONE_SUBJECT, name="exactly_one_subject"),
        sa.CheckConstraint("expires_at > created_at", name="expires_after_creation"),
        sa.CheckConstraint(
            "purpose <> 'INVITATION' OR user_id IS NOT NULL", name="invitations_are_for_users"
        ),
        sa.CheckConstraint(
            "purpose <> 'EMAIL_CHANGE' OR user_id IS NOT NULL", name="email_changes_are_for_users"
        ),
    )

    id: uuid.UUID = uuid_pk()
    purpose: OneTimeTokenPurpose = enum_column(OneTimeTokenPurpose)
    user_id: uuid.UUID | None = fk("portal_users.id", nullable=True, ondelete="CASCADE")
    staff_id: uuid.UUID | None = fk("staff_users.id", nullable=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = timestamp(default_now=True)
    expires_at: datetime = timestamp()
    used_at: datetime | None = timestamp(nullable=True)


class RecoveryCode(SQLModel, table=True):
    """One second-factor recovery code; a new enrolment replaces the whole set."""

    __tablename__ = "recovery_codes"
    __table_args__ = (sa.CheckConstraint(EXACTLY_ONE_SUBJECT, name="exactly_one_subject"),)

    id: uuid.UUID = uuid_pk()
    user_id: uuid.UUID | None = fk("portal_users.id", nullable=True, ondelete="CASCADE")
    staff_id: uuid.UUID | None = fk("staff_users.id", nullable=True, ondelete="CASCADE")
    code_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = timestamp(default_now=True)
    used_at: datetime | None = timestamp(nullable=True)
