"""Visits of employees to medical centers."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from portal.models.base import TimestampedTable, enum_column, fk, timestamp, uuid_pk
from portal.models.enums import VisitStatus, VisitType


class Visit(TimestampedTable, table=True):
    __tablename__ = "visits"
    __table_args__ = (
        sa.CheckConstraint(
            "visit_type = 'INJURY' OR claim_number IS NULL", name="claim_number_only_for_injury"
        ),
        sa.CheckConstraint(
            "checked_out_at IS NULL OR checked_out_at >= visited_at", name="check_out_after_visit"
        ),
        sa.CheckConstraint(
            "status = 'CHECKED_IN' OR checked_out_at IS NOT NULL", name="checked_out_has_time"
        ),
        sa.Index("ix_visits_account_id_visited_at", "account_id", sa.text("visited_at DESC")),
        sa.Index("ix_visits_account_id_claim_number", "account_id", "claim_number"),
        sa.UniqueConstraint("account_id", "id", name="uq_visits_account_id_id"),
        sa.ForeignKeyConstraint(
            ["account_id", "employee_id"],
            ["employees.account_id", "employees.id"],
            name="fk_visits_employee_same_account",
        ),
        sa.ForeignKeyConstraint(
            ["account_id", "location_id"],
            ["locations.account_id", "locations.id"],
            name="fk_visits_location_same_account",
        ),
    )

    id: uuid.UUID = uuid_pk()
    account_id: uuid.UUID = fk("accounts.id", ondelete="CASCADE", index=False)
    employee_id: uuid.UUID = fk("employees.id")
    location_id: uuid.UUID = fk("locations.id")
    medical_center_id: uuid.UUID = fk("medical_centers.id")
    authorization_id: uuid.UUID | None = fk("authorizations.id", nullable=True, ondelete="SET NULL")
    visited_at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    visit_type: VisitType = enum_column(VisitType)
    claim_number: str | None = Field(default=None, max_length=40)
    status: VisitStatus = enum_column(VisitStatus, default=VisitStatus.CHECKED_IN)
    checked_out_at: datetime | None = timestamp(nullable=True)
    status_changed_at: datetime = timestamp(default_now=True)
