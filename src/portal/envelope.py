"""The envelope every HTTP answer travels in: the request id, the security headers, the access
log line and the request metrics, and the error contract, in one ASGI layer.

They were four middleware classes, each wrapping ``send`` in a closure of its own and each a
coroutine frame on every request; one layer does the same work with one ``send`` wrapper. What
it does, in the order the four did it (outermost first):

- **Request id** (HTTP and websockets): a trusted-looking ``X-Request-ID`` is kept, anything else
  replaced by a new one; kept in ``scope["state"]`` and echoed on the response.
- **Access log** (HTTP): one log line and the request counters (``portal.observability.access``).
  A client that goes away mid-request is an INFO line, not an error.
- **Security headers** (HTTP): responses hold PHI: never cached, framed or sniffed; in production
  browsers are told to use https only. A response may set its own values.
- **Error contract** (HTTP): whatever escapes a route answers as JSON with ``extensions.code``
  and the request id (and, being inside the rest, the security headers) instead of a plain-text
  500, logged once without database text (``portal.failures``). With CORS configured the
  contract stays a layer of its own (``ErrorContractMiddleware``) inside the CORS layer, so that
  a browser can read a failure's JSON, and the envelope is told not to answer failures itself.

``/graphql`` (its POST and every other method) is handed to its endpoint straight from the
envelope, without Starlette's router and its two exception layers, which add nothing the
envelope does not already do for it; every other path goes through them."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable

from starlette.requests import ClientDisconnect
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.middleware import REQUEST_ID_KEY, answer_failure
from portal.observability.access import RequestRecord, record_request

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}
# Production only: browsers then refuse plain http for a year, subdomains included.
HSTS = "max-age=31536000; includeSubDomains"

_REQUEST_ID_HEADER = b"x-request-id"


def request_id_for(scope: Scope) -> str:
    """The caller's ``X-Request-ID`` when it looks safe to log and echo, else a new one."""
    for name, value in scope.get("headers", ()):
        if name == _REQUEST_ID_HEADER:
            incoming = value.decode("latin-1")
            return incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
    return uuid.uuid4().hex


class Envelope:
    """The one layer around the app (see the module). ``shortcut`` is the route served without
    the router (``/graphql``); ``contract`` is False when an ``ErrorContractMiddleware`` inside
    answers failures instead (with CORS configured)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        observe: Callable[[RequestRecord], None] | None = None,
        hsts: bool = False,
        contract: bool = True,
        shortcut: BaseRoute | None = None,
        shortcut_app: ASGIApp | None = None,
    ) -> None:
        self.app = app
        self.observe = observe
        self.contract = contract
        headers = {**SECURITY_HEADERS, **({"strict-transport-security": HSTS} if hsts else {})}
        self._headers = [(name.encode(), value.encode()) for name, value in headers.items()]
        self._shortcut_path = getattr(shortcut, "path", None)
        self._shortcut = shortcut
        self._shortcut_app = shortcut_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http":
            if kind == "websocket":
                scope.setdefault("state", {})[REQUEST_ID_KEY] = request_id_for(scope)
            await self.app(scope, receive, send)
            return
        request_id = request_id_for(scope)
        scope.setdefault("state", {})[REQUEST_ID_KEY] = request_id
        began = time.perf_counter()
        status = 0
        extra = self._headers
        id_header = (_REQUEST_ID_HEADER, request_id.encode("latin-1"))

        async def envelope_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = message["headers"] = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(pair for pair in extra if pair[0] not in present)
                if _REQUEST_ID_HEADER not in present:
                    headers.append(id_header)
            await send(message)

        app = self.app
        if self._shortcut_app is not None and scope["path"] == self._shortcut_path:
            scope["route"] = self._shortcut
            app = self._shortcut_app
        outcome: str | None = None
        try:
            await app(scope, receive, envelope_send)
        except ClientDisconnect:
            outcome = "client_disconnected"  # the client went away: nothing is wrong here
        except Exception as error:
            try:
                if not self.contract:
                    raise
                await answer_failure(error, scope, receive, envelope_send, started=bool(status))
            except Exception:
                outcome = "error"
                status = status or 500
                raise
        finally:
            record_request(
                self.observe, scope, status, outcome, time.perf_counter() - began, request_id
            )
