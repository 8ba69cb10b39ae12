"""The plan: every demo row, computed without I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from portal.models.enums import (
    AuthorizationState,
    Modality,
    RecipientKind,
    VisitStatus,
    VisitType,
)
from portal.seed.demo.facts import LocationSpec, Row


@dataclass(slots=True)
class EmployeePlan:
    id: uuid.UUID
    account: str
    location: LocationSpec
    first_name: str
    last_name: str
    date_of_birth: date
    number: str
    email: str | None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True, slots=True)
class CenterPlan:
    id: uuid.UUID
    code: str
    name: str
    city: str
    state: str
    telemedicine: bool


@dataclass(slots=True)
class AuthorizationPlan:
    account: str
    employee: EmployeePlan
    modality: Modality
    center: CenterPlan | None
    services: tuple[str, ...]
    created_at: datetime
    valid_from: date
    valid_until: date
    creator: str
    state: AuthorizationState = AuthorizationState.ACTIVE
    visit_at: datetime | None = None
    cancelled_at: datetime | None = None
    extended_at: datetime | None = None
    previous_valid_until: date | None = None
    instructions: str | None = None
    package: str | None = None
    template: AuthorizationPlan | None = None
    recipients: list[tuple[RecipientKind, str | None, str]] = field(default_factory=list)
    id: uuid.UUID = field(default=uuid.UUID(int=0))
    number: str = ""

    @property
    def sent_at(self) -> datetime | None:
        # Center authorizations go to the center electronically on creation; others when emailed.
        if self.center is not None or self.recipients:
            return self.created_at + timedelta(minutes=1)
        return None


@dataclass(slots=True)
class DocumentPlan:
    code: str
    posted_at: datetime
    id: uuid.UUID = field(default=uuid.UUID(int=0))
    retracted: bool = False


@dataclass(slots=True)
class VisitPlan:
    account: str
    employee: EmployeePlan
    center: CenterPlan
    visited_at: datetime
    visit_type: VisitType
    services: tuple[str, ...]
    claim_number: str | None = None
    authorization: AuthorizationPlan | None = None
    checked_in_only: bool = False
    first_of_episode: bool = False
    recheck_on: datetime | None = None  # the follow-up appointment made at this visit
    no_show: bool = False
    missing_results: bool = False
    # A showcase visit's documents, posted this long after check-out (not drawn at random).
    showcase_documents: tuple[tuple[str, timedelta], ...] | None = None
    diagnosis: str = ""
    work_status: str = ""
    provider: str = ""
    checked_out_at: datetime | None = None
    status: VisitStatus = VisitStatus.CHECKED_IN
    status_changed_at: datetime | None = None
    documents: list[DocumentPlan] = field(default_factory=list)
    id: uuid.UUID = field(default=uuid.UUID(int=0))
    seq: int = 0


@dataclass(slots=True)
class Plan:
    rows: dict[str, list[Row]] = field(default_factory=dict)
    users: list[tuple[uuid.UUID, str]] = field(default_factory=list)  # (user id, email)
    renders: list[dict[str, Any]] = field(default_factory=list)  # aligned with rows["documents"]

    def add(self, table: str, row: Row) -> None:
        self.rows.setdefault(table, []).append(row)
