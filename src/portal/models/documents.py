"""Visit results and reports (PDF documents)."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from portal.models.base import TimestampedTable, enum_column, fk, timestamp, uuid_pk
from portal.models.enums import StorageClass


class Document(TimestampedTable, table=True):
    """A posted result. Archive state is derived from ``posted_at`` and the account's retention,
    so the answer never waits on a job; ``restored_at`` (staff) brings an archived one back."""

    __tablename__ = "documents"
    __table_args__ = (
        sa.CheckConstraint("page_count > 0", name="page_count_positive"),
        sa.CheckConstraint("size_bytes > 0", name="size_positive"),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        sa.CheckConstraint(
            "(retracted_at IS NULL) = (retraction_reason IS NULL)", name="retraction_has_reason"
        ),
        sa.CheckConstraint(
            "(retracted_at IS NULL) = (retracted_by_staff_id IS NULL)", name="retraction_has_actor"
        ),
        sa.CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
        sa.ForeignKeyConstraint(
            ["account_id", "visit_id"],
            ["visits.account_id", "visits.id"],
            name="fk_documents_visit_same_account",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "employee_id"],
            ["employees.account_id", "employees.id"],
            name="fk_documents_employee_same_account",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "location_id"],
            ["locations.account_id", "locations.id"],
            name="fk_documents_location_same_account",
        ),
        sa.Index(
            "ix_documents_account_id_posted_at", "account_id", sa.text("posted_at DESC"), "id"
        ),
        sa.Index(
            "ix_documents_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
    )

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID = fk("accounts.id", ondelete="CASCADE", index=False)
    visit_id: uuid.UUID = fk("visits.id")
    employee_id: uuid.UUID = fk("employees.id")
    location_id: uuid.UUID = fk("locations.id")
    report_type_id: uuid.UUID = fk("report_types.id")
    name: str = Field(max_length=255)
    posted_at: datetime = timestamp(default_now=True)
    page_count: int
    size_bytes: int = Field(sa_type=sa.BigInteger)
    sha256: str = Field(max_length=64)
    storage_key: str = Field(max_length=255)
    storage_class: StorageClass = enum_column(StorageClass, default=StorageClass.STANDARD)
    restored_at: datetime | None = timestamp(nullable=True)
    retracted_at: datetime | None = timestamp(nullable=True)
    retraction_reason: str | None = Field(default=None, max_length=1000)
    retracted_by_staff_id: uuid.UUID | None = fk("staff_users.id", nullable=True, index=False)
