"""Request ids: accepted from a trusted-looking ``X-Request-ID`` or made up, echoed back, logged."""

from __future__ import annotations

import re
import uuid

from starlette.datastructures import MutableHeaders
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.failures import failure_response, log_failure

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
REQUEST_ID_KEY = "portal.request_id"


def request_id_of(scope: Scope) -> str:
    state = scope.get("state") or {}
    value = state.get(REQUEST_ID_KEY)
    return str(value) if value else "-"


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        incoming = ""
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                incoming = value.decode("latin-1")
                break
        request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})[REQUEST_ID_KEY] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "x-request-id" not in headers:
                    headers.append("X-Request-ID", request_id)
            await send(message)

        await self.app(scope, receive, send_with_id)


_SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}


# Production only: browsers then refuse plain http for a year, subdomains included.
HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeadersMiddleware:
    """Responses hold PHI: never cached, never framed, never sniffed. Pages may set their own.
    In production (``hsts``) browsers are also told to use https only."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.headers = {
            **_SECURITY_HEADERS,
            **({"strict-transport-security": HSTS} if hsts else {}),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ErrorContractMiddleware:
    """Whatever escapes a route answers inside the error contract (JSON with
    ``extensions.code``, the request id, and, being inside the other middleware, the security
    headers) instead of Starlette's plain-text 500. Logged once, without database text."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            raise  # nobody to answer: the access log records it as INFO
        except Exception as error:
            if started:
                # Too late for another answer: the client sees the connection end early.
                log_failure(error, request_id=request_id_of(scope), where=scope.get("path", "?"))
                return
            response = failure_response(
                error, request_id_of(scope), where=str(scope.get("path", "?"))
            )
            await response(scope, receive, send)
