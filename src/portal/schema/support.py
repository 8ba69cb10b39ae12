"""Support requests: opening one, its conversation, its status, assignment, the privacy path, and
reading them (``supportRequests``, ``Document.supportRequests``, ``Visit.supportRequests``,
``node``).

These map arguments to ``portal.resolvers.support`` calls; the rules live there. Each resolver
function commits its own transaction; on a user error this layer rolls back whatever the request
session still holds, so a refused mutation writes nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, Sequence
from datetime import datetime
from typing import Any, Self

import strawberry

from portal import models
from portal.auth.principal import ViewerRole
from portal.events import SupportRequestChanged
from portal.models.db import AccountScope
from portal.models.enums import (
    AuditResult,
    SupportRequestStatus,
    SupportRequestType,
    SupportTopic,
    VisitStatus,
)
from portal.resolvers import support as support_resolvers
from portal.resolvers.audit import AuditEntry, write_events
from portal.resolvers.errors import PortalError
from portal.resolvers.support import CommentRecord, Person, StatusChangeRecord
from portal.resolvers.support.live import changed_requests_for
from portal.schema.accounts import Account
from portal.schema.context import Info
from portal.schema.documents import Document
from portal.schema.employees import SUPPORT_REQUESTS_READ, VISITS_READ
from portal.schema.payloads import MutationPayload, UserError
from portal.schema.permissions import decide, requires, rule
from portal.schema.reads import PhiNode, record_phi_read
from portal.schema.relay import (
    Connection,
    PortalNode,
    decode_global_id,
    page_request,
    to_connection,
)
from portal.schema.visits import Visit

strawberry_support_request_type = strawberry.enum(
    SupportRequestType,
    name="SupportRequestType",
    description="ACCOUNT_UPDATE (report types, email, notifications, services, other) or "
    "TREATMENT_RESULT (services question, missing or incomplete results, billing, privacy).",
)
strawberry_support_topic = strawberry.enum(
    SupportTopic,
    name="SupportTopic",
    description="What a request is about. ACCOUNT_UPDATE: NEW_REPORT_TYPE, EMAIL_CHANGE, "
    "NOTIFICATIONS, ADD_REMOVE_SERVICES, OTHER. TREATMENT_RESULT: SERVICES_QUESTION, "
    "MISSING_RESULTS, BILLING, PRIVACY (always urgent).",
)
strawberry_support_request_status = strawberry.enum(
    SupportRequestStatus,
    name="SupportRequestStatus",
    description="NEW -> IN_PROGRESS -> RESOLVED -> CLOSED.",
)

SUPPORT = SUPPORT_REQUESTS_READ
# Opening one: the account's people, and staff taking a call for an account.
REQUESTERS = rule(ViewerRole.USER_ADMIN, ViewerRole.BASIC, ViewerRole.STAFF)
STAFF = rule(ViewerRole.STAFF)


@strawberry.type(description="Someone taking part in a support request (their name only).")
class SupportPerson:
    name: str
    is_staff: bool = strawberry.field(description="One of the provider's support staff.")

    @classmethod
    def of(cls, person: Person | None) -> SupportPerson | None:
        return cls(name=person.name, is_staff=person.staff) if person is not None else None


@strawberry.type(description="A member of the provider's support staff (staff only).")
class StaffUser(PortalNode):
    node_rule = STAFF
    id: strawberry.relay.NodeID[uuid.UUID]
    name: str

    @classmethod
    def from_row(cls, row: tuple[uuid.UUID, Person]) -> Self:
        staff_id, person = row
        return cls(id=staff_id, name=person.name)

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        people = await info.context.loaders.staff_name.load_many(ids)
        return [
            (staff_id, person) if person is not None else None
            for staff_id, person in zip(ids, people, strict=True)
        ]


@strawberry.type(description="One message of a support request's conversation.")
class SupportComment:
    body: str
    internal: bool = strawberry.field(
        description="A staff note employers never see (always false for them)."
    )
    created_at: datetime
    author: SupportPerson | None = strawberry.field(
        description="Who wrote it; null once their login was removed."
    )

    @classmethod
    def from_record(cls, record: CommentRecord) -> Self:
        return cls(
            body=record.body,
            internal=record.internal,
            created_at=record.created_at,
            author=SupportPerson.of(record.author),
        )


@strawberry.type(description="One change of a support request's status: who and when.")
class SupportRequestStatusChange:
    from_status: SupportRequestStatus | None = strawberry.field(
        description="Null for the opening of the request."
    )
    to_status: SupportRequestStatus
    changed_at: datetime
    changed_by: SupportPerson | None

    @classmethod
    def from_record(cls, record: StatusChangeRecord) -> Self:
        return cls(
            from_status=record.from_status,
            to_status=record.to_status,
            changed_at=record.changed_at,
            changed_by=SupportPerson.of(record.changed_by),
        )


@strawberry.type(
    description="A question or request to support: an account update, or a question about "
    "treatment or results (PRIVACY ones are urgent)."
)
class SupportRequest(PhiNode):
    node_rule = SUPPORT
    phi_read_action = "support_requests.read"
    id: strawberry.relay.NodeID[uuid.UUID]
    number: str = strawberry.field(description="The request number, e.g. SR-000123.")
    type: SupportRequestType
    topic: SupportTopic
    urgent: bool = strawberry.field(description="Privacy requests are always urgent.")
    status: SupportRequestStatus
    subject: str
    description: str
    created_at: datetime
    updated_at: datetime = strawberry.field(description="The last change or comment.")
    resolved_at: datetime | None = strawberry.field(
        description="When it was last resolved; the requester may reopen it for 14 days."
    )
    resolution: str | None = strawberry.field(
        description='What the requester is told of the outcome (e.g. "Removed from your view." '
        "when the document it was about was retracted)."
    )
    visit_status: VisitStatus | None = strawberry.field(
        description="The visit's status when this missing-results request was opened."
    )
    _row: strawberry.Private[models.SupportRequest]

    @classmethod
    def from_row(cls, row: models.SupportRequest) -> Self:
        return cls(
            id=row.id,
            number=row.number,
            type=row.request_type,
            topic=row.topic,
            urgent=bool(row.urgent),
            status=row.status,
            subject=row.subject,
            description=row.description,
            created_at=row.created_at,
            updated_at=row.updated_at,
            resolved_at=row.resolved_at,
            resolution=row.resolution,
            visit_status=row.visit_status,
            _row=row,
        )

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        return cls.audited(info, await info.context.loaders.support_request.load_many(ids))

    @strawberry.field(description="The account the request is for.")
    async def account(self, info: Info) -> Account | None:
        row = await info.context.loaders.account.load(self._row.account_id)
        return Account.from_row(row) if row else None

    @strawberry.field(
        description="Who opened it (null when their login is gone or of an account you cannot "
        "see, e.g. a third-party administrator acting for a client)."
    )
    async def requester(self, info: Info) -> SupportPerson | None:
        loaders = info.context.loaders
        if self._row.requester_user_id is not None:
            return SupportPerson.of(await loaders.user_name.load(self._row.requester_user_id))
        if self._row.requester_staff_id is not None:
            return SupportPerson.of(await loaders.staff_name.load(self._row.requester_staff_id))
        return None

    @strawberry.field(description="The staff member working on it.")
    async def assigned_to(self, info: Info) -> SupportPerson | None:
        if self._row.assigned_staff_id is None:
            return None
        person = await info.context.loaders.staff_name.load(self._row.assigned_staff_id)
        return SupportPerson.of(person)

    @strawberry.field(
        description="The staff member working on it, as a node (staff only).",
        extensions=[requires(STAFF)],
    )
    async def assignee(self, info: Info) -> StaffUser | None:
        if self._row.assigned_staff_id is None:
            return None
        person = await info.context.loaders.staff_name.load(self._row.assigned_staff_id)
        return StaffUser(id=self._row.assigned_staff_id, name=person.name) if person else None

    @strawberry.field(
        description="The document it is about, while you may see it (a retracted one is gone "
        "from employer views)."
    )
    async def document(self, info: Info) -> Document | None:
        if self._row.document_id is None:
            return None
        row = await info.context.loaders.document.load(self._row.document_id)
        return Document.read(info, row) if row else None

    @strawberry.field(description="The visit it is about.", extensions=[requires(VISITS_READ)])
    async def visit(self, info: Info) -> Visit | None:
        if self._row.visit_id is None:
            return None
        row = await info.context.loaders.visit.load(self._row.visit_id)
        return Visit.read(info, row) if row else None

    @strawberry.field(description="The conversation, oldest first (internal notes for staff only).")
    async def comments(self, info: Info) -> list[SupportComment]:
        rows = await info.context.loaders.support_comments.load(self.id)
        return [SupportComment.from_record(row) for row in rows]

    @strawberry.field(description="How many comments you can see.")
    async def comment_count(self, info: Info) -> int:
        return len(await info.context.loaders.support_comments.load(self.id))

    @strawberry.field(description="Every status change, oldest first, with who and when.")
    async def history(self, info: Info) -> list[SupportRequestStatusChange]:
        rows = await info.context.loaders.support_history.load(self.id)
        return [SupportRequestStatusChange.from_record(row) for row in rows]

    @strawberry.field(
        description="The statuses you may move it to now (`updateSupportRequestStatus`)."
    )
    def allowed_next_statuses(self, info: Info) -> list[SupportRequestStatus]:
        return list(support_resolvers.allowed_next_statuses(self._row, info.context.principal))


def to_nodes(info: Info, rows: Sequence[models.SupportRequest]) -> list[SupportRequest]:
    record_phi_read(info, SupportRequest.phi_read_action, (row.id for row in rows))
    return [SupportRequest.from_row(row) for row in rows]


@strawberry.input(description="Narrow the support requests list; every criterion is optional.")
class SupportRequestFilter:
    status: SupportRequestStatus | None = None
    type: SupportRequestType | None = None
    topic: SupportTopic | None = None
    urgent: bool | None = None
    assigned_to_me: bool | None = strawberry.field(
        default=None, description="Staff: true for the requests assigned to you, false for others."
    )
    created_after: datetime | None = strawberry.field(
        default=None, description="Opened at or after this instant."
    )
    created_before: datetime | None = strawberry.field(
        default=None, description="Opened before this instant."
    )
    account_id: strawberry.ID | None = None


@strawberry.input(description="Open a support request.")
class CreateSupportRequestInput:
    type: SupportRequestType
    topic: SupportTopic = strawberry.field(description="One of the type's topics.")
    subject: str = strawberry.field(description="A short title (at most 200 characters).")
    description: str = strawberry.field(description="What you need (at most 5000 characters).")
    document_id: strawberry.ID | None = strawberry.field(
        default=None, description="A document you may see that the request is about."
    )
    visit_id: strawberry.ID | None = strawberry.field(
        default=None, description="A visit you may see that the request is about."
    )
    account_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The account it is for: by default yours (or the document's or visit's). "
        "Staff name it when taking a request by phone; a third-party administrator may name "
        "one of its employer clients.",
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="Send the same key to retry safely: a retry returns the first result.",
    )


@strawberry.input(description="Add to a support request's conversation.")
class AddSupportRequestCommentInput:
    id: strawberry.ID
    body: str = strawberry.field(description="At most 5000 characters.")
    internal: bool = strawberry.field(
        default=False, description="Staff only: a note employers never see."
    )


@strawberry.input(description="Move a support request to another status.")
class UpdateSupportRequestStatusInput:
    id: strawberry.ID
    status: SupportRequestStatus = strawberry.field(
        description="One of the request's `allowedNextStatuses`."
    )


@strawberry.input(description="Give a support request to a staff member.")
class AssignSupportRequestInput:
    id: strawberry.ID
    assignee_id: strawberry.ID | None = strawberry.field(
        default=None, description="A staff member's id (yours: `viewer.id`); null to unassign."
    )


@strawberry.input(description="Retract the document a privacy request is about.")
class RetractSupportRequestDocumentInput:
    id: strawberry.ID = strawberry.field(description="The support request's id.")


@strawberry.type
class SupportRequestPayload(MutationPayload):
    support_request: SupportRequest | None


@strawberry.type
class CreateSupportRequestPayload(SupportRequestPayload):
    results_expected_at: datetime | None = strawberry.field(
        default=None,
        description="With RESULTS_NOT_YET_DUE: when the visit's results are expected.",
    )


@strawberry.type
class AddSupportRequestCommentPayload(SupportRequestPayload):
    comment: SupportComment | None


@strawberry.type
class UpdateSupportRequestStatusPayload(SupportRequestPayload):
    pass


@strawberry.type
class AssignSupportRequestPayload(SupportRequestPayload):
    pass


@strawberry.type
class RetractSupportRequestDocumentPayload(SupportRequestPayload):
    document: Document | None


async def _refused(info: Info, error: PortalError) -> list[UserError]:
    await info.context.session.rollback()
    return [UserError.from_error(error)]


def _audit(info: Info, action: str, row: models.SupportRequest, **details: Any) -> None:
    info.context.audit(
        AuditEntry(
            action=action,
            result=AuditResult.ALLOWED,
            account_id=row.account_id,
            object_ids=(str(row.id),),
            details=details,
        )
    )


def _announce(info: Info, row: models.SupportRequest, *, internal: bool = False) -> None:
    """Tell live subscribers (``supportRequestUpdated``), after the change has committed."""
    info.context.events.publish(
        SupportRequestChanged(
            support_request_id=row.id, account_id=row.account_id, internal=internal
        )
    )


def _request_id(value: strawberry.ID) -> uuid.UUID:
    return decode_global_id(value, field="id", expected=SupportRequest)


@strawberry.type
class SupportMutations:
    @strawberry.mutation(
        description="Open a support request (an account's people; staff for an account). "
        "PRIVACY requests are urgent. "
        "A MISSING_RESULTS request about a visit whose results are not due yet is refused with "
        "RESULTS_NOT_YET_DUE, saying when they are expected.",
        extensions=[requires(REQUESTERS)],
    )
    async def create_support_request(
        self, info: Info, input: CreateSupportRequestInput
    ) -> CreateSupportRequestPayload:
        context = info.context
        try:
            new = support_resolvers.NewSupportRequest(
                request_type=input.type,
                topic=input.topic,
                subject=input.subject,
                description=input.description,
                document_id=(
                    decode_global_id(input.document_id, field="documentId", expected=Document)
                    if input.document_id is not None
                    else None
                ),
                visit_id=(
                    decode_global_id(input.visit_id, field="visitId", expected=Visit)
                    if input.visit_id is not None
                    else None
                ),
                account_id=(
                    decode_global_id(input.account_id, field="accountId", expected=Account)
                    if input.account_id is not None
                    else None
                ),
            )
            # The visits the requester may see: the visits list's own rule.
            visit_scope = context.scope if decide(info, VISITS_READ) else AccountScope.nothing()
            row, replayed = await support_resolvers.create_support_request(
                session=context.session,
                principal=context.principal,
                new=new,
                visit_scope=visit_scope,
                idempotency_key=input.idempotency_key,
            )
        except support_resolvers.ResultsNotYetDue as error:
            return CreateSupportRequestPayload(
                support_request=None,
                results_expected_at=error.expected_at,
                user_errors=await _refused(info, error),
            )
        except PortalError as error:
            return CreateSupportRequestPayload(
                support_request=None, user_errors=await _refused(info, error)
            )
        if not replayed:
            _audit(info, "support_request.created", row, topic=row.topic.value)
            _announce(info, row)
        return CreateSupportRequestPayload(
            support_request=SupportRequest.from_row(row), user_errors=[]
        )

    @strawberry.mutation(
        description="Add a comment to a request you may see; staff may add internal notes.",
        extensions=[requires(SUPPORT)],
    )
    async def add_support_request_comment(
        self, info: Info, input: AddSupportRequestCommentInput
    ) -> AddSupportRequestCommentPayload:
        context = info.context
        try:
            row, comment = await support_resolvers.add_comment(
                session=context.session,
                principal=context.principal,
                request_id=_request_id(input.id),
                body=input.body,
                internal=input.internal,
            )
        except PortalError as error:
            return AddSupportRequestCommentPayload(
                support_request=None, comment=None, user_errors=await _refused(info, error)
            )
        _audit(info, "support_request.commented", row, internal=comment.internal)
        _announce(info, row, internal=comment.internal)
        (record,) = [
            record
            for record in await context.loaders.support_comments.load(row.id)
            if record.id == comment.id
        ]
        return AddSupportRequestCommentPayload(
            support_request=SupportRequest.from_row(row),
            comment=SupportComment.from_record(record),
            user_errors=[],
        )

    @strawberry.mutation(
        description="Move a request to another status: staff forward (and back from RESOLVED); "
        "the requester closes a resolved one or reopens it within 14 days. The requester is "
        "emailed; a refused change names the allowed next states.",
        extensions=[requires(SUPPORT)],
    )
    async def update_support_request_status(
        self, info: Info, input: UpdateSupportRequestStatusInput
    ) -> UpdateSupportRequestStatusPayload:
        context = info.context
        try:
            row = await support_resolvers.change_status(
                session=context.session,
                principal=context.principal,
                request_id=_request_id(input.id),
                status=input.status,
                public_url=context.settings.public_url,
            )
        except PortalError as error:
            return UpdateSupportRequestStatusPayload(
                support_request=None, user_errors=await _refused(info, error)
            )
        _audit(info, "support_request.status_changed", row, status=row.status.value)
        _announce(info, row)
        return UpdateSupportRequestStatusPayload(
            support_request=SupportRequest.from_row(row), user_errors=[]
        )

    @strawberry.mutation(
        description="Assign a request to a staff member, or unassign it (staff).",
        extensions=[requires(STAFF)],
    )
    async def assign_support_request(
        self, info: Info, input: AssignSupportRequestInput
    ) -> AssignSupportRequestPayload:
        context = info.context
        try:
            assignee = (
                decode_global_id(input.assignee_id, field="assigneeId", expected=StaffUser)
                if input.assignee_id is not None
                else None
            )
            row = await support_resolvers.assign(
                session=context.session,
                principal=context.principal,
                request_id=_request_id(input.id),
                staff_id=assignee,
            )
        except PortalError as error:
            return AssignSupportRequestPayload(
                support_request=None, user_errors=await _refused(info, error)
            )
        _audit(
            info,
            "support_request.assigned",
            row,
            assignee=str(row.assigned_staff_id) if row.assigned_staff_id else None,
        )
        _announce(info, row)
        return AssignSupportRequestPayload(
            support_request=SupportRequest.from_row(row), user_errors=[]
        )

    @strawberry.mutation(
        description="The privacy path (staff): retract the document a PRIVACY request is about, "
        "with the request number as the reason, and resolve the request; the requester is told "
        "it was removed from their view.",
        extensions=[requires(STAFF)],
    )
    async def retract_support_request_document(
        self, info: Info, input: RetractSupportRequestDocumentInput
    ) -> RetractSupportRequestDocumentPayload:
        context = info.context
        try:
            row, document = await support_resolvers.retract_requested_document(
                session=context.session,
                principal=context.principal,
                request_id=_request_id(input.id),
                public_url=context.settings.public_url,
            )
        except PortalError as error:
            return RetractSupportRequestDocumentPayload(
                support_request=None, document=None, user_errors=await _refused(info, error)
            )
        _audit(info, "support_request.status_changed", row, status=row.status.value)
        _announce(info, row)
        info.context.audit(
            AuditEntry(
                action="document.retracted",
                result=AuditResult.ALLOWED,
                account_id=document.account_id,
                object_ids=(str(document.id),),
                details={"supportRequest": str(row.id)},
            )
        )
        record = await context.loaders.document.load(document.id)
        return RetractSupportRequestDocumentPayload(
            support_request=SupportRequest.from_row(row),
            document=Document.from_row(record) if record else None,
            user_errors=[],
        )


@strawberry.type
class SupportQueries:
    @strawberry.field(
        description="Support requests you may see, newest first (staff: urgent first): a "
        "requester their own, a User Admin all of the account's, staff all.",
        extensions=[requires(SUPPORT)],
    )
    async def support_requests(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: SupportRequestFilter | None = None,
    ) -> Connection[SupportRequest]:
        given = filter or SupportRequestFilter()
        criteria = support_resolvers.SupportRequestFilter(
            status=given.status,
            request_type=given.type,
            topic=given.topic,
            urgent=given.urgent,
            assigned_to_me=given.assigned_to_me,
            created_after=given.created_after,
            created_before=given.created_before,
            account_id=(
                decode_global_id(given.account_id, field="filter.accountId", expected=Account)
                if given.account_id
                else None
            ),
        )
        page = await support_resolvers.search_support_requests(
            session=info.context.session,
            principal=info.context.principal,
            page=page_request(first, after, last, before),
            filters=criteria,
        )
        record_phi_read(
            info,
            "support_requests.searched",
            (row.id for row in page.items),
            {"filter": criteria.for_audit()},
        )
        return to_connection(page, SupportRequest.from_row)


@strawberry.type
class SupportSubscriptions:
    @strawberry.subscription(
        description="Each support request you may see, every time it is opened, commented on, "
        "moved or assigned from now on (`id`: only that one). Internal notes reach staff only. "
        "Over graphql-transport-ws at /graphql, authenticated in `connection_init` like "
        "`documentPosted`; missed events are not replayed.",
        extensions=[requires(SUPPORT)],
    )
    async def support_request_updated(
        self, info: Info, id: strawberry.ID | None = None
    ) -> AsyncGenerator[SupportRequest, None]:
        context = info.context
        if context.sessionmaker is None:
            raise RuntimeError("live delivery needs the app's sessionmaker")
        only = _request_id(id) if id is not None else None
        async for row in changed_requests_for(
            events=context.events,
            sessionmaker=context.sessionmaker,
            principal=context.principal,
        ):
            if only is not None and row.id != only:
                continue
            # A delivered request is a read: audited as it leaves, not when the socket ends.
            await write_events(
                sessionmaker=context.sessionmaker,
                principal=context.principal,
                meta=context.request_meta,
                entries=[
                    AuditEntry(
                        action="support_request.delivered",
                        result=AuditResult.ALLOWED,
                        account_id=row.account_id,
                        object_ids=(str(row.id),),
                    )
                ],
            )
            context.reset_loaders()
            yield SupportRequest.from_row(row)
            # The nested fields were read with the connection's session: give its database
            # connection back before waiting for the next event.
            await context.session.rollback()
