"""The graphql-transport-ws side of /graphql: text frames, one context per operation, and a
caller who is re-read for every operation and before every delivered event.

A socket is authenticated by its ``connection_init`` payload (``PortalGraphQL.on_ws_connect``),
but a socket lives far longer than one request. So each operation started on it (a query, a
mutation or a subscription) and each event a subscription delivers first re-reads the caller from
the access token, the way every HTTP request does (``authenticate_bearer``): a token past its
``exp``, a sign-in session that was logged out or revoked, a deactivated user or a revoked client
closes the socket with 4403 and nothing more is executed or delivered. A timer also closes the
socket when the token's ``exp`` passes, whether or not anything happens on it.

Each operation gets its own context (principal, batch loaders, permission decisions, audit
entries) and holds one pooled database connection only while it works: a query or mutation from
its start to its end, a subscription once per event, from the caller check to the delivery of
that event. A socket waiting for events holds none.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.websockets import WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    SubscribeMessage,
)
from strawberry.utils.aio import aclosing

from portal.auth.bearer import authenticate_bearer
from portal.auth.principal import Principal
from portal.auth.tokens import InvalidTokenError
from portal.failures import INTERNAL_MESSAGE, UNAVAILABLE_MESSAGE, log_failure
from portal.models.enums import AuditResult
from portal.resolvers.audit import AuditEntry, write_events
from portal.resolvers.errors import ErrorCode
from portal.schema.context import Context
from portal.schema.live import failure

if TYPE_CHECKING:
    from portal.graphql_app import PortalGraphQL

logger = logging.getLogger(__name__)

# graphql-transport-ws: "Forbidden", the code a refused connection_init already closes with.
FORBIDDEN_CLOSE_CODE = 4403
EXPIRED_REASON = "Forbidden: the access token expired"
ENDED_REASON = "Forbidden: the sign-in is no longer valid"
# RFC 6455: the database is unavailable (retry shortly), or an unexpected failure.
TRY_AGAIN_LATER_CLOSE_CODE = 1013
INTERNAL_ERROR_CLOSE_CODE = 1011


class TextFrames(ASGIWebSocketAdapter):
    """graphql-transport-ws messages are text frames. The view's JSON encoder answers bytes (fast
    for HTTP bodies), which Strawberry would send as binary frames: clients (gql, graphql-ws,
    browsers) refuse or misread those."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as error:
            raise WebSocketDisconnected from error


@dataclass(frozen=True, slots=True)
class SocketCredentials:
    """The access token a socket was opened with, and when it expires (epoch seconds)."""

    token: str
    expires_at: float

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at


@dataclass
class SocketContext(Context):
    """The context of the connection itself: only ``on_ws_connect`` uses it. Operations each get
    their own (``LiveOperation.context``)."""

    credentials: SocketCredentials | None = None


class LiveOperation:
    """One operation on a socket: its own context, and the one connection it holds while it works.

    While held, the context's session and sessionmaker are both bound to that one connection (so
    the caller check, the reads, the writes and the audit entries share it, each in its own
    transaction); released, nothing is checked out."""

    def __init__(self, socket: PortalSocket, operation_name: str | None) -> None:
        self.socket = socket
        connection_context = socket.context
        self._sessionmaker = socket.view.sessionmaker
        # The held connection (closed by ``release``) and the session bound to it.
        self._lease: contextlib.AsyncExitStack | None = None
        self._session: AsyncSession | None = None
        self.context = Context(
            request=connection_context.request,
            response=connection_context.response,
            session=self._sessionmaker(),
            principal=connection_context.principal,
            settings=connection_context.settings,
            tokens=connection_context.tokens,
            request_id=connection_context.request_id,
            operation_name=operation_name,
            sessionmaker=self._sessionmaker,
            events=connection_context.events,
            connection_params=connection_context.connection_params,
            live=self,
        )

    @property
    def held(self) -> bool:
        return self._session is not None

    async def hold(self) -> None:
        """Check out the one connection this operation (or this event) works on: the same
        ``RequestConnections`` an HTTP request gets its connection from."""
        if self._session is not None:
            return
        lease = contextlib.AsyncExitStack()
        try:
            sessionmaker = await lease.enter_async_context(self.socket.view.connections.open())
            self._session = await lease.enter_async_context(sessionmaker())
        except BaseException:
            self._session = None
            await lease.aclose()
            raise
        self._lease = lease
        self.context.session = self._session
        self.context.sessionmaker = sessionmaker

    async def release(self) -> None:
        lease = self._lease
        self._lease = None
        self._session = None
        self.context.sessionmaker = self._sessionmaker
        if lease is None:
            return
        try:
            await lease.aclose()
        except Exception as error:  # the pool discards a connection it cannot reset
            log_failure(error, request_id=self.context.request_id, where="a websocket release")

    async def revalidate(self) -> Principal | None:
        """The caller as the database says now, on the held connection; None once the socket's
        credentials have ended (the socket is then being closed)."""
        principal = await self.socket.principal(
            session=self.context.session,
            sessionmaker=self.context.sessionmaker or self._sessionmaker,
        )
        if principal is None:
            return None
        self.context.principal = principal
        self.context.decisions.clear()
        self.context.reset_loaders()
        return principal

    @contextlib.asynccontextmanager
    async def event(self) -> AsyncIterator[Principal | None]:
        await self.hold()
        try:
            yield await self.revalidate()
        finally:
            await self.release()

    async def settle(self) -> None:
        entries = list(self.context.settled_audit_entries())
        self.context.audit_entries.clear()
        if self.held:
            # The audit commits in a transaction of its own on the same connection.
            await self.context.session.rollback()
        if not entries:
            return
        if self.held:
            await self._write(entries)
            return
        await self.hold()
        try:
            await self._write(entries)
        finally:
            await self.release()

    async def _write(self, entries: list[AuditEntry]) -> None:
        await write_events(
            sessionmaker=self.context.sessionmaker or self._sessionmaker,
            principal=self.context.principal,
            meta=self.context.request_meta,
            entries=entries,
        )


