"""Objects reached from another object by its foreign key, loaded ahead for a whole page.

A field declared with ``related(...)`` (a document's ``employee``, a visit's ``location``) names
the request loader that reads the target by id and the parent attribute holding that id. Its
resolver is synchronous: it answers from the rows already loaded, so a page of 50 documents with
five nested objects costs no coroutine, no task and no loader round per nested object.

The loading happens ahead, once per list: whoever hands graphql-core a list of objects (a
connection's ``edges`` and ``nodes``, ``node``/``nodes``) calls ``preload`` with the selection
below it. ``preload`` walks that selection (fragments and aliases included), gathers the ids
every selected ``related`` field needs over the whole list and loads each level in one statement
(``load_together``: the targets' statements, which apply the caller's scope exactly as a
field-by-field read would, as columns of one SELECT), then descends into the targets' own
``related`` fields. ``node``/``nodes`` of a type with a statement form read the rows and their
first level together (``fetch_with_related``). When nothing was loaded ahead (a path no list
preloaded), the field falls back to its loader and graphql-core awaits it.

What the caller reads is decided as before: the field's ``@requires`` extension runs before the
resolver, and the PHI audit is recorded when a row becomes a node (``build``), not when it is
loaded ahead."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

import sqlalchemy as sa
import strawberry
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLResolveInfo,
    InlineFragmentNode,
    SelectionNode,
    is_abstract_type,
)
from strawberry.types.base import has_object_definition

from portal.resolvers.loaders import Loaders
from portal.resolvers.loading import BatchLoader, in_key_order, load_together, load_with_related
from portal.schema.context import Info

__all__ = ["Related", "audited_target", "plain_target", "preload", "related"]

Selection = SelectionNode
RowT = TypeVar("RowT")
NodeT = TypeVar("NodeT")

# How deep ``preload`` follows related objects (a document's visit's employee's location is 3).
MAX_DEPTH = 4


@dataclass(frozen=True, eq=False)
class Related(Generic[RowT, NodeT]):
    """A target type reached by id: the loader that reads it (an attribute of ``Loaders``), the
    node a row becomes (with its read audited, for PHI), and the node type, whose own
    ``related`` fields ``preload`` follows (reading their keys off ``node.from_row``, no audit:
    nothing is answered yet); None for a type without any."""

    loader: Callable[[Loaders], BatchLoader[uuid.UUID, RowT | None]]
    build: Callable[[Info, RowT], NodeT]
    node: Any = None

    def resolve(self, info: Info, key: uuid.UUID | None) -> NodeT | Awaitable[NodeT | None] | None:
        if key is None:
            return None
        loader = self.loader(info.context.loaders)
        found, row = loader.peek(key)
        if found:
            return self.build(info, row) if row is not None else None
        return self._load(info, loader, key)

    async def _load(
        self, info: Info, loader: BatchLoader[uuid.UUID, RowT | None], key: uuid.UUID
    ) -> NodeT | None:
        row = await loader.load(key)
        return self.build(info, row) if row is not None else None


def plain_target(
    loader: Callable[[Loaders], BatchLoader[uuid.UUID, RowT | None]], node: Any
) -> Related[RowT, Any]:
    """A target holding no PHI (a catalog entry, a location): its node is built from the row."""
    return Related(loader=loader, build=lambda _info, row: node.from_row(row), node=node)


def audited_target(
    loader: Callable[[Loaders], BatchLoader[uuid.UUID, RowT | None]], node: Any
) -> Related[RowT, Any]:
    """A target holding PHI: answering it records the read (``PhiNode.read``)."""
    return Related(loader=loader, build=node.read, node=node)


@dataclass(frozen=True)
class _Link:
    target: Related[Any, Any]
    key: str


# The ``related`` fields by strawberry type and GraphQL field name, filled as types are read.
_LINKS: dict[type, dict[str, _Link]] = {}


def related(target: Related[Any, Any], *, key: str, **field_options: Any) -> Any:
    """A field answering ``target`` by the id in the parent's attribute ``key``; declare it as
    ``employee: Employee | None = related(EMPLOYEE, key="employee_id", description=...)``.
    ``field_options`` go to ``strawberry.field`` (description, extensions)."""

    def resolve(root: Any, info: Info) -> Any:
        return target.resolve(info, getattr(root, key))

    resolve.__portal_link__ = _Link(target=target, key=key)  # type: ignore[attr-defined]
    return strawberry.field(resolver=resolve, **field_options)


def link_of(resolver: object) -> _Link | None:
    """The link a ``related`` field's resolver answers, if it is one."""
    link = getattr(resolver, "__portal_link__", None)
    return link if isinstance(link, _Link) else None


