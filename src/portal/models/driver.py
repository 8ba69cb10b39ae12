"""Statements sent straight to the request's asyncpg connection, compiled once.

Every request starts with one statement (the principal lookup, ``portal.auth.resolve``) that
also opens its transaction and scopes it. Through an ORM session that statement costs a session
transaction, a greenlet switch and SQLAlchemy's per-execution machinery: some 0.5 ms of CPU, as
much as everything else a small query does. ``fetch_first_row`` sends it to the asyncpg
connection under the session instead: compiled once (asyncpg's ``$n`` placeholders), begun in the
transaction SQLAlchemy's asyncpg adapter keeps for that connection (so SQLAlchemy commits or
rolls it back as its own, and the pool ends it if nothing else does), its row a plain tuple.

The session is told the transaction is scoped already (``PRESCOPED_KEY``): its first transaction
on that connection sends no ``set_config`` of its own. When the connection turns out to be dead
it is invalidated and ``ConnectionLost`` raised (the request layer starts again on a fresh one);
anything unusual (a session already in a transaction, a session on an engine, another driver, a
connection whose statements are watched: OpenTelemetry's instrumentation, a test counting them)
takes SQLAlchemy's path.

A statement with expanding parameters (``IN`` a list given per request: the caller's accounts,
a name's pieces) is rendered by SQLAlchemy once per set of list lengths and kept in that form, so
each length gets the prepared statement, and the generic plan, that SQLAlchemy's own rendering
would get; an empty list goes SQLAlchemy's way."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

__all__ = [
    "PRESCOPED_KEY",
    "ConnectionLost",
    "DriverStatement",
    "end_unjoined",
    "execute_many",
    "fetch_all",
    "fetch_alone",
    "fetch_first_row",
    "fetch_row",
]

# In a session's ``info``: the driver-level transaction its first statement scoped (see the
# module); the session's ``after_begin`` hook sends no scope of its own while it is that one.
PRESCOPED_KEY = "prescoped_transaction"

_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it untyped


class ConnectionLost(ConnectionError):
    """The request's database connection died under a statement sent to the driver (it has
    been invalidated: the pool will not hand it out again)."""


@dataclass(frozen=True, slots=True)
class DriverStatement:
    """A Core SELECT compiled for asyncpg: its SQL, the order of its parameters (each with
    SQLAlchemy's bind processing for its type, when it has one), and the tuple type of its rows
    (attributes named as its columns)."""

    sql: str
    parameters: tuple[str, ...]
    row: Callable[..., Any]
    processors: tuple[tuple[int, Callable[[Any], Any]], ...] = ()
    # The values the statement carries itself (a literal bound when it was built).
    defaults: Mapping[str, Any] = field(default_factory=dict)
    # An INSERT's columns given no value that have a default computed in Python (as
    # SQLAlchemy computes it for each row).
    computed: Mapping[str, Callable[[], Any]] = field(default_factory=dict)
    # Not sent to the driver: a value rendered into the SQL per execution, or one it lacks.
    usable: bool = True
    # A SELECT's result processing, by column index (what SQLAlchemy applies to each row).
    results: tuple[tuple[int, Callable[[Any], Any]], ...] = ()
    # Its expanding parameters (``IN`` a list given per execution), in order, and SQLAlchemy's
    # compiled form of it, which renders them: each form (one per set of list lengths) once.
    expanding: tuple[str, ...] = ()
    compiled: Any = None
    forms: dict[tuple[int, ...], _Expanded] = field(default_factory=dict)

    def bound(self, values: Mapping[str, Any]) -> tuple[str, list[Any]] | None:
        """The SQL and positional arguments for ``values``; None when the driver may not take
        them (a statement that is not ``usable``, an empty list, which SQLAlchemy renders as an
        expression of its own)."""
        if not self.usable:
            return None
        if not self.expanding:
            return self.sql, self.arguments(values)
        lengths = tuple(len(values[name]) for name in self.expanding)
        if 0 in lengths:
            return None
        form = self.forms.get(lengths)
        if form is None:
            if len(self.forms) >= MAX_EXPANDED_FORMS:
                self.forms.clear()
            form = self.forms[lengths] = _Expanded.render(self, values)
        return form.sql, form.arguments(values)

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        defaults, computed = self.defaults, self.computed
        arguments = [
            values[name]
            if name in values
            else (computed[name]() if name in computed else defaults[name])
            for name in self.parameters
        ]
        return _processed(arguments, self.processors)

    @classmethod
    def compile(
        cls, statement: sa.Select[Any] | sa.Insert, *, column_keys: list[str] | None = None
    ) -> DriverStatement:
        compiled = statement.compile(dialect=_DIALECT, column_keys=column_keys)
        names = tuple(compiled.positiontup or ())
        bind_processors: dict[str, Any] = getattr(compiled, "_bind_processors", {}) or {}
        processors = tuple(
            (index, bind_processors[name])
            for index, name in enumerate(names)
            if bind_processors.get(name) is not None and not _plain_array(compiled, name)
        )
        sql = str(compiled)
        defaults = {
            name: bind.effective_value
            for name, bind in ((compiled.bind_names[b], b) for b in compiled.binds.values())
            if not bind.required
        }
        columns = (
            [str(column.key) for column in statement.selected_columns]
            if isinstance(statement, sa.Select)
            else []
        )
        computed: dict[str, Callable[[], Any]] = {}
        if isinstance(statement, sa.Insert):
            table: Any = statement.table
            for name in names:
                default = table.c[name].default if name in table.c else None
                if name not in (column_keys or ()) and default is not None:
                    if default.is_callable:
                        computed[name] = partial(default.arg, None)
                    elif default.is_scalar:
                        computed[name] = partial(lambda value: value, default.arg)
        results = (
            tuple(
                (index, process)
                for index, column in enumerate(statement.selected_columns)
                if (process := column.type._cached_result_processor(_DIALECT, None)) is not None
            )
            if isinstance(statement, sa.Select)
            else ()
        )
        row_type = namedtuple("Row", columns, rename=True)  # type: ignore[misc]
        expanding = tuple(
            compiled.bind_names[bind]
            for bind in compiled.post_compile_params
            if bind.expanding and not bind.literal_execute
        )
        return cls(
            sql=sql,
            parameters=names,
            row=row_type._make,
            processors=processors,
            defaults=defaults,
            computed=computed,
            results=results,
            # Expanding lists of a SELECT are rendered per set of lengths (``bound``); any other
            # value rendered per execution (a literal one) keeps the statement SQLAlchemy's.
            usable=len(expanding) == len(compiled.post_compile_params)
            and (not expanding or isinstance(statement, sa.Select))
            and all(
                name in defaults or name in computed or name in (column_keys or names)
                for name in names
            ),
            expanding=expanding,
            compiled=compiled if expanding else None,
        )


# The forms of one statement kept at most (list lengths vary: a family's accounts, a name's
# pieces); past that they are made again as needed.
MAX_EXPANDED_FORMS = 64


@dataclass(frozen=True, slots=True)
class _Expanded:
    """A statement with expanding parameters rendered for one set of list lengths: its SQL and,
    per position, the parameter and the index of the list item it takes (-1: the whole value),
    with SQLAlchemy's bind processing where the type has one."""

    sql: str
    positions: tuple[tuple[str, int], ...]
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]
    defaults: Mapping[str, Any]

    @classmethod
    def render(cls, statement: DriverStatement, values: Mapping[str, Any]) -> _Expanded:
        compiled = statement.compiled
        given = {**statement.defaults, **values}
        state = compiled.construct_expanded_state(
            {name: given[name] for name in statement.parameters if name in given}
        )
        items = {
            expanded: (name, index)
            for name, names in state.parameter_expansion.items()
            for index, expanded in enumerate(names)
        }
        positions = tuple(items.get(name, (name, -1)) for name in state.positiontup or ())
        processors = tuple(
            (index, process)
            for index, name in enumerate(state.positiontup or ())
            if (process := state.processors.get(name)) is not None
        )
        return cls(
            sql=state.statement,
            positions=positions,
            processors=processors,
            defaults=statement.defaults,
        )

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        defaults = self.defaults
        arguments = [
            (values[name] if name in values else defaults[name])
            if index < 0
            else values[name][index]
            for name, index in self.positions
        ]
        return _processed(arguments, self.processors)


