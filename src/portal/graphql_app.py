"""The /graphql endpoint: one session and one principal per request, then Strawberry."""

from __future__ import annotations

import logging
from collections.abc import Mapping

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.schema import BaseSchema
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from portal.auth.bearer import authenticate_bearer, bearer_token
from portal.auth.principal import Principal
from portal.auth.tokens import InvalidTokenError, TokenService
from portal.events import EventHub
from portal.middleware import request_id_of
from portal.models.db import AccountScope, set_scope
from portal.models.enums import AuditResult
from portal.resolvers.audit import AuditEntry, RequestMeta, write_events
from portal.schema.context import Context
from portal.settings import Settings

logger = logging.getLogger(__name__)


def connection_token(params: Mapping[str, object]) -> str | None:
    """The access token of a ``connection_init`` payload: ``{"Authorization": "Bearer <jwt>"}``
    (any case) or ``{"token": "<jwt>"}``; '' when one is given but malformed."""
    for key, value in params.items():
        if key.lower() == "authorization":
            return bearer_token({"authorization": value})
    token = params.get("token")
    if token is None:
        return None
    return token.strip() if isinstance(token, str) else ""


SESSION_KEY = "portal.session"
PRINCIPAL_KEY = "portal.principal"


def unauthenticated_response(message: str, request_id: str) -> JSONResponse:
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"', "X-Request-ID": request_id},
    )


class PortalGraphQL(GraphQL[Context, None]):
    def __init__(
        self,
        schema: BaseSchema,
        *,
        settings: Settings,
        sessionmaker: async_sessionmaker[AsyncSession],
        tokens: TokenService,
        events: EventHub,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            allow_queries_via_get=False,
            multipart_uploads_enabled=False,
            # Live results speak graphql-transport-ws only (not the legacy graphql-ws).
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.tokens = tokens
        self.events = events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self._websocket(scope, receive, send)
            return
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        async with self.sessionmaker() as session:
            try:
                principal = await authenticate_bearer(
                    session=session,
                    sessionmaker=self.sessionmaker,
                    tokens=self.tokens,
                    token=bearer_token(request.headers),
                    meta=RequestMeta(
                        ip_address=request.client.host if request.client else None,
                        request_id=request_id_of(scope),
                        operation_name=None,
                    ),
                )
            except InvalidTokenError:
                response = unauthenticated_response(
                    "The access token is invalid or expired; sign in again.",
                    request_id_of(scope),
                )
                await response(scope, receive, send)
                return
            scope.setdefault("state", {})
            scope["state"][SESSION_KEY] = session
            scope["state"][PRINCIPAL_KEY] = principal
            await super().__call__(scope, receive, send)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A websocket is anonymous until its ``connection_init`` names a principal.

        The session object lives as long as the socket, but holds a database connection only
        while an operation or a delivered event is being resolved (each one rolls it back)."""
        async with self.sessionmaker() as session:
            set_scope(session, AccountScope.nothing())
            state = scope.setdefault("state", {})
            state[SESSION_KEY] = session
            state[PRINCIPAL_KEY] = Principal.anonymous()
            await super().__call__(scope, receive, send)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate the socket from its ``connection_init`` payload, or close it (4403)."""
        request = context.request
        meta = RequestMeta(
            ip_address=request.client.host if request.client else None,
            request_id=context.request_id,
            operation_name=None,
        )
        token = connection_token(context.connection_params or {})
        if token is None:
            await write_events(
                sessionmaker=self.sessionmaker,
                principal=Principal.anonymous(),
                meta=meta,
                entries=[
                    AuditEntry(
                        action="access.denied",
                        result=AuditResult.DENIED,
                        details={"path": "connection_init", "reason": "no access token"},
                    )
                ],
            )
            raise ConnectionRejectionError({"message": "Send an access token in connection_init."})
        async with self.sessionmaker() as session:
            try:
                principal = await authenticate_bearer(
                    session=session,
                    sessionmaker=self.sessionmaker,
                    tokens=self.tokens,
                    token=token,
                    meta=meta,
                )
            except InvalidTokenError:
                raise ConnectionRejectionError(
                    {"message": "The access token is invalid or expired."}
                ) from None
        context.principal = principal
        context.decisions.clear()
        context.reset_loaders()
        set_scope(context.session, principal.scope)
        return await super().on_ws_connect(context)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        state = request.scope.get("state", {})
        return Context(
            request=request,
            response=response,
            session=state[SESSION_KEY],
            principal=state[PRINCIPAL_KEY],
            settings=self.settings,
            tokens=self.tokens,
            request_id=request_id_of(request.scope),
            sessionmaker=self.sessionmaker,
            events=self.events,
        )

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)
