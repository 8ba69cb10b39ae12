"""``authorizations(first after last before filter)``: what the caller may see, newest first."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from portal.models.enums import AuthorizationStatus, Modality
from portal.resolvers.authorizations import records
from portal.resolvers.errors import BadUserInput
from portal.schema.accounts import Location
from portal.schema.api_clients import ApiClient
from portal.schema.authorizations.types import Authorization
from portal.schema.context import Info
from portal.schema.employees import AUTHORIZATIONS_READ, Employee
from portal.schema.permissions import requires
from portal.schema.reads import record_phi_read
from portal.schema.relay import Connection, decode_global_id, page_request, to_connection
from portal.schema.users import PortalUser

MAX_TEXT = 200


@strawberry.input(description="Narrow the authorizations list; every criterion is optional.")
class AuthorizationFilter:
    status: AuthorizationStatus | None = None
    employee_name: str | None = strawberry.field(
        default=None,
        description="First and last name: every word, any order, partial, any case.",
    )
    employee_id: strawberry.ID | None = None
    location_id: strawberry.ID | None = None
    modality: Modality | None = None
    number: str | None = strawberry.field(default=None, description="Exact, any case.")
    created_by: strawberry.ID | None = strawberry.field(
        default=None, description="The id of a PortalUser or of an ApiClient."
    )
    created_after: datetime | None = None
    created_before: datetime | None = None
    valid_on: date | None = strawberry.field(
        default=None, description="Valid on this day (from and until included)."
    )


def to_criteria(given: AuthorizationFilter) -> records.AuthorizationFilter:
    for name in ("employee_name", "number"):
        value = getattr(given, name)
        if value is not None and len(value) > MAX_TEXT:
            field = "filter." + ("employeeName" if name == "employee_name" else name)
            raise BadUserInput(f"At most {MAX_TEXT} characters.", field=field)
    user_id = client_id = None
    if given.created_by:
        try:
            user_id = decode_global_id(
                given.created_by, field="filter.createdBy", expected=PortalUser
            )
        except BadUserInput:
            client_id = decode_global_id(
                given.created_by, field="filter.createdBy", expected=ApiClient
            )
    return records.AuthorizationFilter(
        status=given.status,
        employee_name=given.employee_name,
        employee_id=(
            decode_global_id(given.employee_id, field="filter.employeeId", expected=Employee)
            if given.employee_id
            else None
        ),
        location_id=(
            decode_global_id(given.location_id, field="filter.locationId", expected=Location)
            if given.location_id
            else None
        ),
        modality=given.modality,
        number=given.number,
        created_by_user_id=user_id,
        created_by_client_id=client_id,
        created_after=given.created_after,
        created_before=given.created_before,
        valid_on=given.valid_on,
    )


@strawberry.type
class AuthorizationQueries:
    @strawberry.field(
        description="Authorizations you may see, newest first: a User Admin's account(s), a "
        "Basic user's own, an HR system's account (`authorizations:read`), staff all. Deleted "
        "ones never appear.",
        extensions=[requires(AUTHORIZATIONS_READ)],
    )
    async def authorizations(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: AuthorizationFilter | None = None,
    ) -> Connection[Authorization] | None:
        criteria = to_criteria(filter or AuthorizationFilter())
        page = await records.search_authorizations(
            session=info.context.session,
            principal=info.context.principal,
            page=page_request(first, after, last, before),
            filters=criteria,
        )
        record_phi_read(
            info,
            "authorizations.searched",
            (row.id for row in page.items),
            {"filter": criteria.for_audit()},
        )
        return to_connection(page, Authorization.from_row)
