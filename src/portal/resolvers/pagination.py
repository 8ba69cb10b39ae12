"""Keyset (cursor) pagination over SQL statements: stable under inserts, no OFFSET scans."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any, Generic, TypeVar

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models.driver import fetch_all
from portal.resolvers.errors import BadUserInput

MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 20

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SortKey:
    """One ordering column; the last key of a sort must be unique (the primary key)."""

    column: Any
    descending: bool = False
    python_type: type = str


@dataclass(frozen=True, slots=True)
class PageRequest:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    def __post_init__(self) -> None:
        if self.first is not None and self.last is not None:
            raise BadUserInput("Pass either `first` or `last`, not both.", field="first")
        for name in ("first", "last"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise BadUserInput(f"`{name}` must not be negative.", field=name)
            if value is not None and value > MAX_PAGE_SIZE:
                raise BadUserInput(
                    f"`{name}` must be at most {MAX_PAGE_SIZE}; "
                    "page through larger results with cursors.",
                    field=name,
                )

    @property
    def backward(self) -> bool:
        return self.last is not None or (self.before is not None and self.first is None)

    @property
    def size(self) -> int:
        size = self.last if self.backward else self.first
        return DEFAULT_PAGE_SIZE if size is None else size


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool
    count: Callable[[], Awaitable[int]]


def encode_cursor(values: Sequence[Any]) -> str:
    # orjson writes ids, times, dates and enums as ``_encode_value`` does, at C speed; the rest
    # (the driver's own uuid type, say) goes through it.
    payload = orjson.dumps(
        values if isinstance(values, (list, tuple)) else list(values), default=_encode_value
    )
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(cursor: str, keys: Sequence[SortKey], *, field: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(raw, list) or len(raw) != len(keys):
            raise ValueError("wrong shape")
        return [_decode_value(value, key.python_type) for value, key in zip(raw, keys, strict=True)]
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as error:
        raise BadUserInput(
            f"`{field}` is not a valid cursor for this list.", field=field
        ) from error


def _encode_value(value: Any) -> Any:
    if isinstance(value, (uuid.UUID, datetime, date)):
        return str(value) if isinstance(value, uuid.UUID) else value.isoformat()
    if hasattr(value, "value"):  # enums
        return value.value
    return value


def _decode_value(value: Any, python_type: type) -> Any:
    if python_type is uuid.UUID:
        return uuid.UUID(str(value))
    if python_type is datetime:
        return datetime.fromisoformat(str(value))
    if python_type is date:
        return date.fromisoformat(str(value))
    if python_type is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError("expected an integer")
        return value
    if python_type is bool:
        if not isinstance(value, bool):
            raise TypeError("expected a boolean")
        return value
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value


def _seek(
    keys: Sequence[SortKey], values: Sequence[Any], *, forward: bool
) -> sa.ColumnElement[bool]:
    """Rows strictly after ``values`` in the sort order (or before, when not forward)."""
    clauses: list[sa.ColumnElement[bool]] = []
    for index, key in enumerate(keys):
        goes_up = key.descending != forward  # ascending-forward or descending-backward
        comparison = key.column > values[index] if goes_up else key.column < values[index]
        equal_prefix = [keys[i].column == values[i] for i in range(index)]
        clauses.append(sa.and_(*equal_prefix, comparison))
    return sa.or_(*clauses)


def _order(keys: Sequence[SortKey], *, forward: bool) -> list[Any]:
    return [key.column.desc() if key.descending == forward else key.column.asc() for key in keys]


def _count_of(statement: sa.Select[Any]) -> sa.ScalarSelect[Any]:
    """How many rows ``statement`` selects."""
    return (
        sa.select(sa.func.count())
        .select_from(statement.order_by(None).subquery())
        .scalar_subquery()
    )


@dataclass(frozen=True)
class _PageStatement:
    statement: sa.Select[Any]
    seek: tuple[sa.BindParameter[Any], ...]
    limit: sa.BindParameter[int]
    count: sa.Select[Any]


@lru_cache(maxsize=256)
def _prebuilt_page(
    statement: sa.Select[Any],
    keys: tuple[SortKey, ...],
    forward: bool,
    seeks: bool,
    counted: bool,
    counting: sa.Select[Any] | None = None,
) -> _PageStatement:
    """The page statement for a statement built once (``reusable``), with the cursor's values
    and the page size as bound parameters: built once per shape of page."""
    seek = tuple(
        sa.bindparam(f"_seek{index}", type_=key.column.type) for index, key in enumerate(keys)
    )
    limit = sa.bindparam("_limit", type_=sa.Integer())
    page = statement
    if seeks:
        page = page.where(_seek(keys, seek, forward=forward))
    page = page.add_columns(*(key.column.label(f"_k{i}") for i, key in enumerate(keys)))
    page = page.order_by(*_order(keys, forward=forward))
    counted_rows = statement if counting is None else counting
    if counted:
        page = page.add_columns(_count_of(counted_rows).label("_total"))
    return _PageStatement(
        statement=page.limit(limit),
        seek=seek,
        limit=limit,
        count=sa.select(_count_of(counted_rows)),
    )


async def paginate(
    *,
    session: AsyncSession,
    statement: sa.Select[Any],
    keys: Sequence[SortKey],
    request: PageRequest,
    convert: Callable[[Any], T],
    count_with_page: bool = False,
    parameters: Mapping[str, Any] | None = None,
    reusable: bool = False,
    counting: sa.Select[Any] | None = None,
) -> Page[T]:
    """Run ``statement`` for one page. ``statement`` selects the rows (ORM entities or row tuples)
    with its filters applied and no ORDER BY; ``convert`` turns each row into the node.

    With ``count_with_page`` (the caller knows the total will be asked for) the page's statement
    also carries the whole list's count, as an uncorrelated scalar subquery PostgreSQL computes
    once: one round trip instead of two. An empty page still counts on its own when asked.

    ``reusable``: ``statement`` is built once per process (its values as bound parameters, given
    in ``parameters``), so the page statement around it is built once too, per shape of page.

    ``counting``: a statement selecting exactly the rows of ``statement`` (one row each) that is
    cheaper to count (fewer joins, no columns): the total counts it instead (built once too when
    ``reusable``)."""
    forward = not request.backward
    cursor_text = request.before if request.backward else request.after
    cursor_field = "before" if request.backward else "after"
    size = request.size
    counted = count_with_page and size > 0
    values: dict[str, Any] = dict(parameters or {})
    values_for_cursor = (
        decode_cursor(cursor_text, keys, field=cursor_field) if cursor_text is not None else None
    )
    counted_rows = statement if counting is None else counting
    if reusable:
        prebuilt = _prebuilt_page(
            statement, tuple(keys), forward, values_for_cursor is not None, counted, counting
        )
        page_statement = prebuilt.statement
        count_statement = prebuilt.count
        values[prebuilt.limit.key] = size + 1
        for parameter, value in zip(prebuilt.seek, values_for_cursor or (), strict=False):
            values[parameter.key] = value
    else:
        page_statement = statement
        if values_for_cursor is not None:
            page_statement = page_statement.where(_seek(keys, values_for_cursor, forward=forward))
        key_columns = [key.column.label(f"_k{i}") for i, key in enumerate(keys)]
        page_statement = page_statement.add_columns(*key_columns).order_by(
            *_order(keys, forward=forward)
        )
        if counted:
            page_statement = page_statement.add_columns(_count_of(counted_rows).label("_total"))
        page_statement = page_statement.limit(size + 1)
        count_statement = sa.select(_count_of(counted_rows))

    rows: list[Any] = []
    if size > 0:
        # A page statement built once goes to the driver when it may (``portal.models.driver``).
        ran, rows = await fetch_all(session, page_statement, values) if reusable else (False, [])
        if not ran:
            rows = list((await session.execute(page_statement, values)).all())
    total: int | None = int(rows[0][-1]) if counted and rows else None
    has_more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    width = len(keys)
    end = -1 if counted else None  # the total, after the sort keys
    rows = [row[:end] for row in rows] if counted else rows
    items = [convert(row[0] if len(row) - width == 1 else row[: len(row) - width]) for row in rows]
    cursors = [encode_cursor(row[len(row) - width :]) for row in rows]

    async def count() -> int:
        if total is not None:
            return total
        found = await session.scalar(count_statement, dict(parameters or {}))
        return int(found or 0)

    return Page(
        items=items,
        cursors=cursors,
        has_next_page=has_more if forward else request.before is not None,
        has_previous_page=has_more if not forward else request.after is not None,
        count=count,
    )
