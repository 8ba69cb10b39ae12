"""Live delivery of support-request changes to one subscriber, through the requests' visibility
rule. A change that is an internal note reaches staff only, so an employer's socket never learns
that one was written.

Each event is checked in a fresh, short session scoped to the subscriber and closed before the
next event is awaited: a websocket can stay open for hours, a database connection must not."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.auth.principal import Principal
from portal.events import EventHub, SupportRequestChanged
from portal.models import SupportRequest
from portal.models.db import scoped_session
from portal.resolvers.support.records import load_support_requests, sees_internal_notes


async def changed_requests_for(
    *,
    events: EventHub,
    sessionmaker: async_sessionmaker[AsyncSession],
    principal: Principal,
) -> AsyncIterator[SupportRequest]:
    """Every support request ``principal`` may see, each time it changes from now on."""
    async with events.subscribe() as queue:
        while True:
            event = await queue.get()
            if not isinstance(event, SupportRequestChanged):
                continue
            if event.internal and not sees_internal_notes(principal):
                continue
            if not principal.scope.allows(event.account_id):
                continue
            async with scoped_session(sessionmaker, principal.scope) as session:
                (row,) = await load_support_requests(
                    session=session, principal=principal, ids=[event.support_request_id]
                )
            if row is not None:
                yield row
