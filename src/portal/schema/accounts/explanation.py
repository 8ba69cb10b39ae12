"""``accessExplanation``: support asks why a user can or cannot see a result."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from portal.resolvers.accounts import explanation
from portal.resolvers.accounts.explanation import ReasonCode
from portal.schema.accounts.access_requests import STAFF_ONLY
from portal.schema.accounts.types import Account, account_of
from portal.schema.context import Info
from portal.schema.permissions import requires
from portal.schema.reads import record_phi_read
from portal.schema.relay import decode_global_id
from portal.schema.users import PortalUser

if TYPE_CHECKING:
    from portal.schema.documents import Document
    from portal.schema.visits import Visit

strawberry_reason_code = strawberry.enum(
    ReasonCode,
    name="AccessReasonCode",
    description="Why a user does not see an object: one condition of the visibility rule.",
)


@strawberry.type(description="One reason a user does not see the object, and what would change it.")
class AccessReason:
    code: ReasonCode
    message: str = strawberry.field(description="The reason in words, with the dates involved.")
    remedy: str = strawberry.field(description="The change that would grant access, in words.")
    remedy_mutation: str | None = strawberry.field(
        description="The mutation that makes that change, when there is one."
    )


@strawberry.type(
    description="Whether a user sees an object under the very rule the lists apply, and why not."
)
class AccessExplanation:
    visible: bool
    reasons: list[AccessReason] = strawberry.field(
        description="Empty when `visible`; otherwise every condition the user fails."
    )
    user_id: strawberry.Private[uuid.UUID]
    object_id: strawberry.Private[uuid.UUID]
    object_type: strawberry.Private[str]
    account_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The user asked about.")
    async def user(self, info: Info) -> PortalUser | None:
        found = await PortalUser.load(info, [self.user_id])
        return found[0]

    @strawberry.field(description="The document asked about (null when a visit was asked about).")
    async def document(
        self, info: Info
    ) -> Annotated[Document, strawberry.lazy("portal.schema.documents")] | None:
        from portal.schema.documents import Document

        if self.object_type != Document.__name__:
            return None
        row = await info.context.loaders.document.load(self.object_id)
        return Document.read(info, row) if row else None

    @strawberry.field(description="The visit asked about (null when a document was asked about).")
    async def visit(
        self, info: Info
    ) -> Annotated[Visit, strawberry.lazy("portal.schema.visits")] | None:
        from portal.schema.visits import Visit

        if self.object_type != Visit.__name__:
            return None
        row = await info.context.loaders.visit.load(self.object_id)
        return Visit.read(info, row) if row else None

    @strawberry.field(description="The account the object belongs to.")
    async def account(self, info: Info) -> Account | None:
        return await account_of(info, self.account_id)


@strawberry.type
class ExplanationQueries:
    @strawberry.field(
        description="Support: does this user see this object (`objectId`: a Document or a "
        "Visit id) and, if not, each reason (no report subscription for its report type at its "
        "location, archived, retracted, role or permission missing, another account, login not "
        "active) with the change that would grant it. Computed with the lists' own rules; "
        "audited like a read of the object.",
        extensions=[requires(STAFF_ONLY)],
    )
    async def access_explanation(
        self, info: Info, user_id: strawberry.ID, object_id: strawberry.ID
    ) -> AccessExplanation | None:
        from portal.schema.documents import Document
        from portal.schema.employees import VISITS_READ
        from portal.schema.visits import Visit

        user = decode_global_id(user_id, field="userId", expected=PortalUser)
        decode_global_id(object_id, field="objectId")
        object_type = relay.GlobalID.from_id(object_id).type_name
        if object_type == Visit.__name__:
            visit_id = decode_global_id(object_id, field="objectId", expected=Visit)
            answer = await explanation.explain_visit_access(
                session=info.context.session,
                user_id=user,
                visit_id=visit_id,
                field_rule_allows=VISITS_READ.allows,
            )
            action = "visits.access_explained"
        else:
            document_id = decode_global_id(object_id, field="objectId", expected=Document)
            answer = await explanation.explain_document_access(
                session=info.context.session, user_id=user, document_id=document_id
            )
            action = "documents.access_explained"
        record_phi_read(
            info,
            action,
            [answer.object_id],
            {"userId": str(answer.user_id), "visible": answer.visible},
        )
        return AccessExplanation(
            visible=answer.visible,
            reasons=[
                AccessReason(
                    code=reason.code,
                    message=reason.message,
                    remedy=reason.remedy,
                    remedy_mutation=reason.remedy_mutation,
                )
                for reason in answer.reasons
            ],
            user_id=answer.user_id,
            object_id=answer.object_id,
            object_type=object_type,
            account_id=answer.account_id,
        )
