"""``auditEvents``: the append-only trail, for staff (all) and User Admins (their account)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Self, cast

import strawberry
from strawberry.scalars import JSON

from portal import models
from portal.auth.principal import ViewerRole
from portal.models.enums import ActorType, AuditResult
from portal.resolvers import audit as audit_resolvers
from portal.schema.accounts import Account
from portal.schema.context import Info
from portal.schema.limits import MAX_CODE_LENGTH, MAX_ID_LENGTH, max_length
from portal.schema.permissions import requires, rule
from portal.schema.relay import (
    Connection,
    PortalNode,
    decode_global_id,
    page_request,
    to_connection,
)

AUDIT_READ = rule(ViewerRole.USER_ADMIN, ViewerRole.STAFF)

strawberry_actor_type = strawberry.enum(ActorType, name="AuditActorType")
strawberry_audit_result = strawberry.enum(AuditResult, name="AuditResult")


@strawberry.type(description="One entry of the audit trail.")
class AuditEvent(PortalNode):
    node_rule = AUDIT_READ
    id: strawberry.relay.NodeID[uuid.UUID]
    occurred_at: datetime
    actor_type: ActorType
    actor_label: str | None = strawberry.field(description="The actor's email, when it has one.")
    action: str
    object_ids: list[str] = strawberry.field(description="Ids of the objects acted on.")
    result: AuditResult
    ip_address: str | None
    request_id: str | None
    operation_name: str | None
    details: JSON
    account_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_row(cls, row: models.AuditEvent) -> Self:
        return cls(
            id=row.id,
            occurred_at=row.occurred_at,
            actor_type=row.actor_type,
            actor_label=row.actor_label,
            action=row.action,
            object_ids=list(row.object_ids),
            result=row.result,
            ip_address=str(row.ip_address) if row.ip_address is not None else None,
            request_id=row.request_id,
            operation_name=row.operation_name,
            details=cast("JSON", row.details),
            account_id=row.account_id,
        )

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        return await audit_resolvers.load_events(
            session=info.context.session, scope=info.context.scope, ids=ids
        )

    @strawberry.field(description="The account the actor was acting for.")
    async def account(self, info: Info) -> Account | None:
        if self.account_id is None:
            return None
        row = await info.context.loaders.account.load(self.account_id)
        return Account.from_row(row) if row else None


@strawberry.input(description="Narrow the audit trail; every criterion is optional.")
class AuditEventFilter:
    action: str | None = strawberry.field(default=None, directives=[max_length(MAX_CODE_LENGTH)])
    result: AuditResult | None = None
    account_id: strawberry.ID | None = strawberry.field(
        default=None, directives=[max_length(MAX_ID_LENGTH)]
    )
    object_id: str | None = strawberry.field(
        default=None, description="A raw object id.", directives=[max_length(MAX_ID_LENGTH)]
    )
    occurred_after: datetime | None = None
    occurred_before: datetime | None = None


@strawberry.type
class AuditQueries:
    @strawberry.field(
        description="The audit trail, newest first: staff see all, a User Admin their account's.",
        extensions=[requires(AUDIT_READ)],
    )
    async def audit_events(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: AuditEventFilter | None = None,
    ) -> Connection[AuditEvent]:
        given = filter or AuditEventFilter()
        page = await audit_resolvers.list_events(
            session=info.context.session,
            scope=info.context.scope,
            page=page_request(first, after, last, before),
            filters=audit_resolvers.AuditFilter(
                action=given.action,
                result=given.result,
                account_id=(
                    decode_global_id(given.account_id, field="filter.accountId", expected=Account)
                    if given.account_id
                    else None
                ),
                object_id=given.object_id,
                occurred_after=given.occurred_after,
                occurred_before=given.occurred_before,
            ),
        )
        return to_connection(page, AuditEvent.from_row)
