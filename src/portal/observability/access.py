"""One log line per HTTP request, and the request counters of the metrics.

The line carries the request id, the route (its template: a download's token never appears),
the GraphQL operation name and outcome, the principal's kind and id, the status and the
duration. A client that goes away mid-request is an INFO line, not an error with a traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import Scope

logger = logging.getLogger("portal.access")

# Request-scope state the endpoints fill in (``scope["state"][...]``).
PRINCIPAL_KEY = "portal.principal"
OPERATION_KEY = "portal.operation"
OUTCOME_KEY = "portal.outcome"


@dataclass(frozen=True, slots=True)
class RequestRecord:
    request_id: str
    method: str
    route: str
    operation: str | None
    principal_kind: str | None
    principal_id: str | None
    status: int
    outcome: str
    duration_seconds: float

    def log_fields(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "method": self.method,
            "route": self.route,
            "operation": self.operation,
            "principal_kind": self.principal_kind,
            "principal_id": self.principal_id,
            "status": self.status,
            "outcome": self.outcome,
            "duration_ms": round(self.duration_seconds * 1000, 1),
        }


def route_of(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    # An unmatched path is not logged as sent: it may hold anything, a token included.
    return str(path) if path is not None else "(unmatched)"


def _outcome(status: int, state: dict[str, Any]) -> str:
    recorded = state.get(OUTCOME_KEY)
    if isinstance(recorded, str):
        return recorded
    if status >= 500:
        return "error"
    if status >= 400:
        return "refused"
    return "ok"


def record_request(
    observe: Callable[[RequestRecord], None] | None,
    scope: Scope,
    status: int,
    outcome: str | None,
    duration: float,
    request_id: str,
) -> None:
    """Log one finished HTTP request and count it (``observe``: the metrics)."""
    state = scope.get("state") or {}
    principal = state.get(PRINCIPAL_KEY)
    kind = getattr(principal, "kind", None)
    principal_id = getattr(principal, "id", None)
    record = RequestRecord(
        request_id=request_id,
        method=str(scope.get("method", "")),
        route=route_of(scope),
        operation=state.get(OPERATION_KEY),
        principal_kind=str(kind) if kind is not None else None,
        principal_id=str(principal_id) if principal_id is not None else None,
        status=status,
        outcome=outcome or _outcome(status, state),
        duration_seconds=duration,
    )
    if observe is not None:
        try:
            observe(record)
        except Exception:  # metrics must never fail a request
            logger.exception("could not record request metrics")
    if not logger.isEnabledFor(logging.INFO):
        return
    if record.outcome == "client_disconnected":
        logger.info("client disconnected", extra=record.log_fields())
    else:
        logger.info("request", extra=record.log_fields())
