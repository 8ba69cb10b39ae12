"""Employer accounts (and their employer clients), locations and sign-on page links."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from portal.models.base import TimestampedTable, fk, uuid_pk

US_STATE_CHECK = "{col} ~ '^[A-Z]{{2}}$'"


class Account(TimestampedTable, table=True):
    __tablename__ = "accounts"
    __table_args__ = (
        sa.CheckConstraint("retention_days BETWEEN 1 AND 3650", name="retention_days_range"),
        sa.CheckConstraint(
            "parent_account_id IS NULL OR parent_account_id <> id", name="not_own_parent"
        ),
        sa.CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
        sa.CheckConstraint(
            "authorization_validity_days BETWEEN 1 AND 365", name="authorization_validity_range"
        ),
    )

    id: uuid.UUID = uuid_pk()
    # A third-party administrator is the parent of its employer clients.
    parent_account_id: uuid.UUID | None = fk("accounts.id", nullable=True)
    name: str = Field(max_length=200)
    account_number: str = Field(max_length=32, unique=True)
    is_third_party_administrator: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa.false()}
    )
    mailing_street: str | None = Field(default=None, max_length=200)
    mailing_city: str | None = Field(default=None, max_length=100)
    mailing_state: str | None = Field(default=None, max_length=2)
    mailing_postal_code: str | None = Field(default=None, max_length=10)
    billing_street: str | None = Field(default=None, max_length=200)
    billing_city: str | None = Field(default=None, max_length=100)
    billing_state: str | None = Field(default=None, max_length=2)
    billing_postal_code: str | None = Field(default=None, max_length=10)
    main_phone: str | None = Field(default=None, max_length=32)
    fax: str | None = Field(default=None, max_length=32)
    retention_days: int = Field(default=90, sa_column_kwargs={"server_default": "90"})
    # How long a new authorization is valid when its creator gives no end date.
    authorization_validity_days: int = Field(default=30, sa_column_kwargs={"server_default": "30"})
    # The account's own email domains (lower case): authorizations (PHI) may be emailed to
    # addresses there, to the employee and to the account's contacts, and nowhere else.
    email_domains: list[str] = Field(
        default_factory=list,
        sa_type=sa.ARRAY(sa.String(253)),
        sa_column_kwargs={"server_default": sa.text("'{}'::varchar[]")},
    )


class Location(TimestampedTable, table=True):
    __tablename__ = "locations"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "name"),
        sa.UniqueConstraint("account_id", "id", name="uq_locations_account_id_id"),
        sa.CheckConstraint(US_STATE_CHECK.format(col="state"), name="state_code"),
    )

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID = fk("accounts.id", ondelete="CASCADE")
    name: str = Field(max_length=200)
    street: str = Field(max_length=200)
    city: str = Field(max_length=100)
    state: str = Field(max_length=2, index=True)
    postal_code: str = Field(max_length=10)
    phone: str | None = Field(default=None, max_length=32)


class PortalLink(TimestampedTable, table=True):
    """A link on the sign-on page (e.g. the drug-screen results portal); public by design."""

    __tablename__ = "portal_links"
    __table_args__ = (
        sa.CheckConstraint("url ~ '^https://'", name="url_https"),
        sa.UniqueConstraint("label"),
    )

    id: uuid.UUID = uuid_pk()
    label: str = Field(max_length=120)
    url: str = Field(max_length=500)
    description: str | None = Field(default=None, max_length=500)
    sort_order: int = Field(default=0)
    published_at: datetime | None = Field(default=None, sa_type=sa.DateTime(timezone=True))
