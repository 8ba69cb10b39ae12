"""Reading support requests: the ``supportRequests`` list and the ``supportRequestUpdated``
subscription."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime

import strawberry

from portal.models.enums import (
    AuditResult,
    SupportRequestStatus,
    SupportRequestType,
    SupportTopic,
)
from portal.resolvers import support as support_resolvers
from portal.resolvers.audit import AuditEntry
from portal.resolvers.support.live import changed_events, changed_request
from portal.schema.accounts import Account
from portal.schema.context import Info
from portal.schema.permissions import Requires, requires
from portal.schema.reads import record_phi_read
from portal.schema.relay import Connection, decode_global_id, page_request, to_connection
from portal.schema.support.types import SUPPORT, SupportRequest


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
    number: str | None = strawberry.field(
        default=None, description="A request number, e.g. SR-000123 (any case)."
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
    ) -> Connection[SupportRequest] | None:
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
            number=given.number,
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


# Who may subscribe; decided at `subscribe`, and again before each change for the caller as the
# database says then (access withdrawn meanwhile ends the subscription).
SUPPORT_REQUEST_UPDATED_RULE = SUPPORT


@strawberry.type
class SupportSubscriptions:
    @strawberry.subscription(
        description="Each support request you may see, every time it is opened, commented on, "
        "moved or assigned from now on (`id`: only that one). Internal notes reach staff only. "
        "Over graphql-transport-ws at /graphql, authenticated in `connection_init` like "
        "`documentPosted` (and, like it, checked again before each delivery); missed events are "
        "not replayed.",
        extensions=[requires(SUPPORT_REQUEST_UPDATED_RULE)],
    )
    async def support_request_updated(
        self, info: Info, id: strawberry.ID | None = None
    ) -> AsyncGenerator[SupportRequest, None]:
        context = info.context
        live = context.live
        if live is None:
            raise RuntimeError("supportRequestUpdated is served over a websocket only")
        only = decode_global_id(id, expected=SupportRequest) if id is not None else None
        # Waiting for events holds no database connection: each event takes one.
        await live.release()
        async for event in changed_events(
            events=context.events, principal=lambda: context.principal
        ):
            if only is not None and event.support_request_id != only:
                continue
            async with live.event() as principal:
                if principal is None:
                    return  # the socket's credentials ended: it is closed, nothing is delivered
                # The field's own rule, decided again (raises FORBIDDEN, audited, when it fails).
                Requires(SUPPORT_REQUEST_UPDATED_RULE).has_permission(None, info)
                row = await changed_request(
                    session=context.session, principal=principal, event=event
                )
                if row is None:
                    continue
                # A delivered request is a read: audited before it leaves.
                context.audit(
                    AuditEntry(
                        action="support_request.delivered",
                        result=AuditResult.ALLOWED,
                        account_id=row.account_id,
                        object_ids=(str(row.id),),
                    )
                )
                # The node keeps the row's values: detach it before its transaction ends.
                context.session.expunge(row)
                node = SupportRequest.from_row(row)
                await live.settle()
                yield node
