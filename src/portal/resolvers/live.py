"""Live delivery of posted documents to one subscriber, filtered by the documents' visibility rule.

Each event is checked in a fresh, short session scoped to the subscriber and closed before the
next event is awaited: a websocket can stay open for hours, a database connection must not."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.auth.principal import Principal
from portal.events import DocumentPosted, EventHub
from portal.models.db import scoped_session
from portal.resolvers.documents.records import DocumentRecord, load_documents


async def posted_documents_for(
    *,
    events: EventHub,
    sessionmaker: async_sessionmaker[AsyncSession],
    principal: Principal,
) -> AsyncIterator[DocumentRecord]:
    """Every document posted from now on that ``principal`` may see, as it is posted."""
    async with events.subscribe() as queue:
        while True:
            event = await queue.get()
            if not isinstance(event, DocumentPosted):
                continue
            # Cheap first filter: another tenant's event needs no database round trip.
            if not principal.scope.allows(event.account_id):
                continue
            async with scoped_session(sessionmaker, principal.scope) as session:
                (record,) = await load_documents(
                    session=session, principal=principal, ids=[event.document_id]
                )
            if record is not None:
                yield record
