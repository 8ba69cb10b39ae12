"""Shared catalogs: medical centers, services, report types; an account's service packages."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from portal.models.accounts import US_STATE_CHECK
from portal.models.base import TimestampedTable, enum_column, fk, timestamp, uuid_pk
from portal.models.enums import ServiceCategory


class MedicalCenter(TimestampedTable, table=True):
    __tablename__ = "medical_centers"
    __table_args__ = (
        sa.CheckConstraint(US_STATE_CHECK.format(col="state"), name="state_code"),
        sa.UniqueConstraint("code"),
        sa.Index(
            "ix_medical_centers_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
    )

    id: uuid.UUID = uuid_pk()
    code: str = Field(max_length=16)
    name: str = Field(max_length=200)
    street: str = Field(max_length=200)
    city: str = Field(max_length=100)
    state: str = Field(max_length=2, index=True)
    postal_code: str = Field(max_length=10)
    phone: str = Field(max_length=32)
    hours: str = Field(max_length=200)
    telemedicine_capable: bool = Field(
        default=False, sa_column_kwargs={"server_default": sa.false()}
    )
    is_active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})


class Service(TimestampedTable, table=True):
    __tablename__ = "services"

    id: uuid.UUID = uuid_pk()
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    category: ServiceCategory = enum_column(ServiceCategory)
    description: str | None = Field(default=None, max_length=1000)
    is_active: bool = Field(default=True, sa_column_kwargs={"server_default": sa.true()})


class ServicePackage(TimestampedTable, table=True):
    """An account's custom bundle of services."""

    __tablename__ = "service_packages"
    __table_args__ = (sa.UniqueConstraint("account_id", "name"),)

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID = fk("accounts.id", ondelete="CASCADE")
    name: str = Field(max_length=200)
    description: str | None = Field(default=None, max_length=1000)
    # An archived package can no longer be chosen for new authorizations; old ones keep it.
    archived_at: datetime | None = timestamp(nullable=True)


class ServicePackageItem(TimestampedTable, table=True):
    __tablename__ = "service_package_items"

    package_id: uuid.UUID = Field(
        sa_column_args=[sa.ForeignKey("service_packages.id", ondelete="CASCADE")],
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


class ReportType(TimestampedTable, table=True):
    __tablename__ = "report_types"

    id: uuid.UUID = uuid_pk()
    code: str = Field(max_length=48, unique=True)
    name: str = Field(max_length=200)
    category: ServiceCategory = enum_column(ServiceCategory)
    sort_order: int = Field(default=0)
