"""Support requests as clients see them: the request node, its thread, history and people."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Self

import strawberry

from portal import models
from portal.auth.principal import ViewerRole
from portal.models.enums import (
    SupportRequestStatus,
    SupportRequestType,
    SupportTopic,
    VisitStatus,
)
from portal.resolvers import support as support_resolvers
from portal.resolvers.support import CommentRecord, Person, StatusChangeRecord
from portal.schema.accounts import Account
from portal.schema.context import Info
from portal.schema.documents import Document
from portal.schema.employees import SUPPORT_REQUESTS_READ, VISITS_READ
from portal.schema.permissions import requires, rule
from portal.schema.reads import PhiNode, record_phi_read
from portal.schema.relay import PortalNode
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
    updated_at: datetime = strawberry.field(description="The last change or public comment.")
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
            return SupportPerson.of(await loaders.support_user.load(self._row.requester_user_id))
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
