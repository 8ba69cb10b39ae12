"""Idempotency keys: a client-chosen key per principal and operation, the hash of the input it
came with, and the first answer (ids only), kept for a day."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from portal.models.base import fk, timestamp, uuid_pk


class IdempotencyKey(SQLModel, table=True):
    """One claimed key. The unique index is also the lock: a second call with the same key waits
    on it until the first call's transaction ends (see ``portal.resolvers.idempotency``)."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (
        sa.UniqueConstraint(
            "principal_kind",
            "principal_id",
            "operation",
            "key",
            name="uq_idempotency_keys_principal_operation_key",
        ),
        sa.CheckConstraint("length(key) BETWEEN 1 AND 200", name="key_length"),
        sa.CheckConstraint("expires_at > created_at", name="expires_after_creation"),
        sa.Index("ix_idempotency_keys_expires_at", "expires_at"),
    )

    id: uuid.UUID = uuid_pk()
    # The account of the principal (None for staff and the provider's systems): the tenant wall.
    account_id: uuid.UUID | None = fk("accounts.id", nullable=True, ondelete="CASCADE", index=False)
    principal_kind: str = Field(max_length=16)
    principal_id: uuid.UUID = Field(sa_type=sa.Uuid)
    operation: str = Field(max_length=64)
    key: str = Field(max_length=200)
    # SHA-256 (hex) of the canonical JSON of the input, the key itself left out.
    request_hash: str = Field(max_length=64)
    # The first answer: ids and counts only, never PHI. Set in the claiming transaction, so a row
    # other transactions can see always has it.
    result: dict[str, Any] | None = Field(default=None, sa_type=postgresql.JSONB)
    created_at: datetime = timestamp(default_now=True)
    expires_at: datetime = timestamp()
