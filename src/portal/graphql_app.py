"""The /graphql endpoint: one session and one principal per request, then Strawberry."""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import FieldNode, GraphQLSyntaxError, OperationDefinitionNode, OperationType, parse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import process_result
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.graphql import OperationType as OperationType_
from strawberry.types.unset import UnsetType

from portal.auth.bearer import authenticate_bearer, bearer_token
from portal.auth.principal import Principal
from portal.auth.tokens import InvalidTokenError, TokenService
from portal.events import EventHub
from portal.failures import failure_response
from portal.live_socket import PortalSocket, SocketContext, SocketCredentials, TextFrames
from portal.middleware import request_id_of
from portal.models.db import RequestConnections
from portal.models.driver import ConnectionLost, end_unjoined
from portal.models.enums import AuditResult
from portal.resolvers.audit import AuditEntry, RequestMeta, write_events
from portal.resolvers.errors import ErrorCode
from portal.schema.context import Context
from portal.settings import Settings

logger = logging.getLogger(__name__)


# Far above any access token this server signs; a longer one is refused unread.
MAX_CONNECTION_TOKEN_LENGTH = 8192


def connection_token(params: Mapping[str, object]) -> str | None:
    """The access token of a ``connection_init`` payload: ``{"Authorization": "Bearer <jwt>"}``
    (any case) or ``{"token": "<jwt>"}``; '' when one is given but malformed or too long."""
    token: str | None = None
    for key, value in params.items():
        if key.lower() == "authorization":
            token = bearer_token({"authorization": value})
            break
    else:
        given = params.get("token")
        if given is not None:
            token = given.strip() if isinstance(given, str) else ""
    if token is not None and len(token) > MAX_CONNECTION_TOKEN_LENGTH:
        return ""
    return token


SESSION_KEY = "portal.session"
PRINCIPAL_KEY = "portal.principal"
# The request's sessionmaker, bound to its one connection (audit writes use it too).
SESSIONMAKER_KEY = "portal.sessionmaker"

# Room in a multipart upload request for the `operations` and `map` parts and the part headers.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
# The one mutation that accepts a file (GraphQL multipart request spec).
UPLOAD_FIELDS = frozenset({"postDocument"})
# Parsed multipart forms of the request being served: their spooled files are closed at its end.
_open_forms: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar(
    "portal_open_forms", default=None
)


class RequestBodyTooLarge(Exception):
    """The request body passed the upload limit while it was being read."""


def is_multipart(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return bool(value.split(b";", 1)[0].strip().lower() == b"multipart/form-data")
    return False


def declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def error_response(status_code: int, code: str, message: str, request_id: str) -> JSONResponse:
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": code}}]},
        status_code=status_code,
        headers={"X-Request-ID": request_id},
    )


def upload_operation_problem(operations: object) -> str | None:
    """Why a multipart request's operation may not carry files (None when it may)."""
    if not isinstance(operations, dict):
        return "Uploads are accepted one operation at a time."
    query = operations.get("query")
    if not isinstance(query, str):
        return "No GraphQL query found in the request."
    try:
        document = parse(query)
    except GraphQLSyntaxError:
        return "The GraphQL query does not parse."
    operations_found = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if len(operations_found) != 1 or len(document.definitions) != 1:
        return "An upload request holds exactly one operation and no fragments."
    operation = operations_found[0]
    fields = operation.selection_set.selections
    if (
        operation.operation is not OperationType.MUTATION
        or len(fields) != 1
        or not isinstance(fields[0], FieldNode)
        or fields[0].name.value not in UPLOAD_FIELDS
    ):
        return "Only the postDocument mutation accepts file uploads."
    return None


