"""Access requests: staff ``requestPortalAccess``; a User Admin of the account
``approveAccessRequest`` (the invitation goes out) or ``declineAccessRequest``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Self

import strawberry

from portal import models
from portal.auth.principal import ViewerRole
from portal.models.enums import AccessRequestStatus, Role
from portal.resolvers.accounts import access_requests
from portal.resolvers.errors import PortalError
from portal.schema.accounts.common import audit_change
from portal.schema.accounts.types import ACCESS_REQUESTS_READ, Account, Contact, account_of
from portal.schema.context import Info
from portal.schema.payloads import MutationPayload, UserError
from portal.schema.permissions import requires, rule
from portal.schema.relay import PortalNode, decode_global_id
from portal.schema.users import MANAGE_USERS

STAFF_ONLY = rule(ViewerRole.STAFF)


@strawberry.type(
    description="Support's request to enable a contact's portal access; a User Admin of the "
    "account approves (the invitation goes out) or declines it."
)
class AccessRequest(PortalNode):
    node_rule = ACCESS_REQUESTS_READ
    id: strawberry.relay.NodeID[uuid.UUID]
    requested_role: Role
    status: AccessRequestStatus
    note: str | None = strawberry.field(description="Support's note to the User Admins.")
    decision_note: str | None = strawberry.field(description="The User Admin's note or reason.")
    requested_at: datetime
    decided_at: datetime | None
    contact_id: strawberry.Private[uuid.UUID]
    account_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: models.AccessRequest) -> Self:
        return cls(
            id=row.id,
            requested_role=row.requested_role,
            status=row.status,
            note=row.note,
            decision_note=row.decision_note,
            requested_at=row.created_at,
            decided_at=row.decided_at,
            contact_id=row.contact_id,
            account_id=row.account_id,
        )

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        return await info.context.loaders.access_request.load_many(ids)

    @strawberry.field(description="The contact whose access is asked for.")
    async def contact(self, info: Info) -> Contact | None:
        row = await info.context.loaders.contact.load(self.contact_id)
        return Contact.from_row(row) if row else None

    @strawberry.field(description="The account of the contact.")
    async def account(self, info: Info) -> Account | None:
        return await account_of(info, self.account_id)


@strawberry.input
class RequestPortalAccessInput:
    contact_id: strawberry.ID
    role: Role = strawberry.field(description="The role the login would have.")
    note: str | None = strawberry.field(
        default=None, description="Why, for the User Admins (at most 1,000 characters)."
    )


@strawberry.input
class DecideAccessRequestInput:
    id: strawberry.ID
    note: str | None = strawberry.field(
        default=None, description="A remark or reason (at most 1,000 characters)."
    )


@strawberry.type
class AccessRequestPayload(MutationPayload):
    access_request: AccessRequest | None


@strawberry.type
class RequestPortalAccessPayload(AccessRequestPayload):
    pass


@strawberry.type
class ApproveAccessRequestPayload(AccessRequestPayload):
    contact: Contact | None = strawberry.field(
        default=None, description="The contact; `portalAccess` shows the INVITED login."
    )


@strawberry.type
class DeclineAccessRequestPayload(AccessRequestPayload):
    pass


def _request_id(value: strawberry.ID) -> uuid.UUID:
    return decode_global_id(value, field="id", expected=AccessRequest)


def _audit_decision(
    info: Info, action: str, decision: access_requests.Decision, **details: Any
) -> None:
    request = decision.request
    audit_change(
        info,
        action,
        [request.id, request.contact_id, *([decision.user_id] if decision.user_id else [])],
        account_id=request.account_id,
        before={"status": AccessRequestStatus.PENDING.value},
        after={"status": request.status.value, "decisionNote": request.decision_note},
        **details,
    )


@strawberry.type
class AccessRequestMutations:
    @strawberry.mutation(
        description="Support asks the account's User Admins to enable a contact's portal "
        "access; they are emailed. Staff enable access no other way.",
        extensions=[requires(STAFF_ONLY)],
    )
    async def request_portal_access(
        self, info: Info, input: RequestPortalAccessInput
    ) -> RequestPortalAccessPayload | None:
        try:
            request = await access_requests.request_access(
                session=info.context.session,
                settings=info.context.settings,
                principal=info.context.principal,
                contact_id=decode_global_id(input.contact_id, field="contactId", expected=Contact),
                role=input.role,
                note=input.note,
            )
        except PortalError as error:
            return RequestPortalAccessPayload(
                access_request=None, user_errors=[UserError.from_error(error)]
            )
        audit_change(
            info,
            "access_request.created",
            [request.id, request.contact_id],
            account_id=request.account_id,
            before=None,
            after={"status": request.status.value, "role": request.requested_role.value},
        )
        return RequestPortalAccessPayload(
            access_request=AccessRequest.from_row(request), user_errors=[]
        )

    @strawberry.mutation(
        description="Approve a pending access request of your account: the contact is invited "
        "with the requested role.",
        extensions=[requires(MANAGE_USERS)],
    )
    async def approve_access_request(
        self, info: Info, input: DecideAccessRequestInput
    ) -> ApproveAccessRequestPayload | None:
        try:
            decision = await access_requests.approve_access_request(
                session=info.context.session,
                settings=info.context.settings,
                principal=info.context.principal,
                request_id=_request_id(input.id),
                note=input.note,
            )
        except PortalError as error:
            return ApproveAccessRequestPayload(
                access_request=None, user_errors=[UserError.from_error(error)]
            )
        _audit_decision(info, "access_request.approved", decision)
        return ApproveAccessRequestPayload(
            access_request=AccessRequest.from_row(decision.request),
            contact=Contact.from_row(decision.contact) if decision.contact else None,
            user_errors=[],
        )

    @strawberry.mutation(
        description="Decline a pending access request of your account (support is told).",
        extensions=[requires(MANAGE_USERS)],
    )
    async def decline_access_request(
        self, info: Info, input: DecideAccessRequestInput
    ) -> DeclineAccessRequestPayload | None:
        try:
            decision = await access_requests.decline_access_request(
                session=info.context.session,
                principal=info.context.principal,
                request_id=_request_id(input.id),
                note=input.note,
            )
        except PortalError as error:
            return DeclineAccessRequestPayload(
                access_request=None, user_errors=[UserError.from_error(error)]
            )
        _audit_decision(info, "access_request.declined", decision)
        return DeclineAccessRequestPayload(
            access_request=AccessRequest.from_row(decision.request), user_errors=[]
        )
