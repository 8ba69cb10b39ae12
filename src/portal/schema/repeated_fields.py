"""Refuse an operation that selects the same field over and over in one place.

``{ viewer { email email email ... } }`` answers one ``email``: the copies are merged, but every
pair of them is compared first (the overlapping-fields rule is quadratic), so repeating a field
hundreds of times costs the server work for nothing ("field duplication"). More than
``MAX_REPEATS`` selections of one response name in one selection set are refused with
QUERY_TOO_COMPLEX before validation starts. Fragments spread beside a field do not count: a
client's generated fragments often select ``id`` or ``__typename`` again."""

from __future__ import annotations

from collections import Counter
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

from portal.resolvers.errors import ErrorCode, PortalError

MAX_REPEATS = 10


class QueryTooComplex(PortalError):
    code = ErrorCode.QUERY_TOO_COMPLEX


def most_repeated(document: DocumentNode) -> tuple[str, int] | None:
    """The response name selected most often in one selection set, and how often."""
    worst: tuple[str, int] | None = None
    pending: list[SelectionSetNode] = [
        definition.selection_set
        for definition in document.definitions
        if isinstance(definition, (OperationDefinitionNode, FragmentDefinitionNode))
    ]
    while pending:
        selection_set = pending.pop()
        names: Counter[str] = Counter()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                names[(selection.alias or selection.name).value] += 1
                if selection.selection_set is not None:
                    pending.append(selection.selection_set)
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
        if names:
            name, count = names.most_common(1)[0]
            if worst is None or count > worst[1]:
                worst = (name, count)
    return worst


class RepeatedFieldLimit(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        document = self.execution_context.graphql_document
        if document is not None:
            found = most_repeated(document)
            if found is not None and found[1] > MAX_REPEATS:
                name, count = found
                raise QueryTooComplex(
                    f"`{name}` is selected {count} times in one place; select it once "
                    f"(at most {MAX_REPEATS} times)."
                )
        yield
