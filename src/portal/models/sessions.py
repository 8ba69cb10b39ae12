"""Sign-in sessions of people, their rotating refresh tokens, and failed sign-ins per IP.

None of these is a tenant table: they carry no account and row-level security does not apply.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.models.base import enum_column, fk, timestamp, uuid_pk


class SessionSubject(StrEnum):
    USER = "USER"
    STAFF = "STAFF"


class AuthSession(SQLModel, table=True):
    """One sign-in: every refresh token rotated from it belongs to its family."""

    __tablename__ = "auth_sessions"
    __table_args__ = (
        sa.CheckConstraint(
            "(subject_kind = 'USER' AND user_id IS NOT NULL AND staff_id IS NULL)"
            " OR (subject_kind = 'STAFF' AND staff_id IS NOT NULL AND user_id IS NULL)",
            name="exactly_one_subject",
        ),
        sa.CheckConstraint(
            "(revoked_at IS NULL) = (revoked_reason IS NULL)", name="revoked_has_reason"
        ),
    )

    id: uuid.UUID = uuid_pk()
    subject_kind: SessionSubject = enum_column(SessionSubject)
    user_id: uuid.UUID | None = fk("portal_users.id", nullable=True, ondelete="CASCADE")
    staff_id: uuid.UUID | None = fk("staff_users.id", nullable=True, ondelete="CASCADE")
    created_at: datetime = timestamp(default_now=True)
    last_used_at: datetime = timestamp(default_now=True)
    absolute_expires_at: datetime = timestamp()
    revoked_at: datetime | None = timestamp(nullable=True)
    revoked_reason: str | None = Field(default=None, max_length=64)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=512)


class RefreshToken(SQLModel, table=True):
    """An opaque refresh token, stored only as the SHA-256 hex of its text; used once."""

    __tablename__ = "refresh_tokens"

    id: uuid.UUID = uuid_pk()
    session_id: uuid.UUID = fk("auth_sessions.id", ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = timestamp(default_now=True)
    used_at: datetime | None = timestamp(nullable=True)


class LoginFailure(SQLModel, table=True):
    """A failed sign-in from an IP address, for per-IP throttling (a sliding window)."""

    __tablename__ = "login_failures"
    __table_args__ = (sa.Index("ix_login_failures_ip_attempted_at", "ip", "attempted_at"),)

    id: uuid.UUID = uuid_pk()
    ip: str = Field(max_length=64)
    attempted_at: datetime = timestamp(default_now=True)


class LoginLockout(SQLModel, table=True):
    """Consecutive wrong guesses at one person's password or code from one IP address, and how
    long that address stays locked out of that person (the person's own row keeps the count
    across every address, the slower backstop)."""

    __tablename__ = "login_lockouts"

    # A portal user's or a staff member's id (both are random UUIDs, they cannot collide).
    subject_id: uuid.UUID = Field(primary_key=True)
    ip: str = Field(primary_key=True, max_length=64)
    failure_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    locked_until: datetime | None = timestamp(nullable=True)
    updated_at: datetime = timestamp(default_now=True)
