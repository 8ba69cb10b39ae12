"""Subscriptions (graphql-transport-ws): ``documentPosted``."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

import strawberry
from starlette.websockets import WebSocket
from strawberry.extensions import SchemaExtension

from portal.models.enums import AuditResult
from portal.resolvers.audit import AuditEntry, write_events
from portal.resolvers.live import posted_documents_for
from portal.schema.context import Info
from portal.schema.documents import DOCUMENTS_READ, Document
from portal.schema.permissions import requires


class ReleaseSocketSession(SchemaExtension):
    """A websocket's operations share one session object for the life of the socket: each
    operation gives the database connection back when it ends, so an idle socket holds none."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        if isinstance(getattr(context, "request", None), WebSocket):
            await context.session.rollback()


@strawberry.type
class DocumentSubscriptions:
    @strawberry.subscription(
        description="Each document posted from now on that you may see, as it is posted. "
        "Over graphql-transport-ws at /graphql; authenticate in `connection_init` with "
        '`{"Authorization": "Bearer <token>"}`. Missed events are not replayed: after a '
        "reconnect, catch up with `documents(filter: {postedAfter: ...})`.",
        extensions=[requires(DOCUMENTS_READ)],
    )
    async def document_posted(self, info: Info) -> AsyncGenerator[Document, None]:
        context = info.context
        if context.sessionmaker is None:
            raise RuntimeError("live delivery needs the app's sessionmaker")
        async for record in posted_documents_for(
            events=context.events,
            sessionmaker=context.sessionmaker,
            principal=context.principal,
        ):
            # A delivered document is a PHI read: audited as it leaves, not when the socket ends.
            await write_events(
                sessionmaker=context.sessionmaker,
                principal=context.principal,
                meta=context.request_meta,
                entries=[
                    AuditEntry(
                        action="document.delivered",
                        result=AuditResult.ALLOWED,
                        account_id=record.account_id,
                        object_ids=(str(record.id),),
                    )
                ],
            )
            context.reset_loaders()
            yield Document.from_row(record)
            # The nested fields of that event were read with the connection's session: give its
            # database connection back before waiting for the next event.
            await context.session.rollback()
