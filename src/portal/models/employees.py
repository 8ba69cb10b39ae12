"""Employees (patients) of an account."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from sqlmodel import Field

from portal.models.base import TimestampedTable, fk, uuid_pk

# Name search matches "first last" partially and in any case; the composite GIN index starts with
# the account (btree_gin) so a tenant's search never scans another tenant's rows.
FULL_NAME_SQL = "lower(first_name || ' ' || last_name)"


class Employee(TimestampedTable, table=True):
    __tablename__ = "employees"
    __table_args__ = (
        sa.UniqueConstraint("account_id", "employee_number"),
        sa.CheckConstraint("date_of_birth > DATE '1900-01-01'", name="date_of_birth_plausible"),
        sa.CheckConstraint(
            "length(btrim(first_name)) > 0 AND length(btrim(last_name)) > 0", name="names_not_blank"
        ),
        sa.Index(
            "ix_employees_account_id_full_name_trgm",
            "account_id",
            "full_name",
            postgresql_using="gin",
            postgresql_ops={"full_name": "gin_trgm_ops"},
        ),
        sa.Index("ix_employees_account_id_date_of_birth", "account_id", "date_of_birth"),
        sa.UniqueConstraint("account_id", "id", name="uq_employees_account_id_id"),
        sa.ForeignKeyConstraint(
            ["account_id", "location_id"],
            ["locations.account_id", "locations.id"],
            name="fk_employees_location_same_account",
        ),
    )

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID = fk("accounts.id", ondelete="CASCADE", index=False)
    location_id: uuid.UUID = fk("locations.id")
    first_name: str = Field(max_length=100)
    last_name: str = Field(max_length=100)
    full_name: str | None = Field(
        default=None,
        sa_column_args=[sa.Computed(FULL_NAME_SQL, persisted=True)],
        sa_type=sa.Text,
    )
    date_of_birth: date
    employee_number: str = Field(max_length=32)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
