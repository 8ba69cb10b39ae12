"""A typed face for aiodataloader, and the batch helper every domain's loaders use."""

from __future__ import annotations

import uuid
from collections import namedtuple
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from aiodataloader import DataLoader
from sqlalchemy import any_, literal
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Uuid

from portal.models.db import AccountScope
from portal.models.driver import fetch_row

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BatchLoader(Generic[K, V]):
    """Collects the keys asked for in one tick of the event loop into one call of ``batch``, and
    remembers what it loaded so a synchronous field can answer from it (``peek``)."""

    def __init__(
        self,
        batch: Callable[[Sequence[K]], Awaitable[Sequence[V]]],
        *,
        rows: ScopedRows[Any] | None = None,
    ) -> None:
        # The statement form of ``batch`` when it reads rows by id, so that ``preload`` can read
        # several loaders' rows in one round trip (``load_together``).
        self.rows = rows
        self._batch = batch
        self._loaded: dict[K, V] = {}

    @cached_property
    def _loader(self) -> Any:
        # Made on first use: a request uses few of its loaders.
        loaded = self._loaded
        batch = self._batch

        async def load_fn(keys: list[K]) -> list[V]:
            values = list(await batch(keys))
            loaded.update(zip(keys, values, strict=True))
            return values

        return DataLoader(load_fn)

    async def load(self, key: K) -> V:
        if key in self._loaded:
            return self._loaded[key]
        value: V = await self._loader.load(key)
        return value

    async def load_many(self, keys: Iterable[K]) -> list[V]:
        wanted = list(keys)
        missing = [key for key in wanted if key not in self._loaded]
        if missing:
            await self._loader.load_many(missing)
        return [self._loaded[key] for key in wanted]

    def prime(self, keys: Sequence[K], values: Sequence[V]) -> None:
        """Remember values loaded by another way (``load_together``) as if this loader had (a
        later ``load`` of these keys answers from memory)."""
        for key, value in zip(keys, values, strict=True):
            self._loaded.setdefault(key, value)

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


@dataclass(frozen=True)
class ScopeParameters:
    """The caller's account scope as bound parameters of a statement built once."""

    account_ids: sa.BindParameter[Any]
    all_accounts: sa.BindParameter[Any]

    @classmethod
    def named(cls, suffix: str) -> ScopeParameters:
        return cls(
            account_ids=sa.bindparam(f"scope_ids{suffix}", type_=ARRAY(Uuid())),
            all_accounts=sa.bindparam(f"scope_all{suffix}", type_=sa.Boolean()),
        )

    def allows(self, column: Any) -> sa.ColumnElement[bool]:
        """``column`` (an account id) is in the scope: ``AccountScope.filter`` as parameters."""
        return sa.or_(self.all_accounts, column == any_(self.account_ids))

    def values(self, scope: AccountScope) -> dict[str, Any]:
        return {
            self.account_ids.key: sorted(scope.account_ids),
            self.all_accounts.key: scope.all_accounts,
        }


