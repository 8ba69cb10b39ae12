"""Employees (patients): loading by id and search, scoped to the caller's accounts in SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import Employee
from portal.models.db import AccountScope
from portal.resolvers.loading import equals_any, in_key_order


async def load_employees(
    *, session: AsyncSession, scope: AccountScope, ids: Sequence[uuid.UUID]
) -> list[Employee | None]:
    rows = await session.scalars(
        sa.select(Employee).where(
            equals_any(col(Employee.id), ids), scope.filter(col(Employee.account_id))
        )
    )
    return in_key_order(ids, rows, lambda employee: employee.id)
