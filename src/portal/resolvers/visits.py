"""Visits: loading by id and search, scoped in SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import Visit
from portal.models.db import AccountScope
from portal.models.enums import VisitStatus, VisitType
from portal.resolvers.loading import RowsById, equals_any
from portal.resolvers.pagination import Page, PageRequest, SortKey, paginate

# Non-injury results are due this long after the visit (injury work-status: at check-out).
NON_INJURY_RESULTS_DELAY = timedelta(hours=72)


def results_expected_at(
    *, visit_type: VisitType, visited_at: datetime, checked_out_at: datetime | None
) -> datetime | None:
    """When results should be posted, so "my results are missing" can be answered."""
    if visit_type is VisitType.NON_INJURY:
        return visited_at + NON_INJURY_RESULTS_DELAY
    return checked_out_at


VISITS_BY_ID = RowsById(
    Visit, lambda ids, scope: [col(Visit.id) == sa.any_(ids), scope.allows(col(Visit.account_id))]
)


async def load_visits(
    *, session: AsyncSession, scope: AccountScope, ids: Sequence[uuid.UUID]
) -> list[Visit | None]:
    return await VISITS_BY_ID.scoped(scope).load(session, ids)


@dataclass(frozen=True, slots=True)
class VisitFilter:
    employee_id: uuid.UUID | None = None
    visited_after: datetime | None = None
    visited_before: datetime | None = None
    visit_type: VisitType | None = None
    status: VisitStatus | None = None
    claim_number: str | None = None
    medical_center_id: uuid.UUID | None = None
    # Narrows within the caller's scope: another account's id finds nothing.
    account_id: uuid.UUID | None = None

    def for_audit(self) -> dict[str, Any]:
        return {
            key: (str(value) if isinstance(value, (uuid.UUID, datetime)) else value)
            for key, value in asdict(self).items()
            if value is not None
        }


VISIT_ORDER = (
    SortKey(col(Visit.visited_at), descending=True, python_type=datetime),
    SortKey(col(Visit.id), descending=True, python_type=uuid.UUID),
)


async def search_visits(
    *, session: AsyncSession, scope: AccountScope, page: PageRequest, filters: VisitFilter
) -> Page[Visit]:
    """The caller's accounts' visits matching ``filters``, most recent first."""
    statement = sa.select(Visit).where(scope.filter(col(Visit.account_id)))
    if filters.employee_id is not None:
        statement = statement.where(col(Visit.employee_id) == filters.employee_id)
    if filters.visited_after is not None:
        statement = statement.where(col(Visit.visited_at) >= filters.visited_after)
    if filters.visited_before is not None:
        statement = statement.where(col(Visit.visited_at) < filters.visited_before)
    if filters.visit_type is not None:
        statement = statement.where(col(Visit.visit_type) == filters.visit_type)
    if filters.status is not None:
        statement = statement.where(col(Visit.status) == filters.status)
    if filters.claim_number is not None and filters.claim_number.strip():
        statement = statement.where(
            sa.func.upper(col(Visit.claim_number)) == filters.claim_number.strip().upper()
        )
    if filters.medical_center_id is not None:
        statement = statement.where(col(Visit.medical_center_id) == filters.medical_center_id)
    if filters.account_id is not None:
        statement = statement.where(col(Visit.account_id) == filters.account_id)
    return await paginate(
        session=session,
        statement=statement,
        keys=VISIT_ORDER,
        request=page,
        convert=lambda visit: visit,
    )


async def load_visits_by_employee(
    *, session: AsyncSession, scope: AccountScope, employee_ids: Sequence[uuid.UUID]
) -> list[list[Visit]]:
    """Each employee's visits, most recent first."""
    rows = await session.scalars(
        sa.select(Visit)
        .where(
            equals_any(col(Visit.employee_id), employee_ids),
            scope.filter(col(Visit.account_id)),
        )
        .order_by(col(Visit.visited_at).desc(), col(Visit.id).desc())
    )
    by_employee: dict[uuid.UUID, list[Visit]] = {}
    for visit in rows:
        by_employee.setdefault(visit.employee_id, []).append(visit)
    return [by_employee.get(employee_id, []) for employee_id in employee_ids]
