"""Employees (patients) of an account."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry

from portal import models
from portal.auth.principal import ViewerRole
from portal.models.enums import Permission
from portal.resolvers import employees as employee_resolvers
from portal.resolvers.names import MAX_NAME_QUERY_LENGTH, MAX_NAME_WORDS
from portal.schema.accounts import LOCATION, Account, Location, account_field
from portal.schema.context import Info
from portal.schema.limits import MAX_CODE_LENGTH, MAX_ID_LENGTH, max_length
from portal.schema.permissions import requires, rule
from portal.schema.reads import PhiNode, record_phi_read
from portal.schema.related import audited_target, related
from portal.schema.relay import (
    Connection,
    decode_global_id,
    page_request,
    to_connection,
)

if TYPE_CHECKING:
    from portal.schema.authorizations import Authorization
    from portal.schema.documents import Document
    from portal.schema.visits import Visit

# Looking employees up (to authorize a visit, to find their results): the account's people, staff,
# and HR systems allowed to read visits. A document's or a visit's own employee needs no more than
# the right to see that document or visit.
EMPLOYEES_READ = rule(
    ViewerRole.USER_ADMIN, ViewerRole.BASIC, ViewerRole.STAFF, scope="visits:read"
)
# Declared here (not in documents/visits) because those modules import this one.
DOCUMENTS_READ = rule(
    ViewerRole.USER_ADMIN, ViewerRole.BASIC, ViewerRole.STAFF, scope="documents:read"
)
# Declared here (not in authorizations) because that package imports this module.
AUTHORIZATIONS_READ = rule(
    ViewerRole.USER_ADMIN, ViewerRole.BASIC, ViewerRole.STAFF, scope="authorizations:read"
)
# Visits and visit activity: User Admins, staff, Basic users granted VIEW_VISIT_ACTIVITY, and HR
# systems holding `visits:read`.
VISITS_READ = rule(
    ViewerRole.USER_ADMIN,
    ViewerRole.STAFF,
    permission=Permission.VIEW_VISIT_ACTIVITY,
    scope="visits:read",
)
# Minimum necessary: an employee's date of birth, email and phone are for User Admins, staff and
# Basic users granted VIEW_VISIT_ACTIVITY; a Basic user without it sees the employee's name (and
# their results) only. API clients see them wherever their scope shows the employee.
EMPLOYEE_DETAILS_READ = rule(
    ViewerRole.USER_ADMIN,
    ViewerRole.STAFF,
    permission=Permission.VIEW_VISIT_ACTIVITY,
    scopes=("visits:read", "documents:read", "ingestion:write"),
)

# Support requests: a requester their own, a User Admin all of the account's, staff all (the rows
# are filtered in SQL, resolvers/support); API clients none.
SUPPORT_REQUESTS_READ = rule(ViewerRole.USER_ADMIN, ViewerRole.BASIC, ViewerRole.STAFF)


@strawberry.type(description="An employee (patient) of an account. No SSN is ever held.")
class Employee(PhiNode):
    node_rule = EMPLOYEES_READ
    phi_read_action = "employees.read"
    id: strawberry.relay.NodeID[uuid.UUID]
    first_name: str
    last_name: str
    # PHI beyond the minimum necessary is nullable, so a field-level denial can null it alone.
    date_of_birth: date | None = strawberry.field(extensions=[requires(EMPLOYEE_DETAILS_READ)])
    employee_number: str | None
    email: str | None = strawberry.field(extensions=[requires(EMPLOYEE_DETAILS_READ)])
    phone: str | None = strawberry.field(extensions=[requires(EMPLOYEE_DETAILS_READ)])
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
        return cls.audited(info, await info.context.loaders.employee.load_many(ids))

    location: Location | None = related(
        LOCATION, key="location_id", description="The location the employee works at."
    )

    account: Account | None = account_field()

    @strawberry.field(
        description="The employee's results you may see, newest first.",
        extensions=[requires(DOCUMENTS_READ)],
    )
    async def documents(
        self, info: Info
    ) -> list[Annotated[Document, strawberry.lazy("portal.schema.documents")]] | None:
        from portal.schema.documents import Document

        rows = await info.context.loaders.documents_by_employee.load(self.id)
        return [Document.read(info, row) for row in rows]

    @strawberry.field(
        description="The employee's visits, most recent first.",
        extensions=[requires(VISITS_READ)],
    )
    async def visits(
        self, info: Info
    ) -> list[Annotated[Visit, strawberry.lazy("portal.schema.visits")]] | None:
        from portal.schema.visits import Visit

        rows = await info.context.loaders.visits_by_employee.load(self.id)
        return [Visit.read(info, row) for row in rows]

    @strawberry.field(
        description="The employee's authorizations you may see (a Basic user: their own), "
        "newest first.",
        extensions=[requires(AUTHORIZATIONS_READ)],
    )
    async def authorizations(
        self, info: Info
    ) -> list[Annotated[Authorization, strawberry.lazy("portal.schema.authorizations")]] | None:
        from portal.schema.authorizations import Authorization

        rows = await info.context.loaders.authorizations_by_employee.load(self.id)
        return [Authorization.read(info, row) for row in rows]


EMPLOYEE = audited_target(lambda loaders: loaders.employee, Employee)


@strawberry.input(description="Narrow the employees list; every criterion is optional.")
class EmployeeFilter:
    name: str | None = strawberry.field(
        default=None,
        description="First and last name: every word must appear, in any order, partial, any "
        f'case ("smi ali" finds Alice Smith); at most {MAX_NAME_WORDS} words.',
        directives=[max_length(MAX_NAME_QUERY_LENGTH)],
    )
    date_of_birth: date | None = None
    location_id: strawberry.ID | None = strawberry.field(
        default=None, directives=[max_length(MAX_ID_LENGTH)]
    )
    employee_number: str | None = strawberry.field(
        default=None, directives=[max_length(MAX_CODE_LENGTH)]
    )
    account_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="One of the accounts you see; another account's id finds nothing.",
        directives=[max_length(MAX_ID_LENGTH)],
    )


@strawberry.type
class EmployeeQueries:
    @strawberry.field(
        description="Employees of your account(s), by last then first name.",
        extensions=[requires(EMPLOYEES_READ)],
    )
    async def employees(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: EmployeeFilter | None = None,
    ) -> Connection[Employee] | None:
        given = filter or EmployeeFilter()
        criteria = employee_resolvers.EmployeeFilter(
            name=given.name,
            date_of_birth=given.date_of_birth,
            location_id=(
                decode_global_id(given.location_id, field="filter.locationId", expected=Location)
                if given.location_id
                else None
            ),
            employee_number=given.employee_number,
            account_id=(
                decode_global_id(given.account_id, field="filter.accountId", expected=Account)
                if given.account_id
                else None
            ),
        )
        page = await employee_resolvers.search_employees(
            session=info.context.session,
            scope=info.context.scope,
            page=page_request(first, after, last, before),
            filters=criteria,
        )
        record_phi_read(
            info,
            "employees.searched",
            (row.id for row in page.items),
            {"filter": criteria.for_audit()},
        )
        return to_connection(page, Employee.from_row)