def direct_resolver(link: _Link) -> Callable[[Any, GraphQLResolveInfo[Any]], Any]:
    """A graphql-core resolver for a ``related`` field without extensions: the target reads
    only ``info.context`` (its loaders, the audit), which graphql-core's resolve info carries,
    so no Strawberry ``Info`` nor wrapper is built per field."""
    target, key = link.target, link.key

    def resolve(source: Any, info: GraphQLResolveInfo[Any]) -> Any:
        return target.resolve(cast("Info", info), getattr(source, key))

    return resolve


def _links_of(info: Info, owner: type) -> dict[str, _Link]:
    links = _LINKS.get(owner)
    if links is None:
        links = {}
        if has_object_definition(owner):
            convert = info.schema.config.name_converter
            for field in owner.__strawberry_definition__.fields:
                resolver = field.base_resolver
                link = link_of(resolver.wrapped_func) if resolver else None
                if link is not None:
                    links[convert.get_graphql_name(field)] = link
        _LINKS[owner] = links
    return links


def _type_matches(info: Info, owner: type, condition: str | None) -> bool:
    if condition is None or not has_object_definition(owner):
        return True
    name = owner.__strawberry_definition__.name
    if condition == name:
        return True
    schema = info._raw_info.schema
    abstract = schema.get_type(condition)
    concrete = schema.get_type(name)
    return (
        abstract is not None
        and is_abstract_type(abstract)
        and isinstance(concrete, GraphQLObjectType)
        and schema.is_sub_type(abstract, concrete)
    )


def _fields_of(info: Info, owner: type, selections: Iterable[Selection]) -> list[FieldNode]:
    """The fields selected on objects of type ``owner`` (fragments that apply to it expanded).
    Read off the operation's syntax tree (cheaper than Strawberry's ``selected_fields``, which
    converts arguments and directives too); a field skipped by ``@skip``/``@include`` may be
    loaded ahead for nothing, never answered."""
    fields: list[FieldNode] = []
    for selection in selections:
        if isinstance(selection, FieldNode):
            fields.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition.name.value if selection.type_condition else None
            if _type_matches(info, owner, condition):
                fields.extend(_fields_of(info, owner, selection.selection_set.selections))
        elif isinstance(selection, FragmentSpreadNode):
            fragment = info._raw_info.fragments.get(selection.name.value)
            if fragment is not None and _type_matches(
                info, owner, fragment.type_condition.name.value
            ):
                fields.extend(_fields_of(info, owner, fragment.selection_set.selections))
    return fields


def _below(field: FieldNode) -> Sequence[Selection]:
    return field.selection_set.selections if field.selection_set is not None else ()


def fields_named(info: Info, selections: Iterable[Selection], name: str) -> list[FieldNode]:
    """The fields called ``name`` among ``selections``, through fragments of any type."""
    found: list[FieldNode] = []
    for selection in selections:
        if isinstance(selection, FieldNode):
            if selection.name.value == name:
                found.append(selection)
        elif isinstance(selection, InlineFragmentNode):
            found.extend(fields_named(info, selection.selection_set.selections, name))
        elif isinstance(selection, FragmentSpreadNode):
            fragment = info._raw_info.fragments.get(selection.name.value)
            if fragment is not None:
                found.extend(fields_named(info, fragment.selection_set.selections, name))
    return found


def selections_under(info: Info, *path: str) -> list[Selection]:
    """The selections below ``path`` inside the field being resolved (``"node"`` below a
    connection's ``edges``), merged across aliases and fragments."""
    level: list[Selection] = [
        selection for field in info._raw_info.field_nodes for selection in _below(field)
    ]
    for name in path:
        level = [
            selection for field in fields_named(info, level, name) for selection in _below(field)
        ]
    return level


