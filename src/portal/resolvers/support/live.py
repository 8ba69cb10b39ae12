"""Live delivery of support-request changes to one subscriber, through the requests' visibility
rule. A change that is an internal note reaches staff only, so an employer's socket never learns
that one was written.

Waiting for the next event touches no database; each event that concerns the subscriber's
accounts is then read in the subscriber's scope, on the connection the caller holds for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.principal import Principal
from portal.events import EventHub, SupportRequestChanged
from portal.models import SupportRequest
from portal.resolvers.support.records import load_support_requests, sees_internal_notes


async def changed_events(
    *, events: EventHub, principal: Callable[[], Principal]
) -> AsyncIterator[SupportRequestChanged]:
    """Every support-request change from now on in an account of the subscriber (asked afresh
    for each event); internal notes only for staff. Another tenant's event needs no database
    round trip."""
    async with events.subscribe() as queue:
        while True:
            event = await queue.get()
            if not isinstance(event, SupportRequestChanged):
                continue
            caller = principal()
            if event.internal and not sees_internal_notes(caller):
                continue
            if caller.scope.allows(event.account_id):
                yield event


async def changed_request(
    *, session: AsyncSession, principal: Principal, event: SupportRequestChanged
) -> SupportRequest | None:
    """The changed request, if ``principal`` may see it (the requests' visibility rule)."""
    (row,) = await load_support_requests(
        session=session, principal=principal, ids=[event.support_request_id]
    )
    return row
