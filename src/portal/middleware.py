"""Where a request's id is kept (set by ``portal.envelope``), and the error contract as a layer of
its own, for the stack with CORS inside the envelope."""

from __future__ import annotations

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal.failures import failure_response, log_failure

REQUEST_ID_KEY = "portal.request_id"


def request_id_of(scope: Scope) -> str:
    state = scope.get("state") or {}
    value = state.get(REQUEST_ID_KEY)
    return str(value) if value else "-"


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
            await answer_failure(error, scope, receive, send, started=started)


async def answer_failure(
    error: Exception, scope: Scope, receive: Receive, send: Send, *, started: bool
) -> None:
    """The error contract's answer to ``error``, logged once: a JSON failure, or, once the
    response has started (too late for another answer: the client sees the connection end
    early), the log line alone."""
    request_id, where = request_id_of(scope), str(scope.get("path", "?"))
    if started:
        log_failure(error, request_id=request_id, where=where)
        return
    await failure_response(error, request_id, where=where)(scope, receive, send)
