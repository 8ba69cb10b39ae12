"""Who may look at the schema itself.

Introspection (``__schema``, ``__type``) and the "Did you mean ...?" field suggestions of
validation errors describe the whole API surface. Anonymous callers get neither, in every
environment; in production only staff do (GraphiQL is their tool). ``__typename`` is not
introspection and is always answered."""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

from portal.auth.principal import PrincipalKind
from portal.resolvers.errors import Forbidden, Unauthenticated

INTROSPECTION_FIELDS = frozenset({"__schema", "__type"})
_SUGGESTION = re.compile(r"\s*Did you mean [^?]*\?")


def may_introspect(context: object) -> bool:
    principal = getattr(context, "principal", None)
    settings = getattr(context, "settings", None)
    if principal is None or not principal.is_authenticated:
        return False
    production = bool(getattr(settings, "is_production", False))
    return not production or principal.kind is PrincipalKind.STAFF


def without_suggestions(message: str) -> str:
    return _SUGGESTION.sub("", message)


def asks_introspection(document: DocumentNode) -> bool:
    return any(field in INTROSPECTION_FIELDS for field in _field_names(document))


def _field_names(document: DocumentNode) -> Iterator[str]:
    pending: list[SelectionSetNode] = [
        definition.selection_set
        for definition in document.definitions
        if isinstance(definition, (OperationDefinitionNode, FragmentDefinitionNode))
    ]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                yield selection.name.value
                if selection.selection_set is not None:
                    pending.append(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)


class IntrospectionPolicy(SchemaExtension):
    """Refuses an introspection query from a caller who may not introspect, before validation."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context.context
        document = self.execution_context.graphql_document
        if document is not None and asks_introspection(document) and not may_introspect(context):
            principal = getattr(context, "principal", None)
            if principal is None or not principal.is_authenticated:
                raise Unauthenticated("Sign in to read the schema.")
            raise Forbidden("Reading the schema is for the provider's staff.")
        yield
