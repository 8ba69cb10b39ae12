"""What an operation may ask for, checked once it is parsed and before any other work.

``OperationLimits`` is built once per schema; each request gets a light extension bound to it.
Right after parsing, before graphql-core's validation, in this order:

1. an API client limited to persisted operations runs only the documents whose SHA-256 it lists
   (FORBIDDEN, reason OPERATION_NOT_ALLOWED);
2. every operation is measured with its fragments expanded (``measure.py``: linear in the
   document, fragments memoised, cycles refused) and refused when too deep, holding too many
   aliases or too many fields (QUERY_TOO_COMPLEX);
3. graphql-core validates, once per parsed document (the parser cache hands every request that
   sends the same text the same document object; what is learnt about it is kept beside it);
4. the inputs are bounded and checked (``inputs.py``, BAD_USER_INPUT);
5. the operation's static cost is held to the maximum (QUERY_TOO_COMPLEX) and charged to the
   caller's budget (``portal.ratelimit``; RATE_LIMITED, HTTP 429 and Retry-After once spent).

Every answer then reports ``extensions.cost``."""

from __future__ import annotations

import hashlib
import weakref
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
)
from starlette.responses import Response
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from portal.auth.principal import Principal
from portal.ratelimit import BucketPolicy, Buckets, Decision
from portal.resolvers.errors import ErrorCode
from portal.schema.limits.inputs import (
    InputLimits,
    LiteralFacts,
    MaxLength,
    check_inputs,
    check_literals,
    max_length,
)
from portal.schema.limits.measure import SATURATED, FragmentCycle, Measure, measure_document