def _processed(
    arguments: list[Any], processors: tuple[tuple[int, Callable[[Any], Any]], ...]
) -> list[Any]:
    """``arguments`` with SQLAlchemy's bind processing applied where their types have one."""
    for index, process in processors:
        if arguments[index] is not None:
            arguments[index] = process(arguments[index])
    return arguments


def _plain_array(compiled: Any, name: str) -> bool:
    """Whether the parameter ``name`` is an array whose items need no processing: its bind
    processing only copies the sequence into a list, which asyncpg does not need."""
    kind = next((bind.type for bind, bound in compiled.bind_names.items() if bound == name), None)
    if not isinstance(kind, sa.ARRAY):
        return False
    item = kind.item_type.dialect_impl(_DIALECT)
    return isinstance(item, sa.types.TypeEngine) and item.bind_processor(_DIALECT) is None


_COMPILED: dict[tuple[int, tuple[str, ...] | None], tuple[Any, DriverStatement]] = {}


def _compiled(
    statement: sa.Select[Any] | sa.Insert, column_keys: tuple[str, ...] | None = None
) -> DriverStatement:
    """``statement`` compiled once (per set of columns given, for an INSERT)."""
    key = (id(statement), column_keys)
    known = _COMPILED.get(key)
    if known is None or known[0] is not statement:
        compiled = DriverStatement.compile(
            statement, column_keys=list(column_keys) if column_keys is not None else None
        )
        known = _COMPILED[key] = (statement, compiled)
    return known[1]


