"""``auditEvents``: the append-only trail, for staff (all) and User Admins (their account)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Self, cast

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from portal import models
from portal.auth.principal import ViewerRole
from portal.models.enums import ActorType, AuditResult
from portal.resolvers import audit as audit_resolvers
from portal.resolvers.errors import BadUserInput
from portal.resolvers.object_ids import as_uuid, shown, stored_forms
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

_ACTOR_NODE_TYPES = {
    ActorType.USER: "PortalUser",
    ActorType.STAFF: "StaffUser",
    ActorType.API_CLIENT: "ApiClient",
    ActorType.PROVIDER_CLIENT: "ProviderClient",
}

strawberry_actor_type = strawberry.enum(ActorType, name="AuditActorType")
strawberry_audit_result = strawberry.enum(AuditResult, name="AuditResult")


@strawberry.type(description="One entry of the audit trail.")
class AuditEvent(PortalNode):
    node_rule = AUDIT_READ
    id: strawberry.relay.NodeID[uuid.UUID]
    occurred_at: datetime
    actor_type: ActorType
    actor_label: str | None = strawberry.field(
        description="The actor's email; for an API or provider client its name and client id."
    )
    action: str
    stored_object_ids: strawberry.Private[tuple[str, ...]]
    result: AuditResult
    ip_address: str | None
    request_id: str | None
    operation_name: str | None
    details: JSON
    account_id: strawberry.Private[uuid.UUID | None]
    actor_row_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field(
        description="The actor's global id: a PortalUser, StaffUser, ApiClient or "
        "ProviderClient (the client's name and OAuth client id are in `actorLabel`)."
    )
    def actor_id(self) -> strawberry.ID | None:
        type_name = _ACTOR_NODE_TYPES.get(self.actor_type)
        if type_name is None or self.actor_row_id is None:
            return None
        return strawberry.ID(str(relay.GlobalID(type_name, str(self.actor_row_id))))

    @classmethod
    def from_row(cls, row: models.AuditEvent) -> Self:
        return cls(
            id=row.id,
            occurred_at=row.occurred_at,
            actor_type=row.actor_type,
            actor_label=row.actor_label,
            action=row.action,
            stored_object_ids=tuple(row.object_ids),
            result=row.result,
            ip_address=str(row.ip_address) if row.ip_address is not None else None,
            request_id=row.request_id,
            operation_name=row.operation_name,
            details=cast("JSON", row.details),
            account_id=row.account_id,
            actor_row_id=row.actor_id,
        )

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        return await audit_resolvers.load_events(
            session=info.context.session, scope=info.context.scope, ids=ids
        )

    @strawberry.field(
        description="Global ids of the objects acted on (the ids `node(id:)` and every other "
        "field use); an id whose object you may no longer see keeps its stored form."
    )
    async def object_ids(self, info: Info) -> list[str]:
        raw = self.stored_object_ids
        row_ids = [as_uuid(value) for value in raw]
        types = await info.context.loaders.object_type.load_many(
            [row_id for row_id in row_ids if row_id is not None]
        )
        by_id = dict(zip([row_id for row_id in row_ids if row_id is not None], types, strict=True))
        return [
            shown(value, by_id.get(row_id) if row_id is not None else None)
            for value, row_id in zip(raw, row_ids, strict=True)
        ]

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
        default=None,
        description="Events naming this object: its global id (as `objectIds` shows it).",
        directives=[max_length(MAX_ID_LENGTH)],
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
    ) -> Connection[AuditEvent] | None:
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
                object_id=_object_id(given.object_id),
                occurred_after=given.occurred_after,
                occurred_before=given.occurred_before,
            ),
        )
        return to_connection(page, AuditEvent.from_row)


# Longest id a client may filter by (a global id of a UUID row is about 60 characters).
MAX_OBJECT_ID_LENGTH = 200


def _object_id(value: str | None) -> str | None:
    if not value:
        return None
    if len(value) > MAX_OBJECT_ID_LENGTH or stored_forms(value) is None:
        raise BadUserInput(
            "Give an object's global id (as `objectIds` shows it).", field="filter.objectId"
        )
    return value
