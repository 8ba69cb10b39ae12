"""Documents: visit results and reports, as the clients rely on them (docs/design-decisions.md,
"Names the clients rely on")."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry

from portal.auth.principal import ViewerRole
from portal.models.enums import VisitType
from portal.resolvers.documents import records, search
from portal.resolvers.documents.records import DocumentRecord
from portal.resolvers.names import MAX_NAME_QUERY_LENGTH, MAX_NAME_WORDS
from portal.schema.accounts import LOCATION, Account, Location, account_field
from portal.schema.catalog import MEDICAL_CENTER, REPORT_TYPE, MedicalCenter, ReportType
from portal.schema.context import Info
from portal.schema.employees import DOCUMENTS_READ, EMPLOYEE, SUPPORT_REQUESTS_READ, Employee
from portal.schema.limits import MAX_CODE_LENGTH, MAX_ID_LENGTH, max_length
from portal.schema.permissions import requires, rule
from portal.schema.reads import PhiNode, record_phi_read
from portal.schema.related import RowsStatement, related
from portal.schema.relay import (
    Connection,
    PortalNode,
    asks_total_count,
    decode_global_id,
    page_request,
    to_connection,
)
from portal.schema.visits import VISIT, Visit

if TYPE_CHECKING:
    from portal.schema.support import SupportRequest

# DOCUMENTS_READ says who may list, search and download documents at all; which documents is the
# visibility rule's business (resolvers/documents/visibility.py), applied in SQL to every query.
__all__ = ["DOCUMENTS_READ", "STAFF_ONLY", "Document", "DocumentFilter", "DocumentQueries"]

STAFF_ONLY = rule(ViewerRole.STAFF)


@strawberry.type(
    description="A posted result or report (a PDF); download it with `prepareDocumentDownload`."
)
class Document(PhiNode):
    node_rule = DOCUMENTS_READ
    phi_read_action = "documents.read"
    id: strawberry.relay.NodeID[uuid.UUID]
    name: str
    posted_at: datetime
    page_count: int
    size_bytes: int = strawberry.field(description="Size of the PDF in bytes.")
    sha256: str = strawberry.field(description="Lowercase hex SHA-256 of the PDF.")
    archived: bool = strawberry.field(
        description="The account's retention has passed and staff have not restored it: out of "
        "employer views and downloads (only staff see archived documents)."
    )
    archives_at: datetime | None = strawberry.field(
        description="When the document leaves employer views (posting + the account's retention);"
        " null once staff restored it."
    )
    retracted: bool | None = strawberry.field(
        description="Posted in error and withdrawn (staff only).",
        extensions=[requires(STAFF_ONLY)],
    )
    retracted_at: datetime | None = strawberry.field(
        description="When it was retracted (staff only).", extensions=[requires(STAFF_ONLY)]
    )
    retraction_reason: str | None = strawberry.field(
        description="Why it was retracted (staff only).", extensions=[requires(STAFF_ONLY)]
    )
    visit_id: strawberry.Private[uuid.UUID]
    employee_id: strawberry.Private[uuid.UUID]
    location_id: strawberry.Private[uuid.UUID]
    report_type_id: strawberry.Private[uuid.UUID]
    medical_center_id: strawberry.Private[uuid.UUID]
    account_id: strawberry.Private[uuid.UUID]
    report_type: ReportType = related(
        REPORT_TYPE, key="report_type_id", description="What kind of result this is."
    )
    employee: Employee | None = related(
        EMPLOYEE, key="employee_id", description="The employee the result is about."
    )
    visit: Visit | None = related(
        VISIT, key="visit_id", description="The visit the result comes from."
    )
    medical_center: MedicalCenter | None = related(
        MEDICAL_CENTER, key="medical_center_id", description="Where the employee was seen."
    )
    location: Location | None = related(
        LOCATION, key="location_id", description="The employee's location the result is for."
    )

    @classmethod
    def from_row(cls, row: DocumentRecord) -> Self:
        return cls(
            id=row.id,
            name=row.name,
            posted_at=row.posted_at,
            page_count=row.page_count,
            size_bytes=row.size_bytes,
            sha256=row.sha256,
            archived=row.archived,
            archives_at=row.archives_at if row.restored_at is None else None,
            retracted=row.retracted_at is not None,
            retracted_at=row.retracted_at,
            retraction_reason=row.retraction_reason,
            visit_id=row.visit_id,
            employee_id=row.employee_id,
            location_id=row.location_id,
            report_type_id=row.report_type_id,
            medical_center_id=row.medical_center_id,
            account_id=row.account_id,
        )

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        return cls.audited(info, await info.context.loaders.document.load_many(ids))

    @classmethod
    def rows_statement(cls, info: Info, ids: Sequence[uuid.UUID]) -> RowsStatement:
        statement, values = records.visible_documents_by_id(info.context.principal, ids)
        return RowsStatement(
            statement=statement,
            values=values,
            decode=records.to_record,
            loader=info.context.loaders.document,
        )

    account: Account | None = account_field()

    @strawberry.field(
        description="Support requests about this document that you may see (a requester their "
        "own, a User Admin the account's, staff all), newest first (staff: urgent first).",
        extensions=[requires(SUPPORT_REQUESTS_READ)],
    )
    async def support_requests(
        self, info: Info
    ) -> list[Annotated[SupportRequest, strawberry.lazy("portal.schema.support")]] | None:
        from portal.schema.support import to_nodes

        return to_nodes(info, await info.context.loaders.support_requests_by_document.load(self.id))


@strawberry.input(description="Search documents; every criterion is optional and they combine.")
class DocumentFilter:
    employee_name: str | None = strawberry.field(
        default=None,
        description="The employee's first and last name: every word must appear, in any order, "
        'partial, any case ("smi ali" and "Smith, Alice" find Alice Smith); at most '
        f"{MAX_NAME_WORDS} words.",
        directives=[max_length(MAX_NAME_QUERY_LENGTH)],
    )
    date_of_birth: date | None = None
    state: str | None = strawberry.field(
        default=None,
        description="Two-letter state of the medical center where the employee was seen.",
        directives=[max_length(MAX_CODE_LENGTH)],
    )
    medical_center_id: strawberry.ID | None = strawberry.field(
        default=None, directives=[max_length(MAX_ID_LENGTH)]
    )
    visit_type: VisitType | None = None
    claim_number: str | None = strawberry.field(
        default=None, description="Exact, any case.", directives=[max_length(MAX_CODE_LENGTH)]
    )
    name: str | None = strawberry.field(
        default=None,
        description="Part of the document name, any case.",
        directives=[max_length(MAX_NAME_QUERY_LENGTH)],
    )
    report_type: str | None = strawberry.field(
        default=None,
        description="A report type code, e.g. MEC_DOT_CARD.",
        directives=[max_length(MAX_CODE_LENGTH)],
    )
    location_id: strawberry.ID | None = strawberry.field(
        default=None, directives=[max_length(MAX_ID_LENGTH)]
    )
    account_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="One of the accounts you see (a third-party administrator's client; any "
        "for staff). Another account's id finds nothing.",
        directives=[max_length(MAX_ID_LENGTH)],
    )
    posted_after: datetime | None = strawberry.field(
        default=None, description="Posted at or after this instant."
    )
    posted_before: datetime | None = strawberry.field(
        default=None, description="Posted before this instant."
    )
    archived: bool | None = strawberry.field(
        default=None,
        description="Staff only: true for archived documents only, false for current ones only. "
        "Anyone else passing it gets BAD_USER_INPUT.",
    )


def _optional_id(value: strawberry.ID | None, field: str, expected: type[PortalNode]) -> Any:
    return decode_global_id(value, field=field, expected=expected) if value else None


@strawberry.type
class DocumentQueries:
    @strawberry.field(
        description="Documents you may see, newest first: a User Admin all of the account's, a "
        "Basic user those matching their report subscriptions, an API client with "
        "`documents:read` the account's, staff all (archived too).",
        extensions=[requires(DOCUMENTS_READ)],
    )
    async def documents(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: DocumentFilter | None = None,
    ) -> Connection[Document] | None:
        given = filter or DocumentFilter()
        criteria = search.DocumentFilter(
            employee_name=given.employee_name,
            date_of_birth=given.date_of_birth,
            state=given.state,
            medical_center_id=_optional_id(
                given.medical_center_id, "filter.medicalCenterId", MedicalCenter
            ),
            visit_type=given.visit_type,
            claim_number=given.claim_number,
            name=given.name,
            report_type=given.report_type,
            location_id=_optional_id(given.location_id, "filter.locationId", Location),
            account_id=_optional_id(given.account_id, "filter.accountId", Account),
            posted_after=given.posted_after,
            posted_before=given.posted_before,
            archived=given.archived,
        )
        page = await search.search_documents(
            session=info.context.session,
            principal=info.context.principal,
            page=page_request(first, after, last, before),
            filters=criteria,
            count_with_page=asks_total_count(info),
        )
        record_phi_read(
            info,
            "documents.searched",
            (record.id for record in page.items),
            {"filter": criteria.for_audit()},
        )
        return to_connection(page, Document.from_row)