def _unwatched(bind: object) -> AsyncConnection | None:
    """``bind`` when statements may go to its driver: a connection nothing listens to (tracing,
    a test counting statements see SQLAlchemy's statements only)."""
    if not isinstance(bind, AsyncConnection):
        return None
    connection = bind.sync_connection
    if connection is None or connection.dispatch.before_cursor_execute:
        return None
    return bind


async def _driver_of(bind: object) -> tuple[AsyncConnection, Any, Any] | None:
    """``bind`` (when ``_unwatched`` lets statements go to its driver), SQLAlchemy's asyncpg
    adapter of it and the asyncpg connection under that; None otherwise or for another driver."""
    connection = _unwatched(bind)
    if connection is None:
        return None
    held = connection.sync_connection
    if held is None or held.closed or held.invalidated:
        # SQLAlchemy revalidates it (in a greenlet: that may take a round trip).
        fairy = await connection.get_raw_connection()
    else:
        # The pooled connection it holds: read without a greenlet (the property does no I/O
        # then), which would cost some 60 microseconds a statement.
        fairy = held.connection
    adapted: Any = fairy.dbapi_connection
    driver: Any = fairy.driver_connection
    if driver is None or not hasattr(adapted, "_start_transaction"):
        return None
    return connection, adapted, driver


def _goes_on_in(session: AsyncSession, transaction: Any) -> bool:
    """Whether ``session`` carries on in ``transaction``, the driver's, without having joined it:
    the one its first statement began and scoped (``fetch_first_row``)."""
    return transaction is not None and session.sync_session.info.get(PRESCOPED_KEY) is transaction


