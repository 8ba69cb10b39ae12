"""Webhook endpoints of an account, the deliveries of events to them, and each delivery attempt.

Events are written to the outbox (``outbox_messages``, channel WEBHOOK) in the transaction of the
change; the worker fans each one out into one ``webhook_deliveries`` row per subscribed endpoint
and then delivers those, in ``sequence`` order per endpoint."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Field, SQLModel

from portal.models.base import TimestampedTable, enum_column, fk, timestamp, uuid_pk
from portal.models.enums import WebhookDeliveryStatus, WebhookDisabledReason

MAX_URL_LENGTH = 2048
MAX_EXCERPT_BYTES = 1024


class WebhookEndpoint(TimestampedTable, table=True):
    """Where an account's HR system receives events. The signing secret must be readable to sign
    with (HMAC), so it is stored as is and never shown again after creation or rotation."""

    __tablename__ = "webhook_endpoints"
    __table_args__ = (
        sa.CheckConstraint("cardinality(events) > 0", name="has_events"),
        sa.CheckConstraint("url ~ '^https?://'", name="url_http"),
        sa.CheckConstraint(
            "(previous_secret IS NULL) = (previous_secret_expires_at IS NULL)",
            name="previous_secret_has_expiry",
        ),
        sa.CheckConstraint("enabled = (disabled_reason IS NULL)", name="disabled_iff_reason"),
    )

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID = fk("accounts.id", ondelete="CASCADE")
    url: str = Field(max_length=MAX_URL_LENGTH)
    description: str | None = Field(default=None, max_length=500)
    events: list[str] = Field(sa_type=postgresql.ARRAY(sa.String(64)))
    enabled: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    disabled_reason: WebhookDisabledReason | None = enum_column(
        WebhookDisabledReason, default=None, nullable=True
    )
    disabled_at: datetime | None = timestamp(nullable=True)
    secret: str = Field(max_length=128)
    # After a rotation the old secret signs too, until it expires (both signatures are sent).
    previous_secret: str | None = Field(default=None, max_length=128)
    previous_secret_expires_at: datetime | None = timestamp(nullable=True)
    # The first failed attempt of the current run of failures; cleared by a success.
    failing_since: datetime | None = timestamp(nullable=True)
    created_by_user_id: uuid.UUID | None = fk(
        "portal_users.id", nullable=True, ondelete="SET NULL", index=False
    )
    created_by_client_id: uuid.UUID | None = fk(
        "api_clients.id", nullable=True, ondelete="SET NULL", index=False
    )


class WebhookDelivery(TimestampedTable, table=True):
    """One event for one endpoint: PENDING until a 2xx (DELIVERED) or the last attempt (FAILED).

    Per endpoint, only the PENDING delivery with the lowest ``sequence`` is ever attempted, so a
    later event waits while an earlier one is retrying (test deliveries are outside that order).
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        sa.CheckConstraint(
            "(status = 'DELIVERED') = (delivered_at IS NOT NULL)", name="delivered_iff_delivered_at"
        ),
        sa.Index(
            "ix_webhook_deliveries_pending",
            "endpoint_id",
            "sequence",
            postgresql_where=sa.text("status = 'PENDING'"),
        ),
        sa.Index(
            "ix_webhook_deliveries_endpoint_id_sequence",
            "endpoint_id",
            sa.text("sequence DESC"),
        ),
    )

    id: uuid.UUID = uuid_pk()
    sequence: int | None = Field(
        default=None,
        sa_column_args=[sa.Identity(always=False)],
        sa_type=sa.BigInteger,
        nullable=False,
        unique=True,
    )
    endpoint_id: uuid.UUID = fk("webhook_endpoints.id", ondelete="CASCADE", index=False)
    account_id: uuid.UUID = fk("accounts.id", ondelete="CASCADE")
    # The outbox event this delivers (none for a test event); its id is the `webhook-id`.
    event_id: str = Field(max_length=64)
    event_type: str = Field(max_length=64)
    test: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=postgresql.JSONB)
    status: WebhookDeliveryStatus = enum_column(
        WebhookDeliveryStatus, default=WebhookDeliveryStatus.PENDING
    )
    attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    next_attempt_at: datetime = timestamp(default_now=True)
    last_error: str | None = Field(default=None, max_length=2000)
    delivered_at: datetime | None = timestamp(nullable=True)


class WebhookAttempt(SQLModel, table=True):
    """One POST of a delivery: when, the answer's status code, latency, error and the first
    kilobyte of the response body (nothing more of it is kept)."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (
        sa.CheckConstraint(
            f"octet_length(response_excerpt) <= {MAX_EXCERPT_BYTES}", name="excerpt_at_most_1kb"
        ),
        sa.Index("ix_webhook_attempts_delivery_id_attempted_at", "delivery_id", "attempted_at"),
    )

    id: uuid.UUID = uuid_pk()
    delivery_id: uuid.UUID = fk("webhook_deliveries.id", ondelete="CASCADE", index=False)
    account_id: uuid.UUID = fk("accounts.id", ondelete="CASCADE")
    attempted_at: datetime = timestamp(default_now=True)
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = Field(default=None, max_length=500)
    response_excerpt: str | None = Field(default=None, max_length=MAX_EXCERPT_BYTES)
