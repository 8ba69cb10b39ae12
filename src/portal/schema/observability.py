"""Tells the request log and the metrics which GraphQL operation a request ran, and how it went."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult as StrawberryExecutionResult

from portal.observability.access import OPERATION_KEY, OUTCOME_KEY

# Client-chosen operation names are cut to this length in logs and metric labels.
MAX_OPERATION_NAME = 64
_DENIED = frozenset({"UNAUTHENTICATED", "FORBIDDEN", "RATE_LIMITED"})
_INVALID = frozenset({"BAD_USER_INPUT", "QUERY_TOO_COMPLEX"})


def outcome_of(codes: Sequence[str | None]) -> str:
    """ok, error (an INTERNAL error), denied, invalid, or failed (any other coded error)."""
    if not codes:
        return "ok"
    if "INTERNAL" in codes or None in codes:
        return "error"
    if any(code in _DENIED for code in codes):
        return "denied"
    if all(code in _INVALID for code in codes):
        return "invalid"
    return "failed"


def http_state(context: object) -> dict[str, object] | None:
    """The ASGI scope state of an HTTP request's context (None over a websocket)."""
    request = getattr(context, "request", None)
    scope = getattr(request, "scope", None)
    if not isinstance(scope, dict) or scope.get("type") != "http":
        return None
    state: dict[str, object] = scope.setdefault("state", {})
    return state


def observe(state: dict[str, object], *, name: str, result: object) -> None:
    """Note the operation's name and outcome for the request log and the metrics."""
    state[OPERATION_KEY] = name[:MAX_OPERATION_NAME]
    codes: list[str | None] = []
    if isinstance(result, (GraphQLExecutionResult, StrawberryExecutionResult)):
        for error in result.errors or []:
            code = (error.extensions or {}).get("code")
            codes.append(str(code) if code is not None else None)
    state[OUTCOME_KEY] = outcome_of(codes)


def unnamed(kind: str | None) -> str:
    return f"(unnamed {kind or 'operation'})"


class RequestObservation(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        execution = self.execution_context
        state = http_state(execution.context)
        if state is None:
            return
        name = execution.operation_name
        if not name:
            operation_type = getattr(execution, "operation_type", None)
            name = unnamed(getattr(operation_type, "value", None))
        observe(state, name=name, result=execution.result)
