"""Contacts, portal users and what each may see: roles, permissions, subscriptions, preferences."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from portal.models.base import TimestampedTable, enum_column, fk, timestamp, uuid_pk
from portal.models.enums import AccessRequestStatus, Permission, Role, UserStatus

EMAIL_CHECK = "{col} ~ '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$'"


class Contact(TimestampedTable, table=True):
    __tablename__ = "contacts"
    __table_args__ = (
        sa.CheckConstraint(EMAIL_CHECK.format(col="work_email"), name="work_email_format"),
        sa.Index(
            "uq_contacts_account_id_lower_work_email",
            "account_id",
            sa.text("lower(work_email)"),
            unique=True,
        ),
        sa.UniqueConstraint("account_id", "id", name="uq_contacts_account_id_id"),
    )

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID = fk("accounts.id", ondelete="CASCADE")
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    work_email: str = Field(max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    title: str | None = Field(default=None, max_length=120)
    is_active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})


class PortalUser(TimestampedTable, table=True):
    """The login of a contact; the login name is the contact's work email."""

    __tablename__ = "portal_users"
    __table_args__ = (
        sa.Index("uq_portal_users_lower_email", sa.text("lower(email)"), unique=True),
        sa.CheckConstraint(EMAIL_CHECK.format(col="email"), name="email_format"),
        sa.CheckConstraint(
            "status <> 'ACTIVE' OR password_hash IS NOT NULL", name="active_has_password"
        ),
        sa.CheckConstraint(
            "totp_confirmed_at IS NULL OR totp_secret IS NOT NULL", name="totp_confirmed_has_secret"
        ),
        sa.CheckConstraint(EMAIL_CHECK.format(col="pending_email"), name="pending_email_format"),
        sa.UniqueConstraint("account_id", "id", name="uq_portal_users_account_id_id"),
        sa.ForeignKeyConstraint(
            ["account_id", "contact_id"],
            ["contacts.account_id", "contacts.id"],
            name="fk_portal_users_contact_same_account",
            ondelete="CASCADE",
        ),
    )

    id: uuid.UUID = uuid_pk()
    contact_id: uuid.UUID = Field(
        sa_column_args=[sa.ForeignKey("contacts.id", ondelete="CASCADE")],
        sa_type=sa.Uuid,
        unique=True,
    )
    # Denormalised from the contact so that every tenant row carries its account for RLS.
    account_id: uuid.UUID = fk("accounts.id", ondelete="CASCADE")
    email: str = Field(max_length=254)
    role: Role = enum_column(Role, default=Role.BASIC)
    status: UserStatus = enum_column(UserStatus, default=UserStatus.INVITED)
    password_hash: str | None = Field(default=None, max_length=255)
    password_changed_at: datetime | None = timestamp(nullable=True)
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_confirmed_at: datetime | None = timestamp(nullable=True)
    last_login_at: datetime | None = timestamp(nullable=True)
    failed_login_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    locked_until: datetime | None = timestamp(nullable=True)
    deactivated_at: datetime | None = timestamp(nullable=True)
    # A new login email waiting for its owner to confirm it from the emailed link.
    pending_email: str | None = Field(default=None, max_length=254)


class UserPermission(TimestampedTable, table=True):
    __tablename__ = "user_permissions"
    __table_args__ = (
        sa.ForeignKeyConstraint(
            ["account_id", "user_id"],
            ["portal_users.account_id", "portal_users.id"],
            name="fk_user_permissions_user_same_account",
            ondelete="CASCADE",
        ),
    )

    user_id: uuid.UUID = Field(
        sa_column_args=[sa.ForeignKey("portal_users.id", ondelete="CASCADE")],
        sa_type=sa.Uuid,
        primary_key=True,
    )
    permission: Permission = Field(
        primary_key=True,
        sa_type=sa.Enum(
            Permission,
            native_enum=False,
            create_constraint=True,
            length=32,
            name="permission",
            values_callable=lambda members: [member.value for member in members],
        ),
    )
    account_id: uuid.UUID = fk("accounts.id", ondelete="CASCADE")
    granted_by_user_id: uuid.UUID | None = fk(
        "portal_users.id", nullable=True, ondelete="SET NULL", index=False
    )


class ReportSubscription(TimestampedTable, table=True):
    """A contact receives and sees results of this report type for this location."""

    __tablename__ = "report_subscriptions"
    __table_args__ = (
        sa.UniqueConstraint("contact_id", "report_type_id", "location_id"),
        sa.ForeignKeyConstraint(
            ["account_id", "contact_id"],
            ["contacts.account_id", "contacts.id"],
            name="fk_report_subscriptions_contact_same_account",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "location_id"],
            ["locations.account_id", "locations.id"],
            name="fk_report_subscriptions_location_same_account",
            ondelete="CASCADE",
        ),
    )

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID = fk("accounts.id", ondelete="CASCADE")
    contact_id: uuid.UUID = fk("contacts.id", ondelete="CASCADE")
    report_type_id: uuid.UUID = fk("report_types.id")
    location_id: uuid.UUID = fk("locations.id", ondelete="CASCADE")


