"""Support request mutations: open, comment, move, assign, and the privacy path.

Each resolver function commits its own transaction; on a user error this layer rolls back
whatever the request session still holds, so a refused mutation writes nothing. Live subscribers
hear of a change only after it committed."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import strawberry

from portal import models
from portal.events import SupportRequestChanged
from portal.models.db import AccountScope
from portal.models.enums import (
    AuditResult,
    SupportRequestStatus,
    SupportRequestType,
    SupportTopic,
)
from portal.resolvers import support as support_resolvers
from portal.resolvers.audit import AuditEntry
from portal.resolvers.errors import PortalError
from portal.schema.accounts import Account
from portal.schema.context import Info
from portal.schema.documents import Document
from portal.schema.employees import VISITS_READ
from portal.schema.payloads import MutationPayload, UserError
from portal.schema.permissions import decide, requires
from portal.schema.relay import decode_global_id
from portal.schema.support.types import (
    REQUESTERS,
    STAFF,
    SUPPORT,
    StaffUser,
    SupportComment,
    SupportRequest,
)
from portal.schema.visits import Visit


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
    ) -> CreateSupportRequestPayload | None:
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
    ) -> AddSupportRequestCommentPayload | None:
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
    ) -> UpdateSupportRequestStatusPayload | None:
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
    ) -> AssignSupportRequestPayload | None:
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
    ) -> RetractSupportRequestDocumentPayload | None:
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