class PortalSocket(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's graphql-transport-ws handler, with a context per operation and the caller
    re-read for each operation and event (see the module docstring)."""

    view: PortalGraphQL
    context: SocketContext
    # Set once the socket is being closed for its credentials; then nothing more runs or leaves.
    closing: bool = False
    _expiry: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except Exception as error:  # the caller could not be checked: no socket without one
            code = log_failure(error, request_id=self.context.request_id, where="connection_init")
            unavailable = code is ErrorCode.SERVICE_UNAVAILABLE
            with contextlib.suppress(Exception):
                await self.websocket.close(
                    code=TRY_AGAIN_LATER_CLOSE_CODE if unavailable else INTERNAL_ERROR_CLOSE_CODE,
                    reason=UNAVAILABLE_MESSAGE if unavailable else INTERNAL_MESSAGE,
                )
            return
        credentials = self.context.credentials
        if self.connection_acknowledged and credentials is not None and self._expiry is None:
            self._expiry = asyncio.create_task(self._close_at(credentials.expires_at))

    async def _close_at(self, expires_at: float) -> None:
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        await self._expired(self.view.sessionmaker)

    async def _expired(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        """Close the socket of an expired token, then put it on the audit trail (as an HTTP
        request with that token would be)."""
        await self.forbid(EXPIRED_REASON)
        try:
            await write_events(
                sessionmaker=sessionmaker,
                principal=self.context.principal,
                meta=self.context.request_meta,
                entries=[
                    AuditEntry(
                        action="token.rejected",
                        result=AuditResult.DENIED,
                        details={"reason": "the access token expired", "path": "websocket"},
                    )
                ],
            )
        except Exception as error:  # the socket is closed either way; the log says why
            logger.warning("could not audit an expired websocket: %s", type(error).__name__)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if self.closing:
            return
        await super().handle_subscribe(message)

    async def send_message(self, message: Message) -> None:
        # Once the socket is being closed for its credentials, nothing more leaves.
        if self.closing:
            return
        await super().send_message(message)

    async def forbid(self, reason: str) -> None:
        """Close the socket with 4403 and stop every operation on it."""
        if self.closing:
            return
        self.closing = True
        current = asyncio.current_task()
        if self._expiry is not None and self._expiry is not current:
            self._expiry.cancel()
        for operation_id, operation in list(self.operations.items()):
            if operation.task is not current:
                await self.cleanup_operation(operation_id)
        with contextlib.suppress(Exception):
            await self.websocket.close(code=FORBIDDEN_CLOSE_CODE, reason=reason)

    async def shutdown(self) -> None:
        if self._expiry is not None:
            # Once it has fired, the timer finishes (it records the expiry); else it is stopped.
            if not self.closing:
                self._expiry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._expiry
        await super().shutdown()

    async def principal(
        self, *, session: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession]
    ) -> Principal | None:
        """Re-read the socket's caller from its access token, as an HTTP request would; close
        the socket (4403) and answer None when the token expired or its subject is gone."""
        credentials = self.context.credentials
        if self.closing:
            return None
        if credentials is None:  # not acknowledged: no operation runs without a caller
            await self.forbid(ENDED_REASON)
            return None
        if credentials.expired:
            await self._expired(sessionmaker)
            return None
        try:
            return await authenticate_bearer(
                session=session,
                sessionmaker=sessionmaker,
                tokens=self.view.tokens,
                token=credentials.token,
                meta=self.context.request_meta,
            )
        except InvalidTokenError:
            await self.forbid(ENDED_REASON)
            return None

    async def handle_task_exception(self, error: Exception) -> None:
        # Logged like every other failure: types, SQLSTATE and stack, never database text.
        log_failure(error, request_id=self.context.request_id, where="a websocket operation")

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        """Strawberry's ``run_operation``, with the operation's own context and connection."""
        live = LiveOperation(self, operation.operation_name)
        try:
            try:
                await live.hold()
                principal = await live.revalidate()
            except Exception as error:  # answered inside the error contract, logged once
                code = log_failure(
                    error, request_id=self.context.request_id, where="a websocket operation"
                )
                await operation.send_initial_errors([failure(code, self.context.request_id)])
                return
            if principal is None:
                return  # the socket is closed: nothing is executed
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=live.context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )
            async with aclosing(result_source):
                await self._send_result_stream(operation, result_source)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except _OperationStreamClosed:
            return
        except Exception as error:
            await self.handle_task_exception(error)
            with contextlib.suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise
        finally:
            await live.release()


__all__ = [
    "FORBIDDEN_CLOSE_CODE",
    "LiveOperation",
    "PortalSocket",
    "SocketContext",
    "SocketCredentials",
    "TextFrames",
]
