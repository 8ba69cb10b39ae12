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


class RequestObservation(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        execution = self.execution_context
        request = getattr(execution.context, "request", None)
        scope = getattr(request, "scope", None)
        if not isinstance(scope, dict) or scope.get("type") != "http":
            return
        state = scope.setdefault("state", {})
        name = execution.operation_name
        if not name:
            operation_type = getattr(execution, "operation_type", None)
            kind = getattr(operation_type, "value", None) or "operation"
            name = f"(unnamed {kind})"
        state[OPERATION_KEY] = name[:MAX_OPERATION_NAME]
        result = execution.result
        codes: list[str | None] = []
        if isinstance(result, (GraphQLExecutionResult, StrawberryExecutionResult)):
            for error in result.errors or []:
                code = (error.extensions or {}).get("code")
                codes.append(str(code) if code is not None else None)
        state[OUTCOME_KEY] = outcome_of(codes)