async def refuse_unsupported_request(
    scope: Scope, receive: Receive, send: Send
) -> tuple[Receive, bytes | None] | None:
    """Answer, inside the error contract, what ``/graphql`` does not serve: any method but POST
    (405: queries over GET are not accepted, so no query can ride in a URL or a cross-site link)
    and a batch, a JSON array of operations (400). Otherwise the ``receive`` to go on with (the
    JSON body, read here, is handed over again) and that body (None for a multipart upload,
    which is streamed)."""
    request_id = request_id_of(scope)
    if scope["method"] != "POST":
        response = error_response(
            405,
            ErrorCode.METHOD_NOT_ALLOWED,
            "Send GraphQL operations with POST (application/json, or multipart for uploads).",
            request_id,
        )
        response.headers["Allow"] = "POST"
        await response(scope, receive, send)
        return None
    if is_multipart(scope):
        return receive, None
    messages: list[Message] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request" or not message.get("more_body", False):
            break
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
    if body.lstrip()[:1] == b"[":
        response = error_response(
            400,
            ErrorCode.BATCH_NOT_SUPPORTED,
            "Batches are not accepted: send one operation per request.",
            request_id,
        )
        await response(scope, receive, send)
        return None
    replay = iter(messages)

    async def replayed() -> Message:
        for message in replay:
            return message
        return await receive()

    return replayed, body


# What a POST may run (Strawberry's view allows the same; a subscription is refused later).
POST_OPERATION_TYPES = frozenset(OperationType_.from_http("POST"))


@dataclass(frozen=True, slots=True)
class PlainOperation:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


def plain_operation(request: Request, body: bytes | None) -> PlainOperation | None:
    """The operation of a plain request: a JSON body (already read) holding one operation whose
    ``query`` is a string, ``variables`` an object or null, ``operationName`` a string or null,
    and no ``extensions``; asking for no streamed answer. None for anything else, which
    Strawberry's view parses (and answers) itself."""
    if body is None:
        return None
    headers = request.headers
    if "application/json" not in headers.get("content-type", ""):
        return None
    accept = headers.get("accept", "")
    if "multipart" in accept or "event-stream" in accept:
        return None
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(data, dict) or data.get("extensions") is not None:
        return None
    query, variables, name = data.get("query"), data.get("variables"), data.get("operationName")
    if (
        not isinstance(query, str)
        or not isinstance(variables, (dict, type(None)))
        or not isinstance(name, (str, type(None)))
    ):
        return None
    return PlainOperation(query=query, variables=variables, operation_name=name)


