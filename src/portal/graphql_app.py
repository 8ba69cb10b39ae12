"""The /graphql endpoint: one session and one principal per request, then Strawberry."""

from __future__ import annotations

import logging

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.schema import BaseSchema

from portal.auth.bearer import authenticate_bearer, bearer_token
from portal.auth.tokens import InvalidTokenError, TokenService
from portal.events import EventHub
from portal.middleware import request_id_of
from portal.resolvers.audit import RequestMeta
from portal.schema.context import Context
from portal.settings import Settings

logger = logging.getLogger(__name__)

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
        )
        self.settings = settings
        self.sessionmaker = sessionmaker
        self.tokens = tokens
        self.events = events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
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
