"""Relay groundwork: global ids, ``node``/``nodes``, and cursor connections with ``totalCount``."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, ClassVar, Generic, Self, TypeVar

import strawberry
from strawberry import relay

from portal.resolvers.errors import BadUserInput
from portal.resolvers.pagination import MAX_PAGE_SIZE, Page, PageRequest
from portal.schema.context import Info
from portal.schema.permissions import Rule, decide
from portal.schema.related import (
    RowsStatement,
    fetch_with_related,
    fields_named,
    preload,
    selections_under,
)

NodeT = TypeVar("NodeT")
RowT = TypeVar("RowT")

_NODE_TYPES: dict[str, type[PortalNode]] = {}


class PortalNode(relay.Node):
    """A Node whose rows are loaded by id through the request's tenant-scoped loaders.

    ``load`` must apply exactly the authorization of the typed fields: ``node(id:)`` and
    ``nodes(ids:)`` answer only what it answers, and another tenant's id looks unknown."""

    # Who may read this type at all; rows are then scoped to the caller by ``fetch_rows``.
    node_rule: ClassVar[Rule]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _NODE_TYPES[cls.__name__] = cls

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        """The rows for ``ids`` in order, None where the caller's scope has none."""
        raise NotImplementedError

    @classmethod
    def rows_statement(cls, info: Info, ids: Sequence[uuid.UUID]) -> RowsStatement | None:
        """``fetch_rows`` as one statement, so ``node``/``nodes`` read the rows and their first
        level of related objects in one round trip; None (the default): ``fetch_rows``."""
        return None

    @classmethod
    def rows_read(cls, info: Info, rows: Sequence[Any | None]) -> Sequence[Any | None]:
        """Called with the rows ``rows_statement`` read (a PHI node records the read)."""
        return rows

    @classmethod
    def from_row(cls, row: Any) -> Self:
        raise NotImplementedError

    @classmethod
    async def load(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Self | None]:
        if not decide(info, cls.node_rule):
            return [None] * len(ids)
        selections = selections_under(info)
        statement = cls.rows_statement(info, ids)
        if statement is not None:
            found = await fetch_with_related(info, cls, ids, statement, selections)
            rows = cls.rows_read(info, found)
        else:
            rows = await cls.fetch_rows(info, ids)
        nodes = [cls.from_row(row) if row is not None else None for row in rows]
        # What the caller selected below ``node``/``nodes`` is loaded ahead (schema/related.py).
        await preload(info, nodes, selections)
        return nodes

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        ids = [_uuid_or_none(node_id) for node_id in node_ids]
        valid = [i for i in ids if i is not None]
        loaded = dict(zip(valid, await cls.load(info, valid), strict=True)) if valid else {}
        return [loaded.get(i) if i is not None else None for i in ids]


def _uuid_or_none(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def decode_global_id(
    value: str, *, field: str = "id", expected: type[PortalNode] | None = None
) -> uuid.UUID:
    """The row id inside a global id; a malformed id is bad input, a wrong type is unknown."""
    try:
        global_id = relay.GlobalID.from_id(value)
    except Exception as error:  # strawberry raises several types for undecodable ids
        raise BadUserInput(f"`{field}` is not a valid id.", field=field) from error
    row_id = _uuid_or_none(global_id.node_id)
    if row_id is None or global_id.type_name not in _NODE_TYPES:
        raise BadUserInput(f"`{field}` is not a valid id.", field=field)
    if expected is not None and global_id.type_name != expected.__name__:
        raise BadUserInput(f"`{field}` is not the id of a {expected.__name__}.", field=field)
    return row_id


def global_id(node_type: type[PortalNode], row_id: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(str(relay.GlobalID(node_type.__name__, str(row_id))))


async def resolve_node(info: Info, value: str) -> PortalNode | None:
    nodes = await resolve_nodes(info, [value])
    return nodes[0]


async def resolve_nodes(info: Info, values: Sequence[str]) -> list[PortalNode | None]:
    if len(values) > MAX_PAGE_SIZE:
        raise BadUserInput(f"Ask for at most {MAX_PAGE_SIZE} ids at once.", field="ids")
    parsed: list[tuple[str, uuid.UUID]] = []
    for value in values:
        decode_global_id(value, field="ids" if len(values) > 1 else "id")
        gid = relay.GlobalID.from_id(value)
        parsed.append((gid.type_name, uuid.UUID(gid.node_id)))
    by_type: dict[str, list[uuid.UUID]] = {}
    for type_name, row_id in parsed:
        by_type.setdefault(type_name, []).append(row_id)
    found: dict[tuple[str, uuid.UUID], PortalNode | None] = {}
    for type_name, ids in by_type.items():
        node_type = _NODE_TYPES[type_name]
        for row_id, node in zip(ids, await node_type.load(info, ids), strict=True):
            found[(type_name, row_id)] = node
    return [found[key] for key in parsed]


@strawberry.type(description="Where a page sits in the whole list.")
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type(description="A node and the cursor that points at it.")
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type(description="One page of a list, with cursors to the next and previous pages.")
class Connection(Generic[NodeT]):
    page_info: PageInfo
    page_edges: strawberry.Private[list[Edge[NodeT]]]
    _count: strawberry.Private[Callable[[], Awaitable[int]]]

    @strawberry.field
    async def edges(self, info: Info) -> list[Edge[NodeT]]:
        # The nested objects of the whole page are loaded here, ahead (schema/related.py).
        await preload(info, [edge.node for edge in self.page_edges], selections_under(info, "node"))
        return self.page_edges

    @strawberry.field(description="How many items the whole list holds (every page).")
    async def total_count(self) -> int:
        return await self._count()

    @strawberry.field(description="The nodes of this page, for clients that need no cursors.")
    async def nodes(self, info: Info) -> list[NodeT]:
        nodes = [edge.node for edge in self.page_edges]
        await preload(info, nodes, selections_under(info))
        return nodes


def asks_total_count(info: Info) -> bool:
    """Whether the connection field being resolved selects ``totalCount`` (through fragments
    too), so its resolver can count in the page's own statement."""
    return bool(fields_named(info, selections_under(info), "totalCount"))


def to_connection(page: Page[RowT], convert: Callable[[RowT], NodeT]) -> Connection[NodeT]:
    edges = [
        Edge(cursor=cursor, node=convert(item))
        for item, cursor in zip(page.items, page.cursors, strict=True)
    ]
    return Connection(
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        page_edges=edges,
        _count=page.count,
    )


def page_request(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> PageRequest:
    return PageRequest(first=first, after=after, last=last, before=before)
