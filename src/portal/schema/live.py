"""Subscriptions (graphql-transport-ws): ``documentPosted``."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from portal.failures import INTERNAL_MESSAGE, UNAVAILABLE_MESSAGE, log_failure
from portal.models.enums import AuditResult
from portal.resolvers.audit import AuditEntry
from portal.resolvers.errors import ErrorCode
from portal.resolvers.live import posted_document, posted_events
from portal.schema.context import Info, SocketOperation
from portal.schema.documents import DOCUMENTS_READ, Document
from portal.schema.permissions import Requires, requires


class SocketOperations(SchemaExtension):
    """An operation on a websocket holds one database connection while it works (see
    ``portal.live_socket``): before each of its results leaves (a subscription's events leave
    long before the operation ends), its transaction ends and its audit entries are written, on
    that connection. Listed after ``AuditTrail``, so it ends first."""

    def _live(self) -> SocketOperation | None:
        live: SocketOperation | None = getattr(self.execution_context.context, "live", None)
        return live

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        live = self._live()
        if live is not None:
            await live.settle()

    async def on_stream_result(self, result: Any) -> AsyncIterator[None]:
        live = self._live()
        if live is not None:
            try:
                await live.settle()
            except Exception as error:  # what was read is not answered unaudited
                request_id = self.execution_context.context.request_id
                code = log_failure(error, request_id=request_id, where="the audit trail")
                result.data = None
                result.errors = [failure(code, request_id)]
        yield


def failure(code: ErrorCode, request_id: str) -> GraphQLError:
    """The error-contract answer of a websocket operation (or event) that failed as a whole."""
    unavailable = code is ErrorCode.SERVICE_UNAVAILABLE
    return GraphQLError(
        UNAVAILABLE_MESSAGE if unavailable else INTERNAL_MESSAGE,
        extensions={"code": code.value, "requestId": request_id},
    )


# Who may subscribe; decided at `subscribe`, and again before each document for the caller as the
# database says then (a scope or permission withdrawn meanwhile ends the subscription).
DOCUMENT_POSTED_RULE = DOCUMENTS_READ


@strawberry.type
class DocumentSubscriptions:
    @strawberry.subscription(
        description="Each document posted from now on that you may see, as it is posted. "
        "Over graphql-transport-ws at /graphql; authenticate in `connection_init` with "
        '`{"Authorization": "Bearer <token>"}`. Your access is checked again before each '
        "document is delivered: when the access token expires, the sign-in session ends or the "
        "user is deactivated, the socket is closed with 4403 (sign in or refresh, then "
        "reconnect). Missed events are not replayed: after a reconnect, catch up with "
        "`documents(filter: {postedAfter: ...})`.",
        extensions=[requires(DOCUMENT_POSTED_RULE)],
    )
    async def document_posted(self, info: Info) -> AsyncGenerator[Document, None]:
        context = info.context
        live = context.live
        if live is None:
            raise RuntimeError("documentPosted is served over a websocket only")
        # Waiting for events holds no database connection: each event takes one.
        await live.release()
        async for event in posted_events(
            events=context.events, scope=lambda: context.principal.scope
        ):
            async with live.event() as principal:
                if principal is None:
                    return  # the socket's credentials ended: it is closed, nothing is delivered
                # The field's own rule, decided again (raises FORBIDDEN, audited, when it fails).
                Requires(DOCUMENT_POSTED_RULE).has_permission(None, info)
                record = await posted_document(
                    session=context.session, principal=principal, event=event
                )
                if record is None:
                    continue
                # A delivered document is a PHI read: audited before it leaves.
                context.audit(
                    AuditEntry(
                        action="document.delivered",
                        result=AuditResult.ALLOWED,
                        account_id=record.account_id,
                        object_ids=(str(record.id),),
                    )
                )
                await live.settle()
                yield Document.from_row(record)
