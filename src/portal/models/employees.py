"""Employees (patients) of an account."""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.models.base import TimestampedTable, fk, uuid_pk

# Name search matches "first last" partially and in any case; the composite GIN index starts with
# the account (btree_gin) so a tenant's search never scans another tenant's rows.
FULL_NAME_SQL = "lower(first_name || ' ' || last_name)"

# The width of the name index's n-grams: a query word of at least this many characters is found
# through EmployeeNameTrigram; a shorter one only filters the rows the others found.
TRIGRAM_LENGTH = 3


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


class EmployeeNameTrigram(SQLModel, table=True):
    """One three-character piece of an employee's ``full_name``: the name-search index the app
    can use under row-level security.

    pg_trgm's GIN operators (LIKE, similarity) are not LEAKPROOF, so PostgreSQL evaluates the
    tenant policy before them and never uses ``ix_employees_account_id_full_name_trgm`` for a role
    bound by RLS; text equality is LEAKPROOF, so this btree is used. Rows are written only by
    triggers on ``employees`` (migration 0005), never by the app, and go with their employee.
    There is no foreign key on purpose: a bulk load would pay one key check per piece (a dozen
    per employee). Pieces holding a space are not stored: a query word never holds one."""

    __tablename__ = "employee_name_trigrams"
    __table_args__ = (sa.Index("ix_employee_name_trigrams_employee_id", "employee_id"),)

    trigram: str = Field(sa_type=sa.Text, primary_key=True)
    account_id: uuid.UUID = Field(sa_type=sa.Uuid, primary_key=True)
    employee_id: uuid.UUID = Field(sa_type=sa.Uuid, primary_key=True)
