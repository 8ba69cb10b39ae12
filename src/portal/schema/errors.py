"""Every error leaves with ``extensions.code``; unexpected ones are masked and logged."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.error import GraphQLError
from sqlalchemy.exc import DBAPIError
from starlette.responses import Response
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult as StrawberryExecutionResult
from strawberry.types.graphql import OperationType

from portal.failures import (
    INTERNAL_MESSAGE,
    RETRY_AFTER_SECONDS,
    UNAVAILABLE_MESSAGE,
    log_failure,
)
from portal.models.db import database_unavailable, in_open_transaction
from portal.resolvers.audit import AuditEntry, append_events, write_events
from portal.resolvers.errors import ErrorCode, PortalError, ServiceUnavailable
from portal.schema.introspection import may_introspect, without_suggestions

logger = logging.getLogger("portal.graphql")

# Messages of the rules that limit query size (strawberry's depth, alias and token limiters,
# graphql-core's introspection depth rule).
_COMPLEXITY_PATTERN = re.compile(
    r"exceeds maximum operation depth|aliases found\. Allowed|contains more than \d+ tokens"
    r"|Maximum introspection depth exceeded"
)

KNOWN_CODES = frozenset(code.value for code in ErrorCode)


def document_error_code(error: GraphQLError) -> ErrorCode:
    """Parse and validation errors: the client's document is at fault, or too big."""
    if _COMPLEXITY_PATTERN.search(error.message):
        return ErrorCode.QUERY_TOO_COMPLEX
    return ErrorCode.BAD_USER_INPUT


def label_document_errors(errors: list[GraphQLError], context: object = None) -> None:
    """Give errors raised outside field execution (they bypass ``ErrorCodes``) their code, in
    place in ``errors``: document errors are the client's; an exception that escaped the
    operation (an extension's, such as a failed audit write) fails the whole request inside the
    contract. Validation errors are cached and shared by every request sending the same
    document, so they are replaced by labelled copies, never changed."""
    request_id = getattr(context, "request_id", None)
    for index, error in enumerate(errors):
        original = error.original_error
        if original is None:
            message = (
                error.message if may_introspect(context) else without_suggestions(error.message)
            )
            code = (error.extensions or {}).get("code") or document_error_code(error).value
            errors[index] = _with(error, message, {**(error.extensions or {}), "code": code})
            continue
        if error.path:
            continue  # a field's error: ``ErrorCodes`` labels it when the operation ends
        if isinstance(original, PortalError):
            code = original.code
            error.message = original.message
            error.extensions = {"code": code.value}
        elif isinstance(original, GraphQLError):
            continue
        else:
            code = log_failure(original, request_id=request_id, where="the operation")
            error.message = _MASKED_MESSAGES[code]
            error.extensions = {"code": code.value, "requestId": request_id}
        if code in (ErrorCode.SERVICE_UNAVAILABLE, ErrorCode.INTERNAL):
            fail_response(context, code)


_MASKED_MESSAGES = {
    ErrorCode.SERVICE_UNAVAILABLE: UNAVAILABLE_MESSAGE,
    ErrorCode.INTERNAL: INTERNAL_MESSAGE,
}


def fail_response(context: object, code: ErrorCode) -> None:
    """Answer the HTTP request with 503 (and ``Retry-After``) or 500 instead of 200."""
    response = getattr(context, "response", None)
    if not isinstance(response, Response):
        return
    if code is ErrorCode.SERVICE_UNAVAILABLE:
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    elif response.status_code != 503:
        response.status_code = 500


def classify(error: GraphQLError, context: object) -> GraphQLError:
    """``error`` as it leaves: a ``PortalError`` with its code (and field, reason), a document
    error labelled, anything unexpected logged and masked (503 when the database went away)."""
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
    request_id = getattr(context, "request_id", None)
    code = log_failure(
        original, request_id=request_id, where=".".join(str(p) for p in error.path or [])
    )
    if code is ErrorCode.SERVICE_UNAVAILABLE:
        # The database went away mid-request: say so (503) rather than answer half.
        fail_response(context, code)
    return GraphQLError(
        _MASKED_MESSAGES[code],
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": code.value, "requestId": request_id},
    )


def classify_result(result: object, context: object) -> None:
    """Every error of ``result`` (graphql-core's or Strawberry's) classified, in place."""
    if isinstance(result, (GraphQLExecutionResult, StrawberryExecutionResult)) and result.errors:
        result.errors = [classify(error, context) for error in result.errors]


class ErrorCodes(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        classify_result(self.execution_context.result, self.execution_context.context)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        """Subscription results stream out one by one, past ``on_operation``: label each."""
        classify_result(result, self.execution_context.context)
        yield


def _with(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions=extensions,
    )


async def record_audit(context: Any, *, operation_name: str | None, read_only: bool) -> None:
    """Write the operation's audit entries (if any) when it ends, in a transaction of their own
    on the request's own connection. ``read_only``: a query, whose entries may join its open
    transaction.

    The request's transaction ends first (a mutation has committed its change by now; a read has
    nothing to keep), so the audit commits on its own and the request never needs a second pooled
    connection. If the audit cannot be written the request fails as a whole (``AuditNotWritten``
    or ``ServiceUnavailable`` raised): what it read is not answered unaudited."""
    entries = context.settled_audit_entries() if hasattr(context, "audit_entries") else None
    if not entries or context.sessionmaker is None:
        return
    context.operation_name = operation_name
    try:
        await _write_audit(context, list(entries), read_only=read_only)
    except Exception as error:  # any failure to record PHI access fails the request
        code = log_failure(error, request_id=context.request_id, where="the audit trail")
        if code is ErrorCode.SERVICE_UNAVAILABLE:
            raise ServiceUnavailable(UNAVAILABLE_MESSAGE) from None
        raise AuditNotWritten(
            "The request could not be recorded in the audit trail, so nothing of it is "
            "answered. Quote the request id to support."
        ) from None


async def _write_audit(context: Any, entries: list[AuditEntry], *, read_only: bool) -> None:
    session = context.session
    if read_only and in_open_transaction(session):
        # A query wrote nothing: its entries go into its own transaction, committed with it
        # (two round trips instead of ending it and beginning another).
        try:
            await append_events(
                session=session,
                principal=context.principal,
                meta=context.request_meta,
                entries=entries,
                commit=True,
            )
            return
        except DBAPIError as error:
            if database_unavailable(error):
                raise
            # The read's transaction failed earlier (a field's error): start afresh.
    await session.rollback()
    await write_events(
        sessionmaker=context.sessionmaker,
        principal=context.principal,
        meta=context.request_meta,
        entries=entries,
    )


class AuditTrail(SchemaExtension):
    """Writes the operation's audit entries when it ends (``record_audit``)."""

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        execution = self.execution_context
        if not getattr(execution.context, "audit_entries", None):
            return
        await record_audit(
            execution.context,
            operation_name=execution.operation_name,
            read_only=execution.graphql_document is not None
            and execution.operation_type is OperationType.QUERY,
        )


class AuditNotWritten(PortalError):
    code = ErrorCode.INTERNAL
