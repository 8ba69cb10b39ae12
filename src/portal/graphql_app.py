"""The /graphql endpoint: one session and one principal per request, then Strawberry."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.schema import BaseSchema

from portal.auth.principal import Principal
from portal.auth.resolve import principal_from_claims
from portal.auth.tokens import InvalidTokenError, TokenService
from portal.events import EventHub
from portal.middleware import request_id_of
from portal.models.db import AccountScope, set_scope
from portal.models.enums import AuditResult
from portal.resolvers.audit import AuditEntry, RequestMeta, write_events
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


def bearer_token(headers: Any) -> str | None:
    """The token of an ``Authorization: Bearer`` header; '' when the header is malformed."""
    value: str | None = headers.get("authorization")
    if value is None:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ""
    return token.strip()


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
            token = bearer_token(request.headers)
            principal = Principal.anonymous()
            if token is not None:
                # The subject is named by a verified token; its row is read before any tenant
                # scope is known, so this one lookup runs with the system scope.
                set_scope(session, AccountScope.everything())
                try:
                    if not token:
                        raise InvalidTokenError("malformed Authorization header")
                    claims = self.tokens.verify(token)
                    principal = await principal_from_claims(session, claims)
                except InvalidTokenError as error:
                    logger.info("rejected bearer token: %s", error)
                    await session.rollback()
                    await write_events(
                        sessionmaker=self.sessionmaker,
                        principal=Principal.anonymous(),
                        meta=RequestMeta(
                            ip_address=request.client.host if request.client else None,
                            request_id=request_id_of(scope),
                            operation_name=None,
                        ),
                        entries=[
                            AuditEntry(
                                action="token.rejected",
                                result=AuditResult.DENIED,
                                details={"reason": str(error)[:200]},
                            )
                        ],
                    )
                    response = unauthenticated_response(
                        "The access token is invalid or expired; sign in again.",
                        request_id_of(scope),
                    )
                    await response(scope, receive, send)
                    return
                # The principal lookup ran unscoped; requests run in the principal's scope.
                await session.rollback()
            set_scope(session, principal.scope)
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
