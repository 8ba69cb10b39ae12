"""Staff ingestion: ``recordVisit``, ``updateVisitStatus``, ``postDocument`` (a PDF over the
GraphQL multipart request spec), ``retractDocument`` and ``restoreDocument``.

These map inputs to ``portal.resolvers.ingestion`` calls; the rules live there. Each resolver
function commits its own transaction; on a user error this layer rolls back whatever the request
session still holds, so a refused mutation writes nothing.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import strawberry
from strawberry.file_uploads import Upload

from portal.auth.principal import ViewerRole
from portal.auth.scopes import INGESTION_SCOPE
from portal.models.enums import AuditResult, VisitStatus, VisitType
from portal.resolvers import ingestion
from portal.resolvers.audit import AuditEntry, RequestMeta, write_events
from portal.resolvers.documents.records import load_posted_document
from portal.resolvers.errors import BadUserInput, ErrorCode, PortalError
from portal.resolvers.ingestion.pdf import read_limited
from portal.schema.authorizations import Authorization
from portal.schema.catalog import MedicalCenter
from portal.schema.context import Info
from portal.schema.documents import Document
from portal.schema.employees import Employee
from portal.schema.payloads import MutationPayload, UserError
from portal.schema.permissions import requires, rule
from portal.schema.relay import decode_global_id, global_id
from portal.schema.visits import Visit
from portal.storage import document_storage

# Ingestion is the provider's own work: support staff, and the provider's own systems holding
# `ingestion:write` (no employer client can hold it). Retraction and restore are decisions a
# person makes: staff only.
INGESTION = rule(ViewerRole.STAFF, scope=INGESTION_SCOPE)
CURATION = rule(ViewerRole.STAFF)


@strawberry.input(
    description="An employee named as a provider system knows them, without reading employees: "
    "the employer's account number with the employee number, or with first name, last name "
    "and date of birth (names compared in any case). No match, or several, is a user error."
)
class EmployeeReferenceInput:
    account_number: str
    employee_number: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    date_of_birth: date | None = None


@strawberry.input(description="A visit of an employee to a medical center.")
class RecordVisitInput:
    employee_id: strawberry.ID | None = strawberry.field(
        default=None, description="The employee's id; or name them with `employee` instead."
    )
    employee: EmployeeReferenceInput | None = strawberry.field(
        default=None,
        description="The employee by account number and employee number (or name and date of "
        "birth), for systems that know no employee ids. Give this or `employeeId`, not both.",
    )
    medical_center_id: strawberry.ID
    visited_at: datetime = strawberry.field(description="When the employee checked in.")
    visit_type: VisitType
    claim_number: str | None = strawberry.field(
        default=None, description="The injury claim number (injury visits only)."
    )
    authorization_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="An ACTIVE authorization of the same employee valid on the visit's date; "
        "it becomes USED.",
    )
    authorization_number: str | None = strawberry.field(
        default=None,
        description="The same, by the number printed (and QR-encoded) on the authorization, as "
        "the front desk scans it; instead of `authorizationId`.",
    )


@strawberry.input(description="Move a visit one step forward.")
class UpdateVisitStatusInput:
    id: strawberry.ID
    status: VisitStatus = strawberry.field(
        description="The next status: CHECKED_IN -> CHECKED_OUT -> RESULTS_PENDING -> COMPLETE."
    )
    checked_out_at: datetime | None = strawberry.field(
        default=None, description="When checking out: the check-out time (default now)."
    )


@strawberry.input(description="A result PDF for a visit, sent as a multipart upload.")
class PostDocumentInput:
    visit_id: strawberry.ID
    report_type: str = strawberry.field(description="The report type's code (see `reportTypes`).")
    name: str = strawberry.field(description="The document's name as employers will see it.")
    file: Upload = strawberry.field(
        description="The PDF (GraphQL multipart request spec). It must be a readable, "
        "unencrypted PDF within the size limit (PORTAL_MAX_UPLOAD_BYTES, default 25 MB)."
    )


@strawberry.input(description="Withdraw a document posted in error.")
class RetractDocumentInput:
    id: strawberry.ID
    reason: str = strawberry.field(description="Why (kept for the audit; never sent out).")


@strawberry.input(description="Bring an archived document back into employer views.")
class RestoreDocumentInput:
    id: strawberry.ID


@strawberry.type
class VisitPayload(MutationPayload):
    visit: Visit | None


@strawberry.type
class RecordVisitPayload(VisitPayload):
    employee_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The id of the employee the visit was recorded for: all a provider system "
        "gets back of the employee (its `visit.employee` is null).",
    )


@strawberry.type
class UpdateVisitStatusPayload(VisitPayload):
    pass


@strawberry.type
class DocumentPayload(MutationPayload):
    document: Document | None


@strawberry.type
class PostDocumentPayload(DocumentPayload):
    pass


@strawberry.type
class RetractDocumentPayload(DocumentPayload):
    pass


@strawberry.type
class RestoreDocumentPayload(DocumentPayload):
    pass


async def _refused(info: Info, error: PortalError) -> list[UserError]:
    await info.context.session.rollback()
    return [UserError.from_error(error)]


async def _document(info: Info, document_id: uuid.UUID) -> Document | None:
    row = await info.context.loaders.document.load(document_id)
    return Document.from_row(row) if row is not None else None


async def _posted_document(info: Info, document_id: uuid.UUID) -> Document | None:
    """The document this request posted, as its poster sees it (its read audited)."""
    record = await load_posted_document(session=info.context.session, document_id=document_id)
    return Document.read(info, record) if record is not None else None


async def _audit(info: Info, action: str, account_id: uuid.UUID, object_id: uuid.UUID) -> None:
    """Record the change right after it commits, before this request's session opens another
    transaction (the audit rows must never depend on what the rest of the request does)."""
    context = info.context
    operation = info.operation.name.value if info.operation.name else None
    entry = AuditEntry(
        action=action,
        result=AuditResult.ALLOWED,
        account_id=account_id,
        object_ids=(str(object_id),),
    )
    if context.sessionmaker is None:
        context.audit(entry)
        return
    await write_events(
        sessionmaker=context.sessionmaker,
        principal=context.principal,
        meta=RequestMeta(
            ip_address=context.client_ip,
            request_id=context.request_id,
            operation_name=operation,
        ),
        entries=[entry],
    )


async def _employee_id(info: Info, input: RecordVisitInput) -> uuid.UUID:
    if (input.employee_id is None) == (input.employee is None):
        raise BadUserInput("Give either employeeId or employee.", field="employeeId")
    if input.employee_id is not None:
        return decode_global_id(input.employee_id, field="employeeId", expected=Employee)
    given = input.employee
    assert given is not None
    return await ingestion.find_employee_id(
        session=info.context.session,
        scope=info.context.scope,
        reference=ingestion.EmployeeReference(
            account_number=given.account_number,
            employee_number=given.employee_number,
            first_name=given.first_name,
            last_name=given.last_name,
            date_of_birth=given.date_of_birth,
        ),
    )


@strawberry.type
class IngestionMutations:
    @strawberry.mutation(
        description="Record a visit (staff, or a provider system holding `ingestion:write`). "
        "The account and location come from the employee.",
        extensions=[requires(INGESTION)],
    )
    async def record_visit(self, info: Info, input: RecordVisitInput) -> RecordVisitPayload | None:
        context = info.context
        try:
            authorization_id = (
                decode_global_id(
                    input.authorization_id, field="authorizationId", expected=Authorization
                )
                if input.authorization_id is not None
                else None
            )
            visit = await ingestion.record_visit(
                session=context.session,
                scope=context.scope,
                employee_id=await _employee_id(info, input),
                medical_center_id=decode_global_id(
                    input.medical_center_id, field="medicalCenterId", expected=MedicalCenter
                ),
                visited_at=input.visited_at,
                visit_type=input.visit_type,
                claim_number=input.claim_number,
                authorization_id=authorization_id,
                authorization_number=input.authorization_number,
            )
        except PortalError as error:
            return RecordVisitPayload(visit=None, user_errors=await _refused(info, error))
        await _audit(info, "visit.recorded", visit.account_id, visit.id)
        if visit.authorization_id is not None:
            await _audit(info, "authorization.used", visit.account_id, visit.authorization_id)
        return RecordVisitPayload(
            visit=Visit.from_row(visit),
            employee_id=strawberry.ID(global_id(Employee, visit.employee_id)),
            user_errors=[],
        )

    @strawberry.mutation(
        description="Move a visit to its next status (staff, or a provider system); checking "
        "out records the time.",
        extensions=[requires(INGESTION)],
    )
    async def update_visit_status(
        self, info: Info, input: UpdateVisitStatusInput
    ) -> UpdateVisitStatusPayload | None:
        context = info.context
        try:
            visit = await ingestion.update_visit_status(
                session=context.session,
                scope=context.scope,
                visit_id=decode_global_id(input.id, field="id", expected=Visit),
                status=input.status,
                checked_out_at=input.checked_out_at,
            )
        except PortalError as error:
            return UpdateVisitStatusPayload(visit=None, user_errors=await _refused(info, error))
        await _audit(info, "visit.status_changed", visit.account_id, visit.id)
        return UpdateVisitStatusPayload(visit=Visit.from_row(visit), user_errors=[])

    @strawberry.mutation(
        description="Post a result PDF for a visit (staff, or a provider system), as a "
        "multipart upload. Subscribed contacts who asked for email are told (without PHI), and "
        "`documentPosted` fires.",
        extensions=[requires(INGESTION)],
    )
    async def post_document(
        self, info: Info, input: PostDocumentInput
    ) -> PostDocumentPayload | None:
        context = info.context
        limit = context.settings.max_upload_bytes
        upload = input.file
        try:
            visit_id = decode_global_id(input.visit_id, field="visitId", expected=Visit)
            read = getattr(upload, "read", None)
            if read is None:  # a client sent a plain value instead of a file part
                raise ingestion.UploadRejected(
                    ErrorCode.EMPTY_FILE, "Send the PDF as a multipart file part."
                )
            data = await read_limited(read, limit=limit)
            document = await ingestion.post_document(
                session=context.session,
                scope=context.scope,
                storage=document_storage(context.settings),
                visit_id=visit_id,
                report_type_code=input.report_type,
                name=input.name,
                data=data,
                max_bytes=limit,
                public_url=context.settings.public_url,
                events=context.events,
            )
        except PortalError as error:
            return PostDocumentPayload(document=None, user_errors=await _refused(info, error))
        finally:
            close = getattr(upload, "close", None)
            if close is not None:
                await close()
        await _audit(info, "document.posted", document.account_id, document.id)
        return PostDocumentPayload(
            document=await _posted_document(info, document.id), user_errors=[]
        )

    @strawberry.mutation(
        description="Retract a document posted in error (staff): it leaves every employer view "
        "and download at once; webhook subscribers get `document.retracted`.",
        extensions=[requires(CURATION)],
    )
    async def retract_document(
        self, info: Info, input: RetractDocumentInput
    ) -> RetractDocumentPayload | None:
        context = info.context
        staff_id = context.principal.id
        assert staff_id is not None  # the rule admits staff only, and staff have ids
        try:
            document = await ingestion.retract_document(
                session=context.session,
                scope=context.scope,
                staff_id=staff_id,
                document_id=decode_global_id(input.id, field="id", expected=Document),
                reason=input.reason,
            )
        except PortalError as error:
            return RetractDocumentPayload(document=None, user_errors=await _refused(info, error))
        await _audit(info, "document.retracted", document.account_id, document.id)
        return RetractDocumentPayload(document=await _document(info, document.id), user_errors=[])

    @strawberry.mutation(
        description="Restore an archived document into employer views (staff).",
        extensions=[requires(CURATION)],
    )
    async def restore_document(
        self, info: Info, input: RestoreDocumentInput
    ) -> RestoreDocumentPayload | None:
        context = info.context
        try:
            document = await ingestion.restore_document(
                session=context.session,
                scope=context.scope,
                document_id=decode_global_id(input.id, field="id", expected=Document),
            )
        except PortalError as error:
            return RestoreDocumentPayload(document=None, user_errors=await _refused(info, error))
        await _audit(info, "document.restored", document.account_id, document.id)
        return RestoreDocumentPayload(document=await _document(info, document.id), user_errors=[])