def unauthenticated_response(message: str, request_id: str) -> JSONResponse:
    return JSONResponse(
        {"data": None, "errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"', "X-Request-ID": request_id},
    )


class PortalGraphQL(GraphQL[Context, None]):
    # graphql-transport-ws: text frames, a context per operation, the caller re-read each time.
    websocket_adapter_class = TextFrames
    graphql_transport_ws_handler_class = PortalSocket

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
            # Files travel only to postDocument, under the size limit and the CSRF guard below.
            multipart_uploads_enabled=True,
            # Live results speak graphql-transport-ws only (not the legacy graphql-ws).
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.settings = settings
        self.connections: RequestConnections
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
        checked = await refuse_unsupported_request(scope, receive, send)
        if checked is None:
            return
        receive, body = checked
        request = Request(scope, receive)
        if is_multipart(scope):
            # CSRF: a cross-site HTML form can post multipart/form-data without a CORS preflight,
            # but it cannot set an Authorization header. Every upload is made by signed-in staff,
            # so a multipart request without one is refused before its body is read.
            if request.headers.get("authorization") is None:
                response = error_response(
                    400,
                    "BAD_USER_INPUT",
                    "Multipart requests must carry `Authorization: Bearer <token>`.",
                    request_id_of(scope),
                )
                await response(scope, receive, send)
                return
            cap = self.settings.max_upload_bytes + MULTIPART_OVERHEAD_BYTES
            length = declared_length(scope)
            if length is not None and length > cap:
                await self._too_large(scope, receive, send)
                return
            receive = self._limited(receive, cap)
            sent = _SendTracker(send)
            forms: list[Any] = []
            forms_token = _open_forms.set(forms)
            try:
                await self._serve(scope, receive, sent, None)
            except RequestBodyTooLarge:
                if sent.started:
                    raise
                await self._too_large(scope, receive, send)
            finally:
                # Spooled upload files are closed (and deleted) whatever the outcome.
                _open_forms.reset(forms_token)
                for form in forms:
                    await form.close()
            return
        await self._serve(scope, receive, send, body)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.settings.max_upload_bytes
        response = error_response(
            413,
            "FILE_TOO_LARGE",
            f"The upload is larger than the {limit} byte limit.",
            request_id_of(scope),
        )
        response.headers["Connection"] = "close"
        await response(scope, receive, send)

    @staticmethod
    def _limited(receive: Receive, cap: int) -> Receive:
        """``receive`` that fails once more than ``cap`` body bytes have arrived: the body is
        refused while it streams, never buffered whole (also without a Content-Length)."""
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise RequestBodyTooLarge
            return message

        return limited

    def decode_json(self, data: str | bytes) -> object:
        try:
            return super().decode_json(data)
        except RecursionError as error:
            # Nested deeper than the parser's stack ([[[[...): as unreadable as malformed JSON.
            raise HTTPException(400, "The JSON body is nested too deeply.") from error

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, str]:
        forms = _open_forms.get()
        if forms is not None:
            try:
                # Parsed once and cached by the request: Strawberry's parse below reuses it.
                form = (await request.get_form_data()).files
            except ValueError as error:
                raise HTTPException(400, "Unable to parse the multipart body") from error
            if hasattr(form, "close"):
                forms.append(form)
        data = await super().parse_multipart(request)
        problem = upload_operation_problem(data)
        if problem is not None:
            raise HTTPException(400, problem)
        return data

    @property
    def sessionmaker(self) -> async_sessionmaker[AsyncSession]:
        """Sessions outside any one request (websockets); requests use ``connections``."""
        return self._sessionmaker

    @sessionmaker.setter
    def sessionmaker(self, value: async_sessionmaker[AsyncSession]) -> None:
        self._sessionmaker = value
        self.connections = RequestConnections.serving(value)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, body: bytes | None) -> None:
        """One request: one pooled connection from the principal lookup to the audit write.

        Whatever fails answers inside the error contract: JSON with ``extensions.code`` (503
        ``SERVICE_UNAVAILABLE`` with ``Retry-After`` when the database is down or has no
        connection to spare, ``INTERNAL`` otherwise), logged once, never with SQL parameters.
        The response is sent after the connection went back to the pool."""
        request = Request(scope, receive)
        request_id = request_id_of(scope)
        progress = _Progress()
        response: Response | None = None
        for attempt in range(2):
            try:
                async with self.connections.open() as sessionmaker:
                    response = await self._respond(request, sessionmaker, progress, body)
                break
            except (RequestBodyTooLarge, ClientDisconnect):
                raise  # answered above; a client that left needs no answer (logged as INFO)
            except Exception as error:  # the error contract covers every failure
                if attempt == 0 and not progress.executing and _connection_was_dead(error):
                    # A pooled connection the database dropped (a restart): nothing of this
                    # request ran yet, so it starts again on a fresh one.
                    continue
                response = failure_response(error, request_id, where="/graphql")
                break
        assert response is not None
        await response(scope, receive, send)

    async def _respond(
        self,
        request: Request,
        sessionmaker: async_sessionmaker[AsyncSession],
        progress: _Progress,
        body: bytes | None,
    ) -> Response:
        scope = request.scope
        request_id = request_id_of(scope)
        async with sessionmaker() as session:
            try:
                principal = await authenticate_bearer(
                    session=session,
                    sessionmaker=sessionmaker,
                    tokens=self.tokens,
                    token=bearer_token(request.headers),
                    meta=RequestMeta(
                        ip_address=request.client.host if request.client else None,
                        request_id=request_id,
                        operation_name=None,
                    ),
                )
            except InvalidTokenError:
                return unauthenticated_response(
                    "The access token is invalid or expired; sign in again.", request_id
                )
            progress.executing = True
            state = scope.setdefault("state", {})
            state[SESSION_KEY] = session
            state[PRINCIPAL_KEY] = principal
            state[SESSIONMAKER_KEY] = sessionmaker
            try:
                operation = plain_operation(request, body)
                if operation is None:
                    response = await self.run(request)
                else:
                    response = await self._execute(request, operation)
                # A request that only read on the driver ends its transaction there too.
                await end_unjoined(session)
                return response
            except HTTPException as error:
                return error_response(
                    error.status_code, ErrorCode.BAD_USER_INPUT.value, error.reason, request_id
                )

    async def _execute(self, request: Request, operation: PlainOperation) -> Response:
        """What Strawberry's view answers to a plain operation (``plain_operation``), without
        its request adapters: the context, ``schema.execute``, the result as JSON (with the
        status and headers the operation set on the context's response)."""
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, response=sub_response)
        try:
            result = await self.schema.execute(
                operation.query,
                variable_values=operation.variables,
                context_value=context,
                operation_name=operation.operation_name,
                allowed_operation_types=POST_OPERATION_TYPES,
            )
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from error
        except InvalidOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason("POST")) from error
        except MissingQueryError as error:
            raise HTTPException(400, "No GraphQL query found in the request") from error
        return self.create_response(response_data=process_result(result), sub_response=sub_response)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A websocket is anonymous until its ``connection_init`` names a principal. The
        connection itself holds no database session: each operation on it gets its own context
        and connection (``portal.live_socket``)."""
        state = scope.setdefault("state", {})
        state[PRINCIPAL_KEY] = Principal.anonymous()
        await super().__call__(scope, receive, send)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Authenticate the socket from its ``connection_init`` payload, or close it (4403).

        The token is kept: every operation and every delivered event re-reads the caller from
        it, and the socket is closed when it expires."""
        request = context.request
        meta = RequestMeta(
            ip_address=request.client.host if request.client else None,
            request_id=context.request_id,
            operation_name=None,
        )
        token = connection_token(context.connection_params or {})
        # One pooled connection for the check and its audit, given back before the ack.
        async with self.connections.open() as sessionmaker:
            if token is None:
                await write_events(
                    sessionmaker=sessionmaker,
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
                raise ConnectionRejectionError(
                    {"message": "Send an access token in connection_init."}
                )
            async with sessionmaker() as session:
                try:
                    principal = await authenticate_bearer(
                        session=session,
                        sessionmaker=sessionmaker,
                        tokens=self.tokens,
                        token=token,
                        meta=meta,
                    )
                    expires_at = self.tokens.verify(token).expires_at
                except InvalidTokenError:
                    raise ConnectionRejectionError(
                        {"message": "The access token is invalid or expired."}
                    ) from None
        credentials = SocketCredentials(token=token, expires_at=expires_at)
        # The token verifier allows some clock leeway past `exp`; an open socket gets none.
        if credentials.expired:
            raise ConnectionRejectionError({"message": "The access token is invalid or expired."})
        context.principal = principal
        if isinstance(context, SocketContext):
            context.credentials = credentials
        return await super().on_ws_connect(context)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        state = request.scope.get("state", {})
        if isinstance(request, WebSocket):
            # The connection's own context: only `on_ws_connect` uses it, and it never touches the
            # database (an unused session holds no connection).
            return SocketContext(
                request=request,
                response=response,
                session=self.sessionmaker(),
                principal=state[PRINCIPAL_KEY],
                settings=self.settings,
                tokens=self.tokens,
                request_id=request_id_of(request.scope),
                sessionmaker=self.sessionmaker,
                events=self.events,
            )
        return Context(
            request=request,
            response=response,
            session=state[SESSION_KEY],
            principal=state[PRINCIPAL_KEY],
            settings=self.settings,
            tokens=self.tokens,
            request_id=request_id_of(request.scope),
            sessionmaker=state.get(SESSIONMAKER_KEY, self.sessionmaker),
            events=self.events,
        )

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)


class _Progress:
    """How far a request got: once its operation runs it is never started again."""

    executing = False


def _connection_was_dead(error: BaseException) -> bool:
    if isinstance(error, ConnectionLost):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


class _SendTracker:
    """Remembers whether a response has started, so a late failure is not answered twice."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)
