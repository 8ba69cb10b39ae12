"""``accessExplanation``: support asks why a user can or cannot see a result."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated

import strawberry

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
    document_id: strawberry.Private[uuid.UUID]
    account_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The user asked about.")
    async def user(self, info: Info) -> PortalUser | None:
        found = await PortalUser.load(info, [self.user_id])
        return found[0]

    @strawberry.field(description="The document asked about.")
    async def document(
        self, info: Info
    ) -> Annotated[Document, strawberry.lazy("portal.schema.documents")] | None:
        from portal.schema.documents import Document

        row = await info.context.loaders.document.load(self.document_id)
        return Document.read(info, row) if row else None

    @strawberry.field(description="The account the document belongs to.")
    async def account(self, info: Info) -> Account | None:
        return await account_of(info, self.account_id)


@strawberry.type
class ExplanationQueries:
    @strawberry.field(
        description="Support: does this user see this document (`objectId`: a Document id) "
        "and, if not, each reason (no report subscription for its report type at its "
        "location, archived, retracted, role missing, another account, login not active) with "
        "the change that would grant it. Computed with the lists' own visibility rule; audited "
        "like a read of the document.",
        extensions=[requires(STAFF_ONLY)],
    )
    async def access_explanation(
        self, info: Info, user_id: strawberry.ID, object_id: strawberry.ID
    ) -> AccessExplanation | None:
        from portal.schema.documents import Document

        answer = await explanation.explain_document_access(
            session=info.context.session,
            user_id=decode_global_id(user_id, field="userId", expected=PortalUser),
            document_id=decode_global_id(object_id, field="objectId", expected=Document),
        )
        record_phi_read(
            info,
            "documents.access_explained",
            [answer.document_id],
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
            document_id=answer.document_id,
            account_id=answer.account_id,
        )