class _lost_when_closed:  # noqa: N801 - used as a context manager, named like one
    """A failure that left ``driver`` closed invalidates ``bind`` (the pool will not hand it out
    again) and raises ``ConnectionLost``; any other failure passes through. (A class: every
    statement on the driver enters one, and a generator-based manager costs several times more.)"""

    __slots__ = ("bind", "driver")

    def __init__(self, bind: AsyncConnection, driver: Any) -> None:
        self.bind = bind
        self.driver = driver

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: Any
    ) -> None:
        if isinstance(error, Exception) and self.driver.is_closed():
            await self.bind.invalidate()
            raise ConnectionLost("the database connection was lost") from error


async def fetch_first_row(
    session: AsyncSession, statement: sa.Select[Any], parameters: Mapping[str, Any]
) -> tuple[bool, Any]:
    """``(True, row or None)`` when ``statement`` ran on the driver as its session's first
    statement; ``(False, None)`` when it must go SQLAlchemy's way (nothing was sent)."""
    # A connection in a transaction of its own (tests bind every request to one): the lookup
    # must stay inside the session's savepoint, where its scope ends with the request.
    found = None if session.in_transaction() else await _driver_of(session.bind)
    if found is None or found[0].in_transaction():
        return False, None
    bind, adapted, driver = found
    compiled = _compiled(statement)
    bound = compiled.bound(parameters)
    if bound is None:
        return False, None
    sql, arguments = bound
    async with _lost_when_closed(bind, driver):
        if adapted._transaction is None:
            await adapted._start_transaction()
        record = await driver.fetchrow(sql, *arguments)
    session.sync_session.info[PRESCOPED_KEY] = adapted._transaction
    return True, None if record is None else compiled.row(record)


async def fetch_row(
    session: AsyncSession, statement: sa.Select[Any], values: Mapping[str, Any]
) -> tuple[bool, Any]:
    """``(True, the first record or None)`` when ``statement`` (one that reads, in the
    transaction the session goes on in) ran on the driver: the session is in its transaction,
    or in the one its first statement scoped (``fetch_first_row``). ``(False, None)`` when it
    must go SQLAlchemy's way (nothing was sent). The record is asyncpg's, its values as the
    driver decodes them (the caller decodes aggregated records itself)."""
    ran, records = await _fetch(session, _compiled(statement), values, first=True)
    return ran, records[0] if records else None


async def fetch_all(
    session: AsyncSession, statement: sa.Select[Any], values: Mapping[str, Any]
) -> tuple[bool, list[Any]]:
    """``(True, the rows)`` when ``statement`` ran on the driver, as ``fetch_row`` decides; each
    row a tuple of its values as SQLAlchemy would give them (each column's result processing
    applied, e.g. text to enum). ``(False, [])`` when it must go SQLAlchemy's way. Only for a
    statement built once: it is compiled once per statement object."""
    compiled = _compiled(statement)
    ran, records = await _fetch(session, compiled, values, first=False)
    if not ran:
        return False, []
    results = compiled.results
    if not results:
        return True, [tuple(record) for record in records]
    rows: list[Any] = []
    for record in records:
        row = list(record)
        for index, process in results:
            if row[index] is not None:
                row[index] = process(row[index])
        rows.append(tuple(row))
    return True, rows


async def _fetch(
    session: AsyncSession, compiled: DriverStatement, values: Mapping[str, Any], *, first: bool
) -> tuple[bool, list[Any]]:
    lock = getattr(session, "_lock", None)
    bound = compiled.bound(values)
    if lock is None or bound is None:
        return False, []
    sql, arguments = bound
    async with lock:
        found = await _driver_of(session.bind)
        if found is None:
            return False, []
        bind, adapted, driver = found
        transaction = adapted._transaction
        if transaction is None or (
            not session.in_transaction() and not _goes_on_in(session, transaction)
        ):
            return False, []
        async with _lost_when_closed(bind, driver):
            if first:
                record = await driver.fetchrow(sql, *arguments)
                return True, [] if record is None else [record]
            return True, await driver.fetch(sql, *arguments)


