"""What an operation may ask for, checked once it is parsed and before any other work.

``OperationLimits`` is built once per schema; each request gets a light extension bound to it.
Right after parsing, before graphql-core's validation, it measures every operation with its
fragments expanded (``measure.py``: linear in the document, fragments memoised, cycles refused)
and refuses one that is too deep, holds too many aliases or too many fields (QUERY_TOO_COMPLEX).
Only then does graphql-core validate, through a cache shared by every request of the schema (the
validation rules never change, so identical documents hit it). A valid document's inputs are then
bounded and checked (``inputs.py``, BAD_USER_INPUT) before execution starts."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
)
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from portal.resolvers.errors import ErrorCode
from portal.schema.limits.inputs import InputLimits, MaxLength, check_inputs, max_length
from portal.schema.limits.measure import FragmentCycle, Measure, measure_operations

__all__ = [
    "MAX_CODE_LENGTH",
    "MAX_ID_LENGTH",
    "MaxLength",
    "OperationLimits",
    "QueryLimits",
    "max_length",
]

# Bounds inputs declare beside themselves (``max_length``): a global id (``ID``), and a code or
# short exact value (a state, a claim number, a report type code, an audit action).
MAX_ID_LENGTH = 128
MAX_CODE_LENGTH = 64


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """The bounds every operation is held to (settings ``PORTAL_GRAPHQL_MAX_*``)."""

    max_depth: int = 12
    max_aliases: int = 30
    max_fields: int = 1000
    max_string_length: int = 10_000
    max_list_length: int = 1000
    validation_cache_size: int = 512


def _too_complex(name: str | None, what: str, measured: int, maximum: int) -> GraphQLError:
    operation = f"The operation `{name}`" if name else "The operation"
    shown = f"more than {maximum}" if measured >= 10**12 else str(measured)
    return GraphQLError(
        f"{operation} is too complex: {shown} {what} once its fragments are expanded "
        f"(at most {maximum}).",
        extensions={
            "code": ErrorCode.QUERY_TOO_COMPLEX.value,
            "limit": what,
            "measured": measured,
            "maximum": maximum,
        },
    )


class OperationLimits:
    """The limits of one schema, and its validation cache (shared by all its requests)."""

    def __init__(self, limits: QueryLimits) -> None:
        self.limits = limits
        self.inputs = InputLimits(
            max_string_length=limits.max_string_length, max_list_length=limits.max_list_length
        )
        self.validate: Callable[
            [GraphQLSchema, DocumentNode, tuple[type[ASTValidationRule], ...]],
            list[GraphQLError],
        ] = functools.lru_cache(maxsize=limits.validation_cache_size)(validate_document)

    def extension(self) -> SchemaExtension:
        """The per-request extension (pass the bound method as the schema's factory)."""
        return _Limits(self)

    def too_complex(self, document: DocumentNode) -> list[GraphQLError]:
        try:
            measures = measure_operations(document)
        except FragmentCycle as cycle:
            return [
                GraphQLError(
                    f"Fragment `{cycle.names[0]}` spreads itself "
                    f"({' -> '.join(cycle.names)}): it would never end.",
                    extensions={"code": ErrorCode.BAD_USER_INPUT.value},
                )
            ]
        errors: list[GraphQLError] = []
        for name, measure in measures:
            errors.extend(self._exceeded(name, measure))
        return errors

    def _exceeded(self, name: str | None, measure: Measure) -> Iterator[GraphQLError]:
        limits = self.limits
        if measure.depth > limits.max_depth:
            yield _too_complex(name, "levels of depth", measure.depth, limits.max_depth)
        if measure.aliases > limits.max_aliases:
            yield _too_complex(name, "aliases", measure.aliases, limits.max_aliases)
        if measure.fields > limits.max_fields:
            yield _too_complex(name, "fields", measure.fields, limits.max_fields)


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


class _Limits(SchemaExtension):
    def __init__(self, owner: OperationLimits) -> None:
        super().__init__()
        self.owner = owner

    def on_validate(self) -> Iterator[None]:
        # Before Strawberry's own validation step: setting the errors (even none) replaces it.
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            context.pre_execution_errors = self._errors(document)
        yield

    def _errors(self, document: DocumentNode) -> list[GraphQLError]:
        context = self.execution_context
        errors = self.owner.too_complex(document)
        if errors:
            return errors
        schema: GraphQLSchema = context.schema._schema
        errors = self.owner.validate(schema, document, tuple(context.validation_rules))
        if errors:
            return list(errors)
        variables: Any = context.variables
        return check_inputs(
            schema=schema,
            document=document,
            operation=_operation(document, context.operation_name),
            variables=variables if isinstance(variables, dict) else None,
            limits=self.owner.inputs,
        )