@dataclass(frozen=True, eq=False)
class RowsById(Generic[E]):
    """How one ORM entity's rows are read by id: the conditions, given the ids and the caller's
    scope as bound parameters. The statement is built once per process (no construction, cache
    key or compilation per request), and several can share one round trip (``load_together``)."""

    entity: type[E]
    # ``ids``: a uuid[] expression (a bound parameter, or a subquery over other rows).
    conditions: Callable[[Any, ScopeParameters], Sequence[Any]]

    def statement(
        self, suffix: str = ""
    ) -> tuple[sa.Select[Any], sa.BindParameter[Any], ScopeParameters]:
        ids = sa.bindparam(f"ids{suffix}", type_=ARRAY(Uuid()))
        statement, scope = self.statement_over(ids, suffix)
        return statement, ids, scope

    def statement_over(self, ids: Any, suffix: str) -> tuple[sa.Select[Any], ScopeParameters]:
        """The statement for the ids ``ids`` evaluates to (a uuid[] expression)."""
        scope = ScopeParameters.named(suffix)
        return sa.select(self.entity).where(*self.conditions(ids, scope)), scope

    @cached_property
    def _prebuilt(self) -> tuple[sa.Select[Any], sa.BindParameter[Any], ScopeParameters]:
        return self.statement()

    def scoped(self, scope: AccountScope) -> ScopedRows[E]:
        return ScopedRows(rows=self, scope=scope)

    def _decoder(self, dialect: Dialect, columns: Sequence[Any]) -> Callable[[Sequence[Any]], E]:
        """Turns one aggregated record into a plain row: each column through its type's result
        processing (e.g. text to enum), read by the entity's attribute names. Not an ORM
        instance (building one costs more than the rest of the decoding); what reads loaded
        rows (a node's ``from_row``) reads attributes only."""
        mapper = sa.inspect(self.entity)
        attribute_of = {column.key: key for key, column in mapper.columns.items()}
        names = tuple(attribute_of[column.key] for column in columns)
        row_type = _row_type(self.entity.__name__, names)
        processors = [
            (index, processor)
            for index, column in enumerate(columns)
            if (processor := column.type._cached_result_processor(dialect, None)) is not None
        ]

        def decode(record: Sequence[Any]) -> E:
            values = list(record)
            for index, processor in processors:
                if values[index] is not None:
                    values[index] = processor(values[index])
            row: E = row_type._make(values)
            return row

        return decode