class NotificationPreference(TimestampedTable, table=True):
    __tablename__ = "notification_preferences"

    contact_id: uuid.UUID = Field(
        sa_column_args=[sa.ForeignKey("contacts.id", ondelete="CASCADE")],
        sa_type=sa.Uuid,
        primary_key=True,
    )
    account_id: uuid.UUID = fk("accounts.id", ondelete="CASCADE")
    email_on_new_results: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})


class AccessRequest(TimestampedTable, table=True):
    """Support staff ask to enable a contact's portal access; a User Admin decides."""

    __tablename__ = "access_requests"
    __table_args__ = (
        sa.Index(
            "uq_access_requests_pending_contact",
            "contact_id",
            unique=True,
            postgresql_where=sa.text("status = 'PENDING'"),
        ),
        sa.CheckConstraint(
            "(status = 'PENDING') = (decided_at IS NULL)", name="decided_iff_not_pending"
        ),
    )

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID = fk("accounts.id", ondelete="CASCADE")
    contact_id: uuid.UUID = fk("contacts.id", ondelete="CASCADE")
    requested_role: Role = enum_column(Role, default=Role.BASIC)
    requested_by_staff_id: uuid.UUID = fk("staff_users.id")
    status: AccessRequestStatus = enum_column(
        AccessRequestStatus, default=AccessRequestStatus.PENDING
    )
    decided_by_user_id: uuid.UUID | None = fk(
        "portal_users.id", nullable=True, ondelete="SET NULL", index=False
    )
    decided_at: datetime | None = timestamp(nullable=True)
    note: str | None = Field(default=None, max_length=1000)
    # Why the User Admin declined (or a remark on the approval).
    decision_note: str | None = Field(default=None, max_length=1000)


class StaffUser(TimestampedTable, table=True):
    """The provider's support staff: not tied to an account."""

    __tablename__ = "staff_users"
    __table_args__ = (
        sa.Index("uq_staff_users_lower_email", sa.text("lower(email)"), unique=True),
        sa.CheckConstraint(EMAIL_CHECK.format(col="email"), name="email_format"),
    )

    id: uuid.UUID = uuid_pk()
    email: str = Field(max_length=254)
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    password_hash: str = Field(max_length=255)
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_confirmed_at: datetime | None = timestamp(nullable=True)
    is_active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})
    last_login_at: datetime | None = timestamp(nullable=True)
    failed_login_count: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    locked_until: datetime | None = timestamp(nullable=True)


class ApiClient(TimestampedTable, table=True):
    """An HR system's OAuth2 client, bound to one account; the secret is stored hashed."""

    __tablename__ = "api_clients"
    __table_args__ = (sa.CheckConstraint("cardinality(scopes) > 0", name="has_scopes"),)

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID = fk("accounts.id", ondelete="CASCADE")
    client_id: str = Field(max_length=64, unique=True)
    secret_hash: str = Field(max_length=255)
    name: str = Field(max_length=120)
    scopes: list[str] = Field(sa_type=sa.ARRAY(sa.String(64)))
    # Persisted operations: when not empty, the client may run only documents whose SHA-256
    # (lowercase hex of the exact query text) is listed here.
    allowed_operations: list[str] = Field(
        default_factory=list,
        sa_type=sa.ARRAY(sa.String(64)),
        sa_column_kwargs={"server_default": sa.text("'{}'::varchar[]")},
    )
    created_by_user_id: uuid.UUID | None = fk(
        "portal_users.id", nullable=True, ondelete="SET NULL", index=False
    )
    last_used_at: datetime | None = timestamp(nullable=True)
    revoked_at: datetime | None = timestamp(nullable=True)


class ProviderClient(TimestampedTable, table=True):
    """One of the provider's own systems (a clinic's EHR, the lab interface) posting visits and
    results through the API with OAuth2 client credentials. Not tied to an account: it records
    visits for any employer's employees, like staff, but holds only its scopes (``ingestion:write``)
    and never reads the portal's documents. The secret is stored hashed."""

    __tablename__ = "provider_clients"
    __table_args__ = (sa.CheckConstraint("cardinality(scopes) > 0", name="has_scopes"),)

    id: uuid.UUID = uuid_pk()
    client_id: str = Field(max_length=64, unique=True)
    secret_hash: str = Field(max_length=255)
    name: str = Field(max_length=120)
    scopes: list[str] = Field(sa_type=sa.ARRAY(sa.String(64)))
    last_used_at: datetime | None = timestamp(nullable=True)
    revoked_at: datetime | None = timestamp(nullable=True)
