"""The execution path: graphql-core's executor, with plain fields answered without ceremony.

Most fields of a page are read straight off an object: a document's name, a visit's status, a
node's global id. Through Strawberry each one gets a resolver, and graphql-core builds a resolve
info, runs the resolver through Strawberry's wrappers, then completes and serialises the value:
some thirty calls a field, 1,400 fields on a page of 50 documents with five nested objects.

When the schema is built, ``mark_plain_fields`` marks every field that does nothing but read an
attribute: a leaf (scalar or enum) without a resolver, extensions (``@requires``), permission
classes or arguments of its own, and a node's ``id`` (the global id of the node's own type). It
also gives every field that reads an attribute or a ``related`` target (schema/related.py) a
plain graphql-core resolver, behind its ``@requires`` rules when it has them (a denial still goes
through Strawberry's permission extension, unchanged). While
no schema extension wraps every field (tracing does), ``PortalExecutionContext`` answers those by
reading the attribute and serialising it, exactly what the usual path computes; anything unusual
(a null where none may be, a value that does not serialise, a missing attribute) goes the usual
way, so errors stay the same.

A field with a resolver of its own that Strawberry would call with nothing more than its
arguments (``_called_resolver``) gets that resolver without Strawberry's wrappers, its arguments
converted as Strawberry converts them (built-in scalars as they are, an input of leaves built
from the fields given): behind ``@requires``, once its rules admit the caller (decided once per
request and rule, as ``@requires`` decides them; a denial takes the usual path). Every other
field runs as before."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLResolveInfoHelpers,
    GraphQLScalarType,
    GraphQLSchema,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import AwaitableOrValue, Path, Undefined, UndefinedType
from strawberry.permission import PermissionExtension
from strawberry.relay import Node
from strawberry.relay.utils import to_base64
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import Info
from strawberry.types.base import (
    StrawberryMaybe,
    StrawberryObjectDefinition,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition

from portal.resolvers.errors import PortalError
from portal.schema.permissions import Requires, Rule, decide
from portal.schema.plans import (
    ABANDONED,
    DIRECT_RESOLVER,
    GUARD,
    Plan,
    compile_plan,
    plan_key,
    run_plan,
)
from portal.schema.related import direct_resolver, link_of

Resolver = Callable[..., Any]

__all__ = ["PLAIN_FIELD", "PortalExecutionContext", "mark_plain_fields"]

# The key, in a GraphQL field's ``extensions``, of how to answer it directly.
PLAIN_FIELD = "portal-plain-field"


@dataclass(frozen=True, slots=True)
class PlainField:
    """How to answer a field from its parent object alone: the value, then its serialisation."""

    read: Callable[[Any], Any]
    serialize: Callable[[Any], Any]
    non_null: bool


def _leaf(attribute: str, leaf: GraphQLLeafType, non_null: bool) -> PlainField:
    def read(source: Any) -> Any:
        return getattr(source, attribute)

    return PlainField(read=read, serialize=leaf.serialize, non_null=non_null)


def _global_id(type_name: str, attribute: str) -> PlainField:
    def read(source: Any) -> Any:
        return to_base64(type_name, getattr(source, attribute))

    return PlainField(read=read, serialize=str, non_null=True)


def mark_plain_fields(schema: GraphQLSchema, *, info_class: type[Any] = Info) -> None:
    """Mark, once, the fields ``PortalExecutionContext`` may answer directly (and give the
    fields ``_called_resolver`` admits their resolver without Strawberry's wrappers)."""
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        owner = (graphql_type.extensions or {}).get("strawberry-definition")
        for name, field in graphql_type.fields.items():
            definition = (field.extensions or {}).get("strawberry-definition")
            if definition is None:
                continue
            if field.args:
                called = _called_resolver(field, definition, info_class)
                if called is not None:
                    field.resolve = called
                continue
            plain: PlainField | None = None
            leaf = get_nullable_type(field.type)
            if (
                getattr(field.resolve, "_is_default", False)
                and not definition.extensions
                and not definition.permission_classes
                and is_leaf_type(leaf)
            ):
                plain = _leaf(definition.python_name, leaf, is_non_null_type(field.type))
            elif (
                name == "id"
                and isinstance(owner, StrawberryObjectDefinition)
                and _plain_node_id(owner)
            ):
                attribute = owner.origin.resolve_id_attr()
                plain = _global_id(graphql_type.name, attribute)
            if plain is not None:
                field.extensions[PLAIN_FIELD] = plain
            direct = _direct_resolver(field.resolve, definition)
            if direct is None:
                called = _called_resolver(field, definition, info_class)
                if called is not None:
                    field.resolve = called
                continue
            if definition.permission_classes:
                continue
            if not definition.extensions:
                field.resolve = direct
            elif (rules := _rules_only(definition.extensions)) is not None:
                field.resolve = _guarded(rules, direct, field.resolve)


def _direct_resolver(resolve: Any, definition: Any) -> Resolver | None:
    """A graphql-core resolver doing what the field's Strawberry resolver does, without its
    wrappers: reading an attribute, or a ``related`` field's target (marked, for plans)."""
    direct: Resolver | None = None
    if getattr(resolve, "_is_default", False):
        direct = _attribute(definition.python_name)
    else:
        resolver = definition.base_resolver
        link = link_of(resolver.wrapped_func) if resolver is not None else None
        direct = direct_resolver(link) if link is not None else None
    if direct is not None:
        setattr(direct, DIRECT_RESOLVER, True)
    return direct


# Scalars graphql-core hands over as the Python values Strawberry would convert them to.
_UNCONVERTED_SCALARS = frozenset({"String", "ID", "Int", "Float", "Boolean"})
# The Python types of an input's fields that Strawberry hands on as graphql-core parsed them.
_LEAF_TYPES: frozenset[object] = frozenset(
    {str, int, float, bool, strawberry.ID, dt.date, dt.datetime, dt.time, decimal.Decimal}
    | {uuid.UUID}
)

# An argument's Python name and how its value becomes what Strawberry would pass (None: as is).
Argument = tuple[str, Callable[[Any], Any] | None]


def _flat_input(kind: GraphQLInputObjectType, annotation: Any) -> Callable[[Any], Any] | None:
    """How Strawberry converts a value of the input type ``kind`` (``annotation``, its Python
    type, optional or not), when every field is a leaf it hands on as graphql-core parsed it (a
    built-in scalar, a date or time, an enum): the input class built with the fields given, the
    others left to their defaults. None for anything else (nested inputs, lists, ``Maybe``, a
    global id, custom scalars, an input that builds itself), which keeps Strawberry's path."""
    if isinstance(annotation, StrawberryMaybe):
        return None
    if isinstance(annotation, StrawberryOptional):
        annotation = annotation.of_type
    if not isinstance(annotation, type) or not has_object_definition(annotation):
        return None
    owner = annotation.__strawberry_definition__
    if not owner.is_input or owner.from_input is not None:
        return None
    fields: list[tuple[str, str]] = []
    for name, input_field in kind.fields.items():
        definition = (input_field.extensions or {}).get("strawberry-definition")
        if definition is None:
            return None
        python_type = definition.resolve_type(type_definition=owner)
        if isinstance(python_type, StrawberryMaybe):
            return None
        if isinstance(python_type, StrawberryOptional):
            python_type = python_type.of_type
        if not (
            python_type in _LEAF_TYPES
            or isinstance(python_type, StrawberryEnumDefinition)
            or has_enum_definition(python_type)
        ):
            return None
        fields.append((name, definition.python_name))
    built = annotation

    def convert(value: Any) -> Any:
        if value is None:
            return None
        return built(**{python: value[name] for name, python in fields if name in value})

    return convert


def _arguments(field: GraphQLField) -> dict[str, Argument] | None:
    """The field's arguments by GraphQL name, when Strawberry's conversion of each is known here
    (built-in scalars and lists of them as they are; an input of leaves, ``_flat_input``); None
    otherwise."""
    arguments: dict[str, Argument] = {}
    for name, argument in field.args.items():
        definition = (argument.extensions or {}).get("strawberry-definition")
        if definition is None:
            return None
        kind = get_nullable_type(argument.type)
        if isinstance(kind, GraphQLInputObjectType):
            convert = _flat_input(kind, definition.type)
            if convert is None:
                return None
            arguments[name] = (definition.python_name, convert)
            continue
        while isinstance(kind, (GraphQLNonNull, GraphQLList)):
            kind = kind.of_type
        if not isinstance(kind, GraphQLScalarType) or kind.name not in _UNCONVERTED_SCALARS:
            return None
        arguments[name] = (definition.python_name, None)
    return arguments


def _called_resolver(
    field: GraphQLField, definition: Any, info_class: type[Any]
) -> Resolver | None:
    """A field's own resolver called as Strawberry calls it, without its wrappers: the source as
    ``self`` (or ``root``/``parent``), Strawberry's ``Info`` as ``info``, the arguments by their
    Python names, converted as Strawberry converts them (``_arguments``). Only for a field
    Strawberry would call with nothing more (no permission classes, not a subscription) and with
    no extension but ``@requires``: its rules are decided first, as ``@requires`` decides them,
    and a caller they do not all admit takes the usual path, which denies as before."""
    resolver = definition.base_resolver
    rules = _rules_only(definition.extensions) if definition.extensions else ()
    if (
        resolver is None
        or rules is None
        or definition.permission_classes
        or definition.is_subscription
    ):
        return None
    arguments = _arguments(field)
    if arguments is None:
        return None
    function = resolver.wrapped_func
    if not callable(function):
        return None
    takes_self = resolver.self_parameter is not None
    parent = resolver.parent_parameter.name if resolver.parent_parameter else None
    root = resolver.root_parameter.name if resolver.root_parameter else None
    info_name = resolver.info_parameter.name if resolver.info_parameter else None

    def resolve(source: Any, info: GraphQLResolveInfo[Any], **given: Any) -> Any:
        keywords: dict[str, Any] = {}
        for name, value in given.items():
            python, convert = arguments[name]
            keywords[python] = value if convert is None else convert(value)
        if parent is not None:
            keywords[parent] = source
        if root is not None:
            keywords[root] = source
        if info_name is not None:
            keywords[info_name] = info_class(_raw_info=info, _field=definition)
        if takes_self:
            return function(source, **keywords)
        return function(**keywords)

    if not rules:
        return resolve
    usual = field.resolve
    assert usual is not None  # Strawberry gives every field its resolver

    def resolve_allowed(source: Any, info: Any, **given: Any) -> Any:
        if all(decide(info, rule) for rule in rules):
            return resolve(source, info, **given)
        return usual(source, info, **given)

    return resolve_allowed


def _attribute(name: str) -> Resolver:
    def resolve(source: Any, info: Any) -> Any:
        return getattr(source, name)

    return resolve


def _rules_only(extensions: list[Any]) -> tuple[Rule, ...] | None:
    """The rules of a field whose only extension is ``@requires``; None for anything else."""
    if len(extensions) != 1 or not isinstance(extensions[0], PermissionExtension):
        return None
    rules = [p.rule for p in extensions[0].permissions if isinstance(p, Requires)]
    if not rules or len(rules) != len(extensions[0].permissions):
        return None
    return tuple(rules)


def _guarded(rules: tuple[Rule, ...], allowed: Resolver, usual: Resolver) -> Resolver:
    """``allowed`` when every rule admits the caller (decided once per request and rule, as
    ``@requires`` does); otherwise the usual path, which denies exactly as before (audit,
    ``extensions.code``, a caller's own record)."""

    if len(rules) == 1:
        (rule,) = rules

        def resolve_one(source: Any, info: Any, **kwargs: Any) -> Any:
            if decide(info, rule):
                return allowed(source, info)
            return usual(source, info, **kwargs)

        setattr(resolve_one, GUARD, (rules, allowed))
        return resolve_one

    def resolve(source: Any, info: Any, **kwargs: Any) -> Any:
        if all(decide(info, rule) for rule in rules):
            return allowed(source, info)
        return usual(source, info, **kwargs)

    setattr(resolve, GUARD, (rules, allowed))
    return resolve


def _plain_node_id(owner: StrawberryObjectDefinition) -> bool:
    """A relay node whose id is its own attribute, named by its own type (no override)."""
    origin = owner.origin
    return (
        isinstance(origin, type)
        and issubclass(origin, Node)
        and origin.resolve_id.__func__ is Node.resolve_id.__func__  # type: ignore[attr-defined]
        and origin.resolve_typename.__func__ is Node.resolve_typename.__func__  # type: ignore[attr-defined]
    )


class PortalExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, answering marked fields directly (see the module)."""

    def __init__(
        self, *args: Any, plans: dict[Any, Plan | None] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # An extension with a per-field hook (tracing) must see every field.
        self._direct = manager is None or not getattr(manager, "middlewares", ())
        # The document's completion plans (schema/plans.py), when the pipeline keeps them.
        self._plans = plans if self._direct else None

    # graphql-core keeps the helpers its resolve infos hand out (bound methods of the context)
    # on the context itself: a reference cycle that would keep each request's context, and
    # through it its loaders and rows, until the cyclic collector's next full collection. They
    # are made when a resolve info asks for them instead.
    @property
    def async_helpers(self) -> GraphQLResolveInfoHelpers:
        return GraphQLResolveInfoHelpers(gather=self.gather_async_work, track=self.track_async_work)

    @async_helpers.setter
    def async_helpers(self, value: GraphQLResolveInfoHelpers) -> None:
        """Set by graphql-core's constructor: nothing to keep (see the getter)."""

    def complete_object_value(
        self,
        return_type: GraphQLObjectType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> AwaitableOrValue[dict[str, Any]]:
        plans = self._plans
        if plans is not None:
            key = plan_key(return_type, field_details_list)
            plan = plans.get(key, ABANDONED)
            if plan is ABANDONED:
                plan = plans[key] = compile_plan(
                    return_type,
                    field_details_list,
                    collect=self.collect_subfields,
                    fragments=self.fragments,
                    plain_key=PLAIN_FIELD,
                )
            if plan is not None and (
                return_type.is_type_of is None or return_type.is_type_of(result, info)
            ):
                try:
                    completed = run_plan(plan, result, info, decide, self.is_awaitable)
                except Exception:
                    completed = ABANDONED
                if completed is not ABANDONED:
                    return completed  # type: ignore[no-any-return]
        return super().complete_object_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def handle_field_error(
        self,
        raw_error: Exception,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        path: Path,
    ) -> None:
        # A PortalError (a denied field, say) is an answer to the caller, not a fault: nothing
        # reads its traceback, which would keep the frames that raised it, and through their
        # locals the error itself, alive as a reference cycle (a Basic user's page of 50
        # documents left 7,000 such objects for the cyclic collector).
        original = getattr(raw_error, "original_error", None) or raw_error
        if isinstance(original, PortalError):
            original.__traceback__ = None
            raw_error.__traceback__ = None
        super().handle_field_error(raw_error, return_type, field_details_list, path)

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: FieldDetailsList,
        path: Path,
        position_context: Any,
    ) -> AwaitableOrValue[Any] | UndefinedType:
        if self._direct:
            node = field_details_list[0].node
            field = parent_type.fields.get(node.name.value)
            plain = field.extensions.get(PLAIN_FIELD) if field is not None else None
            if plain is not None and not node.arguments:
                try:
                    value = plain.read(source)
                    if value is None:
                        if not plain.non_null:
                            return None
                    else:
                        result = plain.serialize(value)
                        if result is not Undefined and result is not None:
                            return result
                except Exception:  # noqa: S110 - the usual path reports it properly
                    pass
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )
