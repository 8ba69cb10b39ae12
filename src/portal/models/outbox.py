"""Email and webhook deliveries, written in the transaction of the change that causes them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field

from portal.models.base import TimestampedTable, enum_column, fk, timestamp, uuid_pk
from portal.models.enums import OutboxChannel, OutboxStatus


class OutboxMessage(TimestampedTable, table=True):
    __tablename__ = "outbox_messages"
    __table_args__ = (
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.CheckConstraint(
            "(status = 'DELIVERED') = (delivered_at IS NOT NULL)", name="delivered_iff_delivered_at"
        ),
        # Workers claim due messages with FOR UPDATE SKIP LOCKED through this index.
        sa.Index(
            "ix_outbox_messages_due",
            "next_attempt_at",
            postgresql_where=sa.text("status = 'PENDING'"),
        ),
    )

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID | None = fk("accounts.id", nullable=True, ondelete="CASCADE")
    channel: OutboxChannel = enum_column(OutboxChannel)
    topic: str = Field(max_length=64)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=postgresql.JSONB)
    status: OutboxStatus = enum_column(OutboxStatus, default=OutboxStatus.PENDING)
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    next_attempt_at: datetime = timestamp(default_now=True)
    last_error: str | None = Field(default=None, max_length=2000)
    delivered_at: datetime | None = timestamp(nullable=True)