@dataclass(frozen=True)
class ScopedRows(Generic[E]):
    """``RowsById`` for one request's scope: what a ``BatchLoader`` reads by."""

    rows: RowsById[E]
    scope: AccountScope

    async def load(self, session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[E | None]:
        statement, ids_parameter, scope = self.rows._prebuilt
        found = await session.scalars(
            statement, {ids_parameter.key: list(ids), **scope.values(self.scope)}
        )
        return in_key_order(ids, found, _id_of)


@lru_cache(maxsize=64)
def _row_type(entity: str, names: tuple[str, ...]) -> Any:
    """A named tuple type for one entity's loaded rows."""
    return namedtuple(f"{entity}Row", names)


def _id_of(row: Any) -> uuid.UUID:
    key: uuid.UUID = row.id
    return key


@dataclass
class _Together:
    """One combined statement for a given list of ``RowsById``, built once."""

    statement: sa.Select[Any]
    parameters: list[tuple[sa.BindParameter[Any], ScopeParameters]]
    columns: list[list[Any]]
    decoders: list[Callable[[Sequence[Any]], Any]] | None = None


@lru_cache(maxsize=256)
def _together(parts: tuple[RowsById[Any], ...]) -> _Together:
    columns = []
    parameters = []
    selected = []
    for index, rows in enumerate(parts):
        statement, ids, scope = rows.statement(f"_{index}")
        subquery = statement.subquery(f"part_{index}")
        columns.append(list(subquery.c))
        parameters.append((ids, scope))
        selected.append(
            sa.select(sa.func.array_agg(sa.literal_column(subquery.name)))
            .select_from(subquery)
            .scalar_subquery()
            .label(subquery.name)
        )
    return _Together(statement=sa.select(*selected), parameters=parameters, columns=columns)


async def load_together(
    session: AsyncSession, wanted: Sequence[tuple[ScopedRows[Any], Sequence[uuid.UUID]]]
) -> list[list[Any | None]]:
    """Several ``ScopedRows`` in one round trip: one SELECT whose columns are each statement's
    rows aggregated into an array of records (``array_agg``), decoded back into entities.
    Answers one list per request, in its ids' order, None where no row matched."""
    together = _together(tuple(scoped.rows for scoped, _ in wanted))
    values: dict[str, Any] = {}
    for (scoped, ids), (ids_parameter, scope) in zip(wanted, together.parameters, strict=True):
        values[ids_parameter.key] = list(ids)
        values.update(scope.values(scoped.scope))
    ran, found = await fetch_row(session, together.statement, values)
    if not ran:
        found = (await session.execute(together.statement, values)).one()
    if together.decoders is None:
        dialect = session.sync_session.get_bind().dialect
        together.decoders = [
            scoped.rows._decoder(dialect, columns)
            for (scoped, _), columns in zip(wanted, together.columns, strict=True)
        ]
    answers: list[list[Any | None]] = []
    for (_, ids), decode, records in zip(wanted, together.decoders, found, strict=True):
        answers.append(in_key_order(ids, (decode(record) for record in records or ()), _id_of))
    return answers


def _aggregated(selectable: Any) -> Any:
    """``(SELECT array_agg(name) FROM name)``: every row of ``selectable`` as one record array."""
    return (
        sa.select(sa.func.array_agg(sa.literal_column(selectable.name)))
        .select_from(selectable)
        .scalar_subquery()
        .label(selectable.name)
    )


@dataclass
class _WithRelated:
    """A statement and the related rows read by its rows' ids, combined once (``_with_related``)."""

    statement: sa.Select[Any]
    first: list[Any]
    related: list[list[Any]]
    scopes: list[ScopeParameters]
    decoders: list[Callable[[Sequence[Any]], Any]] | None = None
    processors: list[Any] | None = None


@lru_cache(maxsize=256)
def _with_related(
    statement: sa.Select[Any], related: tuple[tuple[RowsById[Any], str], ...]
) -> _WithRelated:
    first = statement.cte("part_0")
    selected = [_aggregated(first)]
    columns = []
    scopes = []
    for index, (rows, column) in enumerate(related, start=1):
        # ARRAY((SELECT column FROM part_0)): the ids as a uuid[], as the bound parameter is.
        keys = sa.func.array(sa.select(first.c[column]).scalar_subquery(), type_=ARRAY(Uuid()))
        part, scope = rows.statement_over(keys, f"_{index}")
        subquery = part.subquery(f"part_{index}")
        columns.append(list(subquery.c))
        scopes.append(scope)
        selected.append(_aggregated(subquery))
    return _WithRelated(
        statement=sa.select(*selected), first=list(first.c), related=columns, scopes=scopes
    )


async def load_with_related(
    session: AsyncSession,
    statement: sa.Select[Any],
    values: dict[str, Any],
    decode: Callable[[Sequence[Any]], Any],
    related: Sequence[tuple[ScopedRows[Any], str]],
) -> tuple[list[Any], list[list[Any]]]:
    """The rows of ``statement`` (its bound parameters' ``values``) and, in the same round trip,
    for each ``(rows, column)`` of ``related`` the rows read by the ids in that column of the
    first rows (a document and its employee, visit and location by ``node(id:)``). ``decode``
    turns one row of ``statement`` into what the caller uses; the related rows come back as
    entities, each list unordered. The combined statement is built once per ``statement``
    object and related set (a statement built once per form gives one per form)."""
    combined = _with_related(statement, tuple((scoped.rows, column) for scoped, column in related))
    parameters = dict(values)
    for (scoped, _), scope in zip(related, combined.scopes, strict=True):
        parameters.update(scope.values(scoped.scope))
    ran, found = await fetch_row(session, combined.statement, parameters)
    if not ran:
        found = (await session.execute(combined.statement, parameters)).one()
    if combined.decoders is None or combined.processors is None:
        dialect = session.sync_session.get_bind().dialect
        combined.processors = [
            column.type._cached_result_processor(dialect, None) for column in combined.first
        ]
        combined.decoders = [
            scoped.rows._decoder(dialect, columns)
            for (scoped, _), columns in zip(related, combined.related, strict=True)
        ]
    processors = combined.processors
    rows = [
        decode(
            [
                processor(value) if processor is not None and value is not None else value
                for processor, value in zip(processors, record, strict=True)
            ]
        )
        for record in found[0] or ()
    ]
    answers = [
        [decode_related(record) for record in records or ()]
        for decode_related, records in zip(combined.decoders, found[1:], strict=True)
    ]
    return rows, answers
