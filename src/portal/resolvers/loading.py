"""A typed face for aiodataloader, and the batch helper every domain's loaders use."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from aiodataloader import DataLoader
from sqlalchemy import any_, literal
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Uuid

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BatchLoader(Generic[K, V]):
    """Collects the keys asked for in one tick of the event loop into one call of ``batch``, and
    remembers what it loaded so a synchronous field can answer from it (``peek``)."""

    def __init__(
        self,
        batch: Callable[[Sequence[K]], Awaitable[Sequence[V]]],
        *,
        rows: RowsById[Any] | None = None,
    ) -> None:
        # The statement form of ``batch`` when it reads rows by id, so that ``preload`` can read
        # several loaders' rows in one round trip (``load_together``).
        self.rows = rows
        loaded = self._loaded = dict[K, V]()

        async def load_fn(keys: list[K]) -> list[V]:
            values = list(await batch(keys))
            loaded.update(zip(keys, values, strict=True))
            return values

        self._loader: Any = DataLoader(load_fn)

    async def load(self, key: K) -> V:
        value: V = await self._loader.load(key)
        return value

    async def load_many(self, keys: Iterable[K]) -> list[V]:
        values: list[V] = await self._loader.load_many(list(keys))
        return values

    def prime(self, keys: Sequence[K], values: Sequence[V]) -> None:
        """Remember values loaded by another way (``load_together``) as if this loader had."""
        for key, value in zip(keys, values, strict=True):
            if key not in self._loaded:
                self._loaded[key] = value
                self._loader.prime(key, value)

    def peek(self, key: K) -> tuple[bool, V | None]:
        """``(True, value)`` when ``key`` was loaded already, else ``(False, None)``."""
        if key in self._loaded:
            return True, self._loaded[key]
        return False, None


def in_key_order(
    keys: Sequence[uuid.UUID], rows: Iterable[V], key_of: Callable[[V], uuid.UUID]
) -> list[V | None]:
    """Answer one value per key, in the keys' order, None where no row matched."""
    by_key = {key_of(row): row for row in rows}
    return [by_key.get(key) for key in keys]


def equals_any(column: Any, ids: Iterable[uuid.UUID]) -> Any:
    """``column = ANY($1::uuid[])``: one bound array, so the statement text (and its prepared
    plan) is the same whatever the number of ids."""
    return column == any_(literal(list(ids), type_=ARRAY(Uuid())))


E = TypeVar("E")


@dataclass(frozen=True, eq=False)
class RowsById(Generic[E]):
    """One ORM entity's rows for a set of ids as one statement (the caller's scope and any
    visibility rule inside it), so that several can share one round trip (``load_together``)."""

    entity: type[E]
    statement: Callable[[Sequence[uuid.UUID]], sa.Select[Any]]

    async def load(self, session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[E | None]:
        rows = await session.scalars(self.statement(ids))
        return in_key_order(ids, rows, _id_of)

    def _decoder(self, dialect: Dialect, columns: Sequence[Any]) -> Callable[[Sequence[Any]], E]:
        """Turns one aggregated record into an entity, as the ORM would load it (each column
        through its type's result processing, e.g. text to enum), without validation."""
        mapper = sa.inspect(self.entity)
        manager = mapper.class_manager
        attribute_of = {column.key: key for key, column in mapper.columns.items()}
        fields = []
        for column in columns:
            processor = column.type._cached_result_processor(dialect, None)
            fields.append((attribute_of[column.key], processor))

        def decode(record: Sequence[Any]) -> E:
            values = {
                name: processor(value) if processor is not None and value is not None else value
                for (name, processor), value in zip(fields, record, strict=True)
            }
            instance: E = manager.new_instance()
            instance.__dict__.update(values)
            return instance

        return decode


def _id_of(row: Any) -> uuid.UUID:
    key: uuid.UUID = row.id
    return key


async def load_together(
    session: AsyncSession, wanted: Sequence[tuple[RowsById[Any], Sequence[uuid.UUID]]]
) -> list[list[Any | None]]:
    """Several ``RowsById`` in one round trip: one SELECT whose columns are each statement's
    rows aggregated into an array of records (``array_agg``), decoded back into entities.
    Answers one list per request, in its ids' order, None where no row matched."""
    parts = []
    subqueries = []
    for index, (rows, ids) in enumerate(wanted):
        subquery = rows.statement(ids).subquery(f"part_{index}")
        subqueries.append(subquery)
        parts.append(
            sa.select(sa.func.array_agg(sa.literal_column(subquery.name)))
            .select_from(subquery)
            .scalar_subquery()
            .label(subquery.name)
        )
    found = (await session.execute(sa.select(*parts))).one()
    dialect = session.sync_session.get_bind().dialect
    answers: list[list[Any | None]] = []
    for (rows, ids), subquery, records in zip(wanted, subqueries, found, strict=True):
        decode = rows._decoder(dialect, list(subquery.c))
        answers.append(in_key_order(ids, (decode(record) for record in records or ()), _id_of))
    return answers
