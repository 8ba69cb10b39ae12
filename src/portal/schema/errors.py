"""Every error leaves with ``extensions.code``; unexpected ones are masked and logged."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult as StrawberryExecutionResult

from portal.resolvers.audit import write_events
from portal.resolvers.errors import ErrorCode, PortalError

logger = logging.getLogger("portal.graphql")

# Messages of the rules that limit query size (strawberry's depth, alias and token limiters).
_COMPLEXITY_PATTERN = re.compile(
    r"exceeds maximum operation depth|aliases found\. Allowed|contains more than \d+ tokens"
)

KNOWN_CODES = frozenset(code.value for code in ErrorCode)


def document_error_code(error: GraphQLError) -> ErrorCode:
    """Parse and validation errors: the client's document is at fault, or too big."""
    if _COMPLEXITY_PATTERN.search(error.message):
        return ErrorCode.QUERY_TOO_COMPLEX
    return ErrorCode.BAD_USER_INPUT


def label_document_errors(errors: list[GraphQLError]) -> None:
    """Give errors raised before execution (they bypass the extension) their code, in place."""
    for error in errors:
        if error.original_error is None and "code" not in (error.extensions or {}):
            error.extensions = {
                **(error.extensions or {}),
                "code": document_error_code(error).value,
            }


class ErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if (
            isinstance(result, (GraphQLExecutionResult, StrawberryExecutionResult))
            and result.errors
        ):
            result.errors = [self._classify(error) for error in result.errors]

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Subscription results stream out one by one, past ``on_operation``: label each."""
        if (
            isinstance(result, (GraphQLExecutionResult, StrawberryExecutionResult))
            and result.errors
        ):
            result.errors = [self._classify(error) for error in result.errors]
        yield

    def _request_id(self) -> str | None:
        context = self.execution_context.context
        return getattr(context, "request_id", None)

    def _classify(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if isinstance(original, PortalError):
            extensions: dict[str, Any] = {"code": original.code.value}
            if original.field:
                extensions["field"] = original.field
            if original.reason:
                extensions["reason"] = original.reason
            return _with(error, original.message, extensions)
        code = (error.extensions or {}).get("code")
        if code in KNOWN_CODES and (original is None or isinstance(original, GraphQLError)):
            return error
        if original is None:
            return _with(error, error.message, {"code": document_error_code(error).value})
        if isinstance(original, GraphQLError) and not isinstance(original, type(error)):
            return _with(error, error.message, {"code": ErrorCode.BAD_USER_INPUT.value})
        request_id = self._request_id()
        logger.error(
            "unexpected error in %s (request %s)",
            ".".join(str(p) for p in error.path or []),
            request_id,
            exc_info=original,
        )
        return GraphQLError(
            "Internal server error. Quote the request id to support.",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"code": ErrorCode.INTERNAL.value, "requestId": request_id},
        )


def _with(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


class AuditTrail(SchemaExtension):
    """Writes the operation's audit entries when it ends, in a transaction of their own."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        context = self.execution_context.context
        entries = getattr(context, "audit_entries", None)
        if not entries or context.sessionmaker is None:
            return
        context.operation_name = self.execution_context.operation_name
        await write_events(
            sessionmaker=context.sessionmaker,
            principal=context.principal,
            meta=context.request_meta,
            entries=list(entries),
        )