async def preload(info: Info, parents: Sequence[Any], selections: Sequence[Selection]) -> None:
    """Load, in one batch per target type and level, every object the ``related`` fields in
    ``selections`` will answer for ``parents`` (objects of one or several strawberry types)."""
    level: list[tuple[Sequence[Any], Sequence[Selection]]] = [(parents, selections)]
    for _ in range(MAX_DEPTH):
        wanted: dict[int, tuple[Related[Any, Any], set[uuid.UUID], list[Selection]]] = {}
        for objects, selected in level:
            for owner, group in _by_type(objects).items():
                links = _links_of(info, owner)
                if not links:
                    continue
                for field in _fields_of(info, owner, selected):
                    link = links.get(field.name.value)
                    if link is None:
                        continue
                    _, keys, below = wanted.setdefault(id(link.target), (link.target, set(), []))
                    keys.update(
                        key for key in (getattr(obj, link.key) for obj in group) if key is not None
                    )
                    below.extend(_below(field))
        if not wanted:
            return
        targets = list(wanted.values())
        loaders = info.context.loaders
        await _load(info, [(target.loader(loaders), keys) for target, keys, _ in targets])
        level = []
        for target, keys, below in targets:
            if below and _selects_related(info, target, below):
                loader = target.loader(info.context.loaders)
                rows = (loader.peek(key)[1] for key in keys)
                level.append(
                    ([target.node.from_row(row) for row in rows if row is not None], below)
                )


def _selects_related(info: Info, target: Related[Any, Any], below: Sequence[Selection]) -> bool:
    """Whether ``below`` selects any ``related`` field of the target's type (else nothing
    further is loaded ahead, and no node is built for it here)."""
    if target.node is None:
        return False
    links = _links_of(info, target.node)
    return bool(links) and any(
        field.name.value in links for field in _fields_of(info, target.node, below)
    )


async def _load(
    info: Info, wanted: Sequence[tuple[BatchLoader[uuid.UUID, Any], set[uuid.UUID]]]
) -> None:
    """Load what is not loaded yet: the loaders that have a statement form together, in one
    round trip (``load_together``: on the driver, plain rows; even one of them, which its loader
    would read as ORM entities), the others each in one batch, concurrently."""
    together: list[tuple[BatchLoader[uuid.UUID, Any], list[uuid.UUID]]] = []
    apart: list[Awaitable[Any]] = []
    for loader, keys in wanted:
        missing = sorted(key for key in keys if not loader.peek(key)[0])
        if not missing:
            continue
        if loader.rows is not None:
            together.append((loader, missing))
        else:
            apart.append(loader.load_many(missing))
    if together:
        found = await load_together(
            info.context.session, [(loader.rows, ids) for loader, ids in together if loader.rows]
        )
        for (loader, ids), values in zip(together, found, strict=True):
            loader.prime(ids, values)
    if apart:
        await asyncio.gather(*apart)


@dataclass(frozen=True)
class RowsStatement:
    """A node type's ``fetch_rows`` as one statement: the rows for the ids asked, visible to the
    caller, and how a result row becomes the row ``from_row`` takes (``loader``, when given, is
    primed with them)."""

    statement: sa.Select[Any]
    # The values of the statement's bound parameters.
    values: dict[str, Any]
    decode: Callable[[Sequence[Any]], Any]
    loader: BatchLoader[uuid.UUID, Any] | None = None


async def fetch_with_related(
    info: Info,
    owner: type,
    ids: Sequence[uuid.UUID],
    rows: RowsStatement,
    selections: Sequence[Selection],
) -> list[Any | None]:
    """The rows for ``ids`` (in order, None where the caller may see none) and, in the same
    round trip, the first level of ``related`` objects selected below them: ``node(id:)`` in
    one statement instead of two. Deeper levels are left to ``preload``."""
    loaders = info.context.loaders
    columns = set(rows.statement.selected_columns.keys())
    wanted: dict[int, tuple[Related[Any, Any], str]] = {}
    links = _links_of(info, owner)
    for field in _fields_of(info, owner, selections):
        link = links.get(field.name.value)
        if link is not None and link.key in columns and link.target.loader(loaders).rows:
            wanted.setdefault(id(link.target), (link.target, link.key))
    targets = list(wanted.values())
    found, related_rows = await load_with_related(
        info.context.session,
        rows.statement,
        rows.values,
        rows.decode,
        [(scoped, key) for target, key in targets if (scoped := target.loader(loaders).rows)],
    )
    for (target, key), loaded in zip(targets, related_rows, strict=True):
        by_id = {row.id: row for row in loaded}
        asked = sorted({value for row in found if (value := getattr(row, key)) is not None})
        target.loader(loaders).prime(asked, [by_id.get(value) for value in asked])
    ordered = in_key_order(ids, found, lambda row: row.id)
    if rows.loader is not None:
        rows.loader.prime(ids, ordered)
    return ordered


def _by_type(objects: Iterable[Any]) -> dict[type, list[Any]]:
    groups: dict[type, list[Any]] = {}
    for obj in objects:
        if obj is not None:
            groups.setdefault(type(obj), []).append(obj)
    return groups