__all__ = [
    "MAX_CODE_LENGTH",
    "MAX_ID_LENGTH",
    "Admission",
    "Budgets",
    "MaxLength",
    "OperationLimits",
    "QueryLimits",
    "admit",
    "cost_results",
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
    max_cost: int = 10_000
    max_string_length: int = 10_000
    max_list_length: int = 1000


@dataclass(frozen=True, slots=True)
class Budgets:
    """Query budgets (leaky buckets of cost points): per principal, and per IP address for
    anonymous callers, kept in ``buckets``."""

    buckets: Buckets
    signed_in: BucketPolicy
    anonymous: BucketPolicy


def _too_complex(name: str | None, what: str, measured: int, maximum: int) -> GraphQLError:
    operation = f"The operation `{name}`" if name else "The operation"
    shown = f"more than {maximum}" if measured >= SATURATED else str(measured)
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


def cost_report(decision: Decision) -> dict[str, Any]:
    """``extensions.cost`` of an answer."""
    return {
        "requested": decision.requested,
        "limit": decision.limit,
        "remaining": decision.remaining,
        "resetAt": decision.reset_at.isoformat().replace("+00:00", "Z"),
    }


@dataclass
class _DocumentFacts:
    """Measures that no variable decided, and the literal checks, of one parsed document."""

    errors: list[GraphQLError] = field(default_factory=list)
    measures: dict[str | None, Measure] | None = None
    literals: LiteralFacts | None = None
    validation: tuple[tuple[type[ASTValidationRule], ...], list[GraphQLError]] | None = None


class OperationLimits:
    """The limits of one schema, its validation cache (shared by all its requests) and the
    callers' query budgets."""

    def __init__(self, limits: QueryLimits, budgets: Budgets | None = None) -> None:
        self.limits = limits
        self.budgets = budgets
        self.inputs = InputLimits(
            max_string_length=limits.max_string_length, max_list_length=limits.max_list_length
        )
        self.validation_hits = 0
        self.validation_misses = 0
        self._documents: dict[int, tuple[weakref.ref[DocumentNode], _DocumentFacts]] = {}

    def extension(self) -> SchemaExtension:
        """The per-request extension (pass the bound method as the schema's factory)."""
        return _Limits(self)

    def measure(
        self, document: DocumentNode, schema: GraphQLSchema, variables: dict[str, Any]
    ) -> tuple[list[GraphQLError], dict[str | None, Measure]]:
        """The errors refusing the document (if any), and each operation's expanded measure."""
        known = self._facts(document)
        if known.measures is not None:
            return list(known.errors), known.measures
        try:
            measured, read_variables = measure_document(
                document, schema=schema, variables=variables
            )
        except FragmentCycle as cycle:
            error = GraphQLError(
                f"Fragment `{cycle.names[0]}` spreads itself "
                f"({' -> '.join(cycle.names)}): it would never end.",
                extensions={"code": ErrorCode.BAD_USER_INPUT.value},
            )
            return [error], {}
        errors: list[GraphQLError] = []
        for name, measure in measured:
            errors.extend(self._exceeded(name, measure))
        measures = dict(measured)
        if not read_variables:  # the same for every request sending this document
            known.errors, known.measures = errors, measures
        return errors, measures

    def validate(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        rules: tuple[type[ASTValidationRule], ...],
    ) -> list[GraphQLError]:
        """graphql-core's validation, once per parsed document (and set of rules)."""
        known = self._facts(document)
        if known.validation is not None and known.validation[0] == rules:
            self.validation_hits += 1
            return list(known.validation[1])
        self.validation_misses += 1
        errors = validate_document(schema, document, rules)
        known.validation = (rules, errors)
        return list(errors)

    def literals(self, document: DocumentNode, schema: GraphQLSchema) -> LiteralFacts:
        known = self._facts(document)
        if known.literals is None:
            known.literals = check_literals(schema=schema, document=document, limits=self.inputs)
        return known.literals

    def _facts(self, document: DocumentNode) -> _DocumentFacts:
        """What is known of this very document object. The parser cache hands every request
        sending the same text the same object; the entry goes when the object does."""
        key = id(document)
        entry = self._documents.get(key)
        if entry is not None and entry[0]() is document:
            return entry[1]
        facts = _DocumentFacts()
        self._documents[key] = (
            weakref.ref(document, lambda _: self._documents.pop(key, None)),
            facts,
        )
        return facts

    def _exceeded(self, name: str | None, measure: Measure) -> Iterator[GraphQLError]:
        limits = self.limits
        if measure.depth > limits.max_depth:
            yield _too_complex(name, "levels of depth", measure.depth, limits.max_depth)
        if measure.aliases > limits.max_aliases:
            yield _too_complex(name, "aliases", measure.aliases, limits.max_aliases)
        if measure.fields > limits.max_fields:
            yield _too_complex(name, "fields", measure.fields, limits.max_fields)

    def too_costly(self, name: str | None, measure: Measure) -> GraphQLError | None:
        if measure.total_cost > self.limits.max_cost:
            return _too_complex(name, "cost points", measure.total_cost, self.limits.max_cost)
        return None

    async def charge(self, context: object, cost: int) -> Decision | None:
        """Charge ``cost`` points to the caller's budget (0 only reads it)."""
        budgets = self.budgets
        if budgets is None:
            return None
        principal: Principal | None = getattr(context, "principal", None)
        if principal is not None and principal.is_authenticated and principal.id is not None:
            key, policy = f"{principal.kind.value}:{principal.id}", budgets.signed_in
        else:
            request = getattr(context, "request", None)
            client = getattr(request, "client", None)
            key, policy = f"ip:{client.host if client else 'unknown'}", budgets.anonymous
        return await budgets.buckets.charge(key, cost, policy)


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


@dataclass(slots=True)
class Admission:
    """What the limits decided of one request's operation: the errors refusing it (none when
    admitted), its cost once measured, and the budget's decision once charged (``charged``: the
    one side effect happened, so the request must not be checked again)."""

    errors: list[GraphQLError]
    cost: int = 0
    decision: Decision | None = None
    charged: bool = False


async def admit(
    owner: OperationLimits,
    document: DocumentNode,
    *,
    schema: GraphQLSchema,
    context: object,
    query: str | None,
    variables: dict[str, Any],
    operation_name: str | None,
    rules: tuple[type[ASTValidationRule], ...],
) -> Admission:
    """Steps 1-5 of this module's checks, in order, for one request."""
    refused = _not_persisted(context, query)
    if refused is not None:
        return Admission([refused])
    errors, measures = owner.measure(document, schema, variables)
    if errors:
        return Admission(errors)
    errors = owner.validate(schema, document, rules)
    if errors:
        return Admission(list(errors))
    operation = _operation(document, operation_name)
    errors = check_inputs(
        schema=schema,
        document=document,
        operation=operation,
        variables=variables,
        limits=owner.inputs,
        literals=owner.literals(document, schema),
    )
    if errors or operation is None:
        return Admission(errors)
    measure = measures[_name(operation)]
    admission = Admission([], cost=measure.total_cost)
    too_costly = owner.too_costly(_name(operation), measure)
    if too_costly is not None:
        admission.errors = [too_costly]
        return admission
    admission.decision = await owner.charge(context, measure.total_cost)
    admission.charged = True
    _remember(context, admission.decision)
    if admission.decision is not None and not admission.decision.allowed:
        _too_many_requests(context, admission.decision)
        admission.errors = [_rate_limited(admission.decision)]
    return admission


async def cost_results(
    owner: OperationLimits, context: object, admission: Admission
) -> dict[str, Any]:
    """``extensions.cost`` on every answer (the budget read when nothing was charged)."""
    decision = admission.decision
    if decision is None:
        read = await owner.charge(context, 0)
        decision = None if read is None else replace(read, requested=admission.cost)
    return {} if decision is None else {"cost": cost_report(decision)}


class _Limits(SchemaExtension):
    def __init__(self, owner: OperationLimits) -> None:
        super().__init__()
        self.owner = owner
        self.admission = Admission([])

    async def on_validate(self) -> AsyncIterator[None]:
        # Before Strawberry's own validation step: setting the errors (even none) replaces it.
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            raw: Any = context.variables
            self.admission = await admit(
                self.owner,
                document,
                schema=context.schema._schema,
                context=context.context,
                query=context.query,
                variables=raw if isinstance(raw, dict) else {},
                operation_name=context.operation_name,
                rules=tuple(context.validation_rules),
            )
            context.pre_execution_errors = self.admission.errors
        yield

    async def get_results(self) -> dict[str, Any]:
        return await cost_results(self.owner, self.execution_context.context, self.admission)


def operation_hash(query: str) -> str:
    """What persisted operations are listed by: the SHA-256 of the exact query text."""
    return hashlib.sha256(query.encode("utf-8", "surrogatepass")).hexdigest()


def _not_persisted(context: object, query: str | None) -> GraphQLError | None:
    """An API client limited to persisted operations runs only those (before any other work)."""
    principal = getattr(context, "principal", None)
    allowed = getattr(principal, "allowed_operations", None)
    if allowed is None:
        return None
    digest = operation_hash(query or "")
    if digest in allowed:
        return None
    return GraphQLError(
        "This API client may run only its registered operations (persisted operations); "
        f"this document's SHA-256 is {digest}.",
        extensions={
            "code": ErrorCode.FORBIDDEN.value,
            "reason": "OPERATION_NOT_ALLOWED",
            "operationHash": digest,
        },
    )


def _name(operation: OperationDefinitionNode) -> str | None:
    return operation.name.value if operation.name else None


def _remember(context: object, decision: Decision | None) -> None:
    """The decision for ``rateLimit`` to show (the context is Portal's, or a test's)."""
    if hasattr(context, "rate_limit"):
        context.rate_limit = decision


def _too_many_requests(context: object, decision: Decision) -> None:
    """Over HTTP, a refused operation is also 429 with ``Retry-After``."""
    response = getattr(context, "response", None)
    if isinstance(response, Response):
        response.status_code = HTTPStatus.TOO_MANY_REQUESTS
        response.headers["Retry-After"] = str(decision.retry_after_seconds)


def _rate_limited(decision: Decision) -> GraphQLError:
    retry = decision.retry_after_seconds
    return GraphQLError(
        f"Your query budget is spent: this operation costs {decision.requested} points and "
        f"{decision.remaining} remain; retry in {retry} s.",
        extensions={
            "code": ErrorCode.RATE_LIMITED.value,
            "retryAfter": retry,
            "cost": cost_report(decision),
        },
    )
