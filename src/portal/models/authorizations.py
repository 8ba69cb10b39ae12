"""Authorizations of medical services for an employee, their services, recipients and history."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Field

from portal.models.base import TimestampedTable, enum_column, fk, timestamp, uuid_pk
from portal.models.enums import AuthorizationEventKind, AuthorizationState, Modality, RecipientKind


class Authorization(TimestampedTable, table=True):
    __tablename__ = "authorizations"
    __table_args__ = (
        sa.CheckConstraint("valid_until >= valid_from", name="valid_range"),
        sa.CheckConstraint(
            "modality NOT IN ('IN_CENTER', 'CENTER_TELEMEDICINE') OR medical_center_id IS NOT NULL",
            name="center_modality_has_center",
        ),
        sa.CheckConstraint(
            "(state = 'CANCELLED') = (cancelled_at IS NOT NULL)", name="cancelled_iff_cancelled_at"
        ),
        sa.CheckConstraint(
            "(deleted_at IS NULL) = (deleted_by_user_id IS NULL)", name="deleted_has_actor"
        ),
        sa.CheckConstraint("template_id IS NULL OR template_id <> id", name="not_own_template"),
        sa.Index(
            "ix_authorizations_account_id_created_at", "account_id", sa.text("created_at DESC")
        ),
        sa.Index(
            "ix_authorizations_created_by_user_id_created_at",
            "created_by_user_id",
            sa.text("created_at DESC"),
        ),
        sa.UniqueConstraint("account_id", "id", name="uq_authorizations_account_id_id"),
        sa.ForeignKeyConstraint(
            ["account_id", "employee_id"],
            ["employees.account_id", "employees.id"],
            name="fk_authorizations_employee_same_account",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "location_id"],
            ["locations.account_id", "locations.id"],
            name="fk_authorizations_location_same_account",
        ),
    )

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID = fk("accounts.id", ondelete="CASCADE", index=False)
    number: str = Field(max_length=20, unique=True)
    employee_id: uuid.UUID = fk("employees.id")
    location_id: uuid.UUID = fk("locations.id")
    modality: Modality = enum_column(Modality)
    medical_center_id: uuid.UUID | None = fk("medical_centers.id", nullable=True)
    valid_from: date
    valid_until: date
    special_instructions: str | None = Field(default=None, max_length=2000)
    state: AuthorizationState = enum_column(AuthorizationState, default=AuthorizationState.ACTIVE)
    created_by_user_id: uuid.UUID | None = fk(
        "portal_users.id", nullable=True, ondelete="SET NULL", index=False
    )
    created_by_client_id: uuid.UUID | None = fk(
        "api_clients.id", nullable=True, ondelete="SET NULL", index=False
    )
    template_id: uuid.UUID | None = fk(
        "authorizations.id", nullable=True, ondelete="SET NULL", index=False
    )
    service_package_id: uuid.UUID | None = fk(
        "service_packages.id", nullable=True, ondelete="SET NULL", index=False
    )
    sent_at: datetime | None = timestamp(nullable=True)
    cancelled_at: datetime | None = timestamp(nullable=True)
    deleted_at: datetime | None = timestamp(nullable=True)
    deleted_by_user_id: uuid.UUID | None = fk(
        "portal_users.id", nullable=True, ondelete="SET NULL", index=False
    )
    # The end date for which `authorization.expired` was emitted (the webhook worker's expiry
    # job): once per expiry, and again only if an extension moves the end date.
    expiry_event_valid_until: date | None = None


class AuthorizationService(TimestampedTable, table=True):
    __tablename__ = "authorization_services"

    authorization_id: uuid.UUID = Field(
        sa_column_args=[sa.ForeignKey("authorizations.id", ondelete="CASCADE")],
        sa_type=sa.Uuid,
        primary_key=True,
    )
    service_id: uuid.UUID = Field(
        sa_column_args=[sa.ForeignKey("services.id", ondelete="RESTRICT")],
        sa_type=sa.Uuid,
        primary_key=True,
        index=True,
    )
    account_id: uuid.UUID = fk("accounts.id", ondelete="CASCADE")


class AuthorizationRecipient(TimestampedTable, table=True):
    """Who receives the authorization by email (the employee and named people)."""

    __tablename__ = "authorization_recipients"
    __table_args__ = (
        sa.Index(
            "uq_authorization_recipients_authorization_id_lower_email",
            "authorization_id",
            sa.text("lower(email)"),
            unique=True,
        ),
    )

    id: uuid.UUID = uuid_pk()
    authorization_id: uuid.UUID = fk("authorizations.id", ondelete="CASCADE", index=False)
    account_id: uuid.UUID = fk("accounts.id", ondelete="CASCADE")
    kind: RecipientKind = enum_column(RecipientKind)
    name: str | None = Field(default=None, max_length=200)
    email: str = Field(max_length=254)
    sent_at: datetime | None = timestamp(nullable=True)


class AuthorizationEvent(TimestampedTable, table=True):
    """History of an authorization: creation, sends, extensions (old and new end dates), ..."""

    __tablename__ = "authorization_events"
    __table_args__ = (
        sa.CheckConstraint(
            "kind <> 'EXTENDED' OR "
            "(previous_valid_until IS NOT NULL AND new_valid_until > previous_valid_until)",
            name="extension_moves_end_later",
        ),
    )

    id: uuid.UUID = uuid_pk()
    authorization_id: uuid.UUID = fk("authorizations.id", ondelete="CASCADE")
    account_id: uuid.UUID = fk("accounts.id", ondelete="CASCADE")
    kind: AuthorizationEventKind = enum_column(AuthorizationEventKind)
    previous_valid_until: date | None = None
    new_valid_until: date | None = None
    actor_user_id: uuid.UUID | None = fk(
        "portal_users.id", nullable=True, ondelete="SET NULL", index=False
    )
    actor_client_id: uuid.UUID | None = fk(
        "api_clients.id", nullable=True, ondelete="SET NULL", index=False
    )
    note: str | None = Field(default=None, max_length=1000)
    # SENT / RESENT: one row per recipient and send; None for the electronic delivery to the
    # medical center's integration.
    recipient_email: str | None = Field(default=None, max_length=254)
