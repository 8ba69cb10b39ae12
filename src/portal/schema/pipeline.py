"""Queries and mutations run straight through graphql-core, their checks prepared once per
document.

Strawberry runs every operation through ten schema extensions, each instantiated per request and
entered around parsing, validation and execution; for a small query that machinery costs more
than the query. What those extensions decide of a document never changes between requests (its
parse, whether it asks for introspection or repeats a field, its measures and validation), so
``OperationPipeline`` learns it once per query text and then, for an operation that passes every
check, does the per-request part in plain calls, in the extensions' order:

1. the limits (``portal.schema.limits.admit``: persisted operations, measures, the cached
   validation, the inputs, the cost and the caller's budget);
2. graphql-core's ``execute`` with ``PortalExecutionContext``;
3. the errors labelled and classified (``portal.schema.errors``), the audit entries written
   (``record_audit``), the operation noted for the request log (``observe``) and
   ``extensions.cost`` reported.

Whatever is unusual takes Strawberry's own path, unchanged, so its answers stay exactly as they
were: a document that does not parse, asks for introspection, repeats a field, is refused by a
limit before the budget is charged (the usual path then reports the refusal), names no operation
it holds, subscriptions, websocket operations (their transaction and audit are settled per
result) and schemas with per-field extensions (tracing)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.execution import execute
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from portal.schema.errors import classify_result, label_document_errors, record_audit
from portal.schema.execution import PortalExecutionContext
from portal.schema.introspection import asks_introspection
from portal.schema.limits import OperationLimits, admit, cost_results
from portal.schema.observability import http_state, observe, unnamed
from portal.schema.repeated_fields import MAX_REPEATS, most_repeated

# Distinct query texts whose parse (and what is learnt of it) is kept.
PARSE_CACHE_SIZE = 512

_OPERATION_TYPES = {
    "query": OperationType.QUERY,
    "mutation": OperationType.MUTATION,
    "subscription": OperationType.SUBSCRIPTION,
}


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    """A parsed query text and what the pipeline needs to know of it."""

    document: DocumentNode
    operations: dict[str | None, OperationDefinitionNode]
    # Introspection asked or a field repeated: the usual path decides (and refuses).
    usual_path_only: bool
    # Completion plans of its objects (schema/plans.py), learnt as requests run it.
    plans: dict[Any, Any] = field(default_factory=dict)

    def operation(self, name: str | None) -> OperationDefinitionNode | None:
        return self.operations.get(name)


def prepare(document: DocumentNode) -> PreparedDocument:
    found = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    operations: dict[str | None, OperationDefinitionNode] = {
        o.name.value: o for o in found if o.name is not None
    }
    if len(found) == 1 or (found and found[0].name is not None):
        # No operation name given: Strawberry runs the first operation (by its name).
        operations[None] = found[0]
    repeated = most_repeated(document)
    return PreparedDocument(
        document=document,
        operations=operations,
        usual_path_only=asks_introspection(document)
        or (repeated is not None and repeated[1] > MAX_REPEATS),
    )


class OperationPipeline:
    """The parse cache both paths share, and the plain path for operations that pass."""

    # The schema it executes, set once the schema is built (its parse step is one of the
    # schema's extensions).
    schema: GraphQLSchema

    def __init__(self, *, limits: OperationLimits, max_tokens: int) -> None:
        self.limits = limits
        self.max_tokens = max_tokens
        self.parse: Callable[[str], DocumentNode] = lru_cache(maxsize=PARSE_CACHE_SIZE)(self._parse)
        self._prepared: Callable[[str], PreparedDocument] = lru_cache(maxsize=PARSE_CACHE_SIZE)(
            self._prepare
        )
        # The rules Strawberry validates with (its ExecutionContext's default), for the cache key
        # the usual path uses too.
        self.rules = _default_rules()
        self.served = 0

    def _parse(self, query: str) -> DocumentNode:
        return parse(query, max_tokens=self.max_tokens)

    def _prepare(self, query: str) -> PreparedDocument:
        return prepare(self.parse(query))

    def extension(self) -> SchemaExtension:
        """The usual path's parse step, from the same cache (so both paths share what the limits
        learn of each document object)."""
        return _SharedParse(self)

    async def execute(
        self,
        query: str | None,
        *,
        variables: dict[str, Any] | None,
        context: Any,
        root_value: Any,
        operation_name: str | None,
        allowed: Iterable[OperationType],
    ) -> ExecutionResult | None:
        """The operation's result, or None when the usual path must run it (nothing was done)."""
        if not isinstance(query, str) or getattr(context, "live", None) is not None:
            return None
        try:
            prepared = self._prepared(query)
        except GraphQLError:
            return None
        document = prepared.document
        operation = prepared.operation(operation_name)
        if prepared.usual_path_only or operation is None:
            return None
        kind = _OPERATION_TYPES[operation.operation.value]
        if kind is OperationType.SUBSCRIPTION or kind not in allowed:
            return None
        name = operation_name or (operation.name.value if operation.name else None)
        admission = await admit(
            self.limits,
            document,
            schema=self.schema,
            context=context,
            query=query,
            variables=variables if isinstance(variables, dict) else {},
            operation_name=name,
            rules=self.rules,
        )
        if admission.errors and not admission.charged:
            return None  # refused before any side effect: the usual path says why
        self.served += 1
        result: ExecutionResult
        if admission.errors:
            result = ExecutionResult(data=None, errors=admission.errors)
            label_document_errors(admission.errors, context)
        else:
            executed = execute(
                self.schema,
                document,
                root_value=root_value,
                context_value=context,
                variable_values=variables,
                operation_name=name,
                executor_class=PortalExecutionContext,
                plans=prepared.plans,
                is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
            )
            if not isinstance(executed, GraphQLExecutionResult):
                executed = await executed
            if executed.errors:
                label_document_errors(executed.errors, context)
            result = ExecutionResult(data=executed.data, errors=executed.errors)
        try:
            await record_audit(context, operation_name=name, read_only=kind is OperationType.QUERY)
        except Exception as error:  # the audit could not be written: nothing is answered
            result = ExecutionResult(data=None, errors=[_coerced(error)])
            label_document_errors(result.errors or [], context)
        else:
            classify_result(result, context)
        state = http_state(context)
        if state is not None:
            observe(state, name=name or unnamed(kind.value), result=result)
        result.extensions = await cost_results(self.limits, context, admission)
        return result


class _SharedParse(SchemaExtension):
    def __init__(self, pipeline: OperationPipeline) -> None:
        super().__init__()
        self.pipeline = pipeline

    def on_parse(self) -> Any:
        execution = self.execution_context
        if execution.graphql_document is None and execution.query:
            execution.graphql_document = self.pipeline.parse(execution.query)
        yield


def _coerced(error: Exception) -> GraphQLError:
    return (
        error if isinstance(error, GraphQLError) else GraphQLError(str(error), original_error=error)
    )


def _default_rules() -> tuple[Any, ...]:
    from strawberry.types.execution import ExecutionContext

    field = ExecutionContext.__dataclass_fields__["validation_rules"]
    factory: Any = field.default_factory
    return tuple(factory())
