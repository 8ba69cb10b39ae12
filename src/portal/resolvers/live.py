"""Live delivery of posted documents to one subscriber, filtered by the documents' visibility rule.

Waiting for the next event touches no database; each event that concerns the subscriber's
accounts is then read in the subscriber's scope, on the connection the caller holds for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.principal import Principal
from portal.events import DocumentPosted, EventHub
from portal.models.db import AccountScope
from portal.resolvers.documents.records import DocumentRecord, load_documents


async def posted_events(
    *, events: EventHub, scope: Callable[[], AccountScope]
) -> AsyncIterator[DocumentPosted]:
    """Every document posted from now on in an account of ``scope()``, asked afresh for each
    event (the subscriber's accounts can change while the subscription runs). A cheap first
    filter: another tenant's event needs no database round trip."""
    async with events.subscribe() as queue:
        while True:
            event = await queue.get()
            if isinstance(event, DocumentPosted) and scope().allows(event.account_id):
                yield event


async def posted_document(
    *, session: AsyncSession, principal: Principal, event: DocumentPosted
) -> DocumentRecord | None:
    """The posted document, if ``principal`` may see it (the documents' visibility rule)."""
    (record,) = await load_documents(session=session, principal=principal, ids=[event.document_id])
    return record
