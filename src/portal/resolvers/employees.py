"""Employees (patients): loading by id and search, scoped to the caller's accounts in SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import Employee
from portal.models.db import AccountScope
from portal.resolvers.loading import RowsById
from portal.resolvers.names import employee_name_matches
from portal.resolvers.pagination import Page, PageRequest, SortKey, paginate

EMPLOYEES_BY_ID = RowsById(
    Employee,
    lambda ids, scope: [col(Employee.id) == sa.any_(ids), scope.allows(col(Employee.account_id))],
)


async def load_employees(
    *, session: AsyncSession, scope: AccountScope, ids: Sequence[uuid.UUID]
) -> list[Employee | None]:
    return await EMPLOYEES_BY_ID.scoped(scope).load(session, ids)


@dataclass(frozen=True, slots=True)
class EmployeeFilter:
    name: str | None = None
    date_of_birth: date | None = None
    location_id: uuid.UUID | None = None
    employee_number: str | None = None
    # Narrows within the caller's scope: another account's id finds nothing.
    account_id: uuid.UUID | None = None

    def for_audit(self) -> dict[str, Any]:
        return {
            key: (str(value) if isinstance(value, (uuid.UUID, date)) else value)
            for key, value in asdict(self).items()
            if value is not None
        }


async def search_employees(
    *, session: AsyncSession, scope: AccountScope, page: PageRequest, filters: EmployeeFilter
) -> Page[Employee]:
    """The caller's accounts' employees matching ``filters``, by last then first name.

    ``name`` matches like the documents' employee name: every word, any order, partial."""
    statement = sa.select(Employee).where(scope.filter(col(Employee.account_id)))
    if filters.name is not None:
        statement = statement.where(
            employee_name_matches(filters.name, scope=scope, argument="name", field="filter.name")
        )
    if filters.date_of_birth is not None:
        statement = statement.where(col(Employee.date_of_birth) == filters.date_of_birth)
    if filters.location_id is not None:
        statement = statement.where(col(Employee.location_id) == filters.location_id)
    if filters.account_id is not None:
        statement = statement.where(col(Employee.account_id) == filters.account_id)
    if filters.employee_number is not None and filters.employee_number.strip():
        statement = statement.where(
            col(Employee.employee_number) == filters.employee_number.strip()
        )
    return await paginate(
        session=session,
        statement=statement,
        keys=[
            SortKey(col(Employee.last_name)),
            SortKey(col(Employee.first_name)),
            SortKey(col(Employee.id), python_type=uuid.UUID),
        ],
        request=page,
        convert=lambda employee: employee,
    )
