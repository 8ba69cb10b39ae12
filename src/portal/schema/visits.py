"""Visits of employees to medical centers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry

from portal import models
from portal.models.enums import VisitStatus, VisitType
from portal.resolvers import visits as visit_resolvers
from portal.resolvers.visits import results_expected_at
from portal.schema.accounts import LOCATION, Account, Location, account_field
from portal.schema.authorizations.types import Authorization
from portal.schema.catalog import MEDICAL_CENTER, MedicalCenter
from portal.schema.context import Info
from portal.schema.employees import (
    DOCUMENTS_READ,
    EMPLOYEE,
    SUPPORT_REQUESTS_READ,
    VISITS_READ,
    Employee,
)
from portal.schema.limits import MAX_CODE_LENGTH, MAX_ID_LENGTH, max_length
from portal.schema.permissions import requires
from portal.schema.reads import PhiNode, record_phi_read
from portal.schema.related import audited_target, related
from portal.schema.relay import (
    Connection,
    decode_global_id,
    page_request,
    to_connection,
)

if TYPE_CHECKING:
    from portal.schema.documents import Document
    from portal.schema.support import SupportRequest

strawberry_visit_type = strawberry.enum(
    VisitType, name="VisitType", description="Injury care or a non-injury service visit."
)
strawberry_visit_status = strawberry.enum(
    VisitStatus, name="VisitStatus", description="Where a visit stands."
)


@strawberry.type(description="An employee's visit to a medical center.")
class Visit(PhiNode):
    node_rule = VISITS_READ
    phi_read_action = "visits.read"
    id: strawberry.relay.NodeID[uuid.UUID]
    visit_type: VisitType
    claim_number: str | None = strawberry.field(description="The injury claim number.")
    status: VisitStatus
    visited_at: datetime
    checked_out_at: datetime | None
    results_expected_at: datetime | None = strawberry.field(
        description="When results are due: 72 hours after a non-injury visit; at check-out for an "
        "injury work-status report (null until checked out)."
    )
    employee_id: strawberry.Private[uuid.UUID]
    medical_center_id: strawberry.Private[uuid.UUID]
    location_id: strawberry.Private[uuid.UUID]
    authorization_id: strawberry.Private[uuid.UUID | None]
    account_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: models.Visit) -> Self:
        return cls(
            id=row.id,
            visit_type=row.visit_type,
            claim_number=row.claim_number,
            status=row.status,
            visited_at=row.visited_at,
            checked_out_at=row.checked_out_at,
            results_expected_at=results_expected_at(
                visit_type=row.visit_type,
                visited_at=row.visited_at,
                checked_out_at=row.checked_out_at,
            ),
            employee_id=row.employee_id,
            medical_center_id=row.medical_center_id,
            location_id=row.location_id,
            authorization_id=row.authorization_id,
            account_id=row.account_id,
        )

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        return cls.audited(info, await info.context.loaders.visit.load_many(ids))

    employee: Employee | None = related(
        EMPLOYEE, key="employee_id", description="The employee seen."
    )
    medical_center: MedicalCenter | None = related(
        MEDICAL_CENTER, key="medical_center_id", description="Where the employee was seen."
    )
    location: Location | None = related(
        LOCATION, key="location_id", description="The employee's location the visit is for."
    )

    account: Account | None = account_field()

    @strawberry.field(
        description="The authorization the visit used (a Basic user sees only their own).",
        extensions=[requires(VISITS_READ)],
    )
    async def authorization(self, info: Info) -> Authorization | None:
        if self.authorization_id is None:
            return None
        row = await info.context.loaders.authorization.load(self.authorization_id)
        return Authorization.read(info, row) if row else None

    @strawberry.field(
        description="The visit's results you may see, newest first.",
        extensions=[requires(DOCUMENTS_READ)],
    )
    async def documents(
        self, info: Info
    ) -> list[Annotated[Document, strawberry.lazy("portal.schema.documents")]] | None:
        from portal.schema.documents import Document

        rows = await info.context.loaders.documents_by_visit.load(self.id)
        return [Document.read(info, row) for row in rows]

    @strawberry.field(
        description="Support requests about this visit that you may see (a requester their own, "
        "a User Admin the account's, staff all), newest first (staff: urgent first).",
        extensions=[requires(SUPPORT_REQUESTS_READ)],
    )
    async def support_requests(
        self, info: Info
    ) -> list[Annotated[SupportRequest, strawberry.lazy("portal.schema.support")]] | None:
        from portal.schema.support import to_nodes

        return to_nodes(info, await info.context.loaders.support_requests_by_visit.load(self.id))


VISIT = audited_target(lambda loaders: loaders.visit, Visit)


@strawberry.input(description="Narrow the visits list; every criterion is optional.")
class VisitFilter:
    employee_id: strawberry.ID | None = strawberry.field(
        default=None, directives=[max_length(MAX_ID_LENGTH)]
    )
    visited_after: datetime | None = None
    visited_before: datetime | None = None
    visit_type: VisitType | None = None
    status: VisitStatus | None = None
    claim_number: str | None = strawberry.field(
        default=None, description="Exact, any case.", directives=[max_length(MAX_CODE_LENGTH)]
    )
    medical_center_id: strawberry.ID | None = strawberry.field(
        default=None, directives=[max_length(MAX_ID_LENGTH)]
    )
    account_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="One of the accounts you see; another account's id finds nothing.",
        directives=[max_length(MAX_ID_LENGTH)],
    )


@strawberry.type
class VisitQueries:
    @strawberry.field(
        description="Visits of your account(s), most recent first, with their status and when "
        "results are expected.",
        extensions=[requires(VISITS_READ)],
    )
    async def visits(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: VisitFilter | None = None,
    ) -> Connection[Visit] | None:
        given = filter or VisitFilter()
        criteria = visit_resolvers.VisitFilter(
            employee_id=(
                decode_global_id(given.employee_id, field="filter.employeeId", expected=Employee)
                if given.employee_id
                else None
            ),
            visited_after=given.visited_after,
            visited_before=given.visited_before,
            visit_type=given.visit_type,
            status=given.status,
            claim_number=given.claim_number,
            medical_center_id=(
                decode_global_id(
                    given.medical_center_id,
                    field="filter.medicalCenterId",
                    expected=MedicalCenter,
                )
                if given.medical_center_id
                else None
            ),
            account_id=(
                decode_global_id(given.account_id, field="filter.accountId", expected=Account)
                if given.account_id
                else None
            ),
        )
        page = await visit_resolvers.search_visits(
            session=info.context.session,
            scope=info.context.scope,
            page=page_request(first, after, last, before),
            filters=criteria,
        )
        record_phi_read(
            info,
            "visits.searched",
            (row.id for row in page.items),
            {"filter": criteria.for_audit()},
        )
        return to_connection(page, Visit.from_row)
