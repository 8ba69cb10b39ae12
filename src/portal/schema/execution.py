"""The execution path: graphql-core's executor, with plain fields answered without ceremony.

Most fields of a page are read straight off an object: a document's name, a visit's status, a
node's global id. Through Strawberry each one gets a resolver, and graphql-core builds a resolve
info, runs the resolver through Strawberry's wrappers, then completes and serialises the value:
some thirty calls a field, 1,400 fields on a page of 50 documents with five nested objects.

When the schema is built, ``mark_plain_fields`` marks every field that does nothing but read an
attribute: a leaf (scalar or enum) without a resolver, extensions (``@requires``), permission
classes or arguments of its own, and a node's ``id`` (the global id of the node's own type); and
it gives each unguarded ``related`` field (schema/related.py) a plain graphql-core resolver. While
no schema extension wraps every field (tracing does), ``PortalExecutionContext`` answers those by
reading the attribute and serialising it, exactly what the usual path computes; anything unusual
(a null where none may be, a value that does not serialise, a missing attribute) goes the usual
way, so errors stay the same. Every other field (related objects, connections, guarded fields,
mutations) runs as before."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLSchema,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import AwaitableOrValue, Path, Undefined, UndefinedType
from strawberry.relay import Node
from strawberry.relay.utils import to_base64
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types.base import StrawberryObjectDefinition

from portal.schema.related import direct_resolver, link_of

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


def mark_plain_fields(schema: GraphQLSchema) -> None:
    """Mark, once, the fields ``PortalExecutionContext`` may answer directly."""
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        owner = (graphql_type.extensions or {}).get("strawberry-definition")
        for name, field in graphql_type.fields.items():
            definition = (field.extensions or {}).get("strawberry-definition")
            if definition is None or field.args:
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
            resolver = definition.base_resolver
            link = link_of(resolver.wrapped_func) if resolver is not None else None
            if link is not None and not definition.extensions and not definition.permission_classes:
                field.resolve = direct_resolver(link)


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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        # An extension with a per-field hook (tracing) must see every field.
        self._direct = manager is None or not getattr(manager, "middlewares", ())

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
