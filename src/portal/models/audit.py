"""Append-only audit trail: who did what, for which account, allowed or denied."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from portal.models.base import enum_column, timestamp, uuid_pk
from portal.models.enums import ActorType, AuditResult


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index(
            "ix_audit_events_account_id_occurred_at", "account_id", sa.text("occurred_at DESC")
        ),
        sa.Index("ix_audit_events_occurred_at", sa.text("occurred_at DESC")),
    )

    id: uuid.UUID = uuid_pk()
    occurred_at: datetime = timestamp(default_now=True)
    actor_type: ActorType = enum_column(ActorType)
    # No foreign keys: the trail outlives the users, clients and accounts it names.
    actor_id: uuid.UUID | None = Field(default=None, sa_type=sa.Uuid)
    actor_label: str | None = Field(default=None, max_length=254)
    account_id: uuid.UUID | None = Field(default=None, sa_type=sa.Uuid)
    action: str = Field(max_length=64, index=True)
    object_ids: list[str] = Field(
        default_factory=list,
        sa_type=postgresql.ARRAY(sa.String(64)),
        sa_column_kwargs={"server_default": sa.text("'{}'")},
    )
    result: AuditResult = enum_column(AuditResult)
    ip_address: str | None = Field(default=None, sa_type=postgresql.INET)
    request_id: str | None = Field(default=None, max_length=64)
    operation_name: str | None = Field(default=None, max_length=120)
    details: dict[str, Any] = Field(
        default_factory=dict,
        sa_type=postgresql.JSONB,
        sa_column_kwargs={"server_default": sa.text("'{}'::jsonb")},
    )