async def execute_many(
    session: AsyncSession, statement: sa.Insert, rows: list[dict[str, Any]], *, commit: bool = False
) -> bool:
    """Insert ``rows`` (each with the same keys) with ``statement`` on the driver, in the
    session's transaction (begun now if need be, scoped as the session scopes it, so that the
    session's commit commits them). False when it must go SQLAlchemy's way (nothing was sent).

    ``commit``: commit the transaction too, on the driver, which only a session that goes on in
    the transaction its first statement scoped (``fetch_first_row``) and began none of its own
    may do (it has nothing SQLAlchemy must flush, expire or end); False for any other."""
    lock = getattr(session, "_lock", None)
    if lock is None or not rows:
        return False
    compiled = _compiled(statement, tuple(rows[0]))
    if not compiled.usable:
        return False
    async with lock:
        found = await _driver_of(session.bind)
        if found is None:
            return False
        bind, adapted, driver = found
        transaction = adapted._transaction
        if commit and (
            session.in_transaction()
            or bind.in_transaction()
            or not _goes_on_in(session, transaction)
        ):
            return False
        if not commit:
            # The session's transaction (its after_begin scopes it, or finds it scoped).
            await session.connection()
        async with _lost_when_closed(bind, driver):
            if adapted._transaction is None:
                await adapted._start_transaction()
            await driver.executemany(compiled.sql, [compiled.arguments(row) for row in rows])
            if commit:
                try:
                    await transaction.commit()
                finally:
                    # As SQLAlchemy's adapter does: once asked to commit, the transaction is over.
                    adapted._transaction = None
                    session.sync_session.info.pop(PRESCOPED_KEY, None)
    return True


async def fetch_alone(
    bind: object, statement: sa.Select[Any], values: Mapping[str, Any]
) -> tuple[bool, Any]:
    """``(True, row or None)`` when ``statement`` ran on the driver as a transaction of its own,
    on a connection of the engine ``bind`` checked out for it: no BEGIN and no COMMIT, one round
    trip (PostgreSQL commits a lone statement itself, or nothing of it). ``(False, None)`` when it
    must go SQLAlchemy's way (nothing was sent): ``bind`` is no engine (tests bind sessions to a
    connection in a transaction of their own), its statements are watched, another driver."""
    compiled = _compiled(statement)
    bound = compiled.bound(values)
    if not isinstance(bind, AsyncEngine) or bound is None:
        return False, None
    sql, arguments = bound
    async with bind.connect() as connection:
        found = await _driver_of(connection)
        if found is None:
            return False, None
        _, adapted, driver = found
        if adapted._transaction is not None:
            return False, None
        async with _lost_when_closed(connection, driver):
            record = await driver.fetchrow(sql, *arguments)
    return True, None if record is None else compiled.row(record)


async def end_unjoined(session: AsyncSession) -> None:
    """Roll back, on the driver, the transaction ``session``'s first statement began
    (``fetch_first_row``) when SQLAlchemy never joined it: a request that only read, on the
    driver. The pool would roll it back when the connection goes back; this is the same
    statement without SQLAlchemy's round of calls. Anything else is left to the pool (a failure
    too: the pool rolls back or discards the connection as usual)."""
    found = None if session.in_transaction() else await _driver_of(session.bind)
    if found is None:
        return
    adapted = found[1]
    transaction = adapted._transaction
    if not _goes_on_in(session, transaction):
        return
    try:
        await transaction.rollback()
    except Exception:
        return
    adapted._transaction = None
    session.sync_session.info.pop(PRESCOPED_KEY, None)


def prescoped(info: dict[str, Any], dbapi_connection: Any) -> bool:
    """Whether a session (its ``info``) begins in the transaction its first statement scoped;
    answered once (the marker is consumed)."""
    marked = info.pop(PRESCOPED_KEY, None)
    return marked is not None and marked is getattr(dbapi_connection, "_transaction", None)
