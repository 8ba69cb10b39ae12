"""Employees (patients) of an account."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any, Self

import strawberry

from portal import models
from portal.auth.principal import ViewerRole
from portal.schema.accounts import Location
from portal.schema.context import Info
from portal.schema.permissions import rule
from portal.schema.relay import PortalNode

# Looking employees up (to authorize a visit, to find their results): the account's people, staff,
# and HR systems allowed to read visits. A document's or a visit's own employee needs no more than
# the right to see that document or visit.
EMPLOYEES_READ = rule(
    ViewerRole.USER_ADMIN, ViewerRole.BASIC, ViewerRole.STAFF, scope="visits:read"
)


@strawberry.type(description="An employee (patient) of an account. No SSN is ever held.")
class Employee(PortalNode):
    node_rule = EMPLOYEES_READ
    id: strawberry.relay.NodeID[uuid.UUID]
    first_name: str
    last_name: str
    # PHI beyond the minimum necessary is nullable, so a field-level denial can null it alone.
    date_of_birth: date | None
    employee_number: str | None
    email: str | None
    phone: str | None
    location_id: strawberry.Private[uuid.UUID]
    account_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: models.Employee) -> Self:
        return cls(
            id=row.id,
            first_name=row.first_name,
            last_name=row.last_name,
            date_of_birth=row.date_of_birth,
            employee_number=row.employee_number,
            email=row.email,
            phone=row.phone,
            location_id=row.location_id,
            account_id=row.account_id,
        )

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        return await info.context.loaders.employee.load_many(ids)

    @strawberry.field(description="The location the employee works at.")
    async def location(self, info: Info) -> Location | None:
        row = await info.context.loaders.location.load(self.location_id)
        return Location.from_row(row) if row else None
