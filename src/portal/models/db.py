"""Async engine, one session per request, and the per-transaction account scope for RLS."""

from __future__ import annotations

import contextlib
import socket
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction

from portal.models.driver import PRESCOPED_KEY, fetch_first_row, prescoped
from portal.models.session import RequestSession

SCOPE_KEY = "account_scope"
# Read by the row-level security policies: comma-separated account ids, and whether all are visible.
ACCOUNT_IDS_SETTING = "portal.account_ids"
ALL_ACCOUNTS_SETTING = "portal.all_accounts"
# Set while a statement that scopes its own transaction runs (``execute_self_scoped``).
_SELF_SCOPED_KEY = "self_scoped_statement"


@dataclass(frozen=True, slots=True)
class AccountScope:
    """Which accounts' rows a transaction may touch."""

    account_ids: frozenset[uuid.UUID] = frozenset()
    all_accounts: bool = False

    @classmethod
    def nothing(cls) -> AccountScope:
        return cls()

    @classmethod
    def everything(cls) -> AccountScope:
        return cls(all_accounts=True)

    def allows(self, account_id: uuid.UUID | None) -> bool:
        return self.all_accounts or (account_id is not None and account_id in self.account_ids)

    def filter(self, column: Any) -> sa.ColumnElement[bool]:
        """SQL condition restricting ``column`` (an account id column) to this scope."""
        if self.all_accounts:
            return sa.true()
        if not self.account_ids:
            return sa.false()
        return column.in_(sorted(self.account_ids))  # type: ignore[no-any-return]


def to_async_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"}:
        parsed = parsed.set(drivername="postgresql+asyncpg")
    if parsed.drivername != "postgresql+asyncpg":
        raise ValueError("only PostgreSQL (asyncpg) database URLs are supported")
    return parsed.render_as_string(hide_password=False)


def create_engine(
    url: str,
    *,
    pool_size: int = 10,
    max_overflow: int = 10,
    echo: bool = False,
    pool_timeout: float = 5.0,
    pool_recycle: int = 1800,
    connect_timeout: float = 5.0,
    application_name: str = "employer-health-portal",
) -> AsyncEngine:
    """The pool every request checks one connection out of.

    No pre-ping (it costs a round trip per checkout): connections are recycled after
    ``pool_recycle`` seconds, a dead one fails its first statement, SQLAlchemy then invalidates
    the whole pool, and the request layer retries its first step on a fresh connection.
    ``hide_parameters`` keeps statement parameters (names, emails, filters) out of every
    exception text, so neither a client nor a log line can ever carry them."""
    return create_async_engine(
        to_async_url(url),
        pool_pre_ping=False,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        pool_recycle=pool_recycle,
        echo=echo,
        hide_parameters=True,
        connect_args={
            "server_settings": {"application_name": application_name},
            # A server that accepts connections but never answers fails fast, not after 60 s.
            "timeout": connect_timeout,
        },
    )


def create_sessionmaker(bind: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(bind, class_=RequestSession, expire_on_commit=False, autoflush=False)


def set_scope(session: AsyncSession, scope: AccountScope) -> None:
    """Scope every transaction this session begins from now on (and re-scope an open one)."""
    session.sync_session.info[SCOPE_KEY] = scope


async def rescope(session: AsyncSession, scope: AccountScope) -> None:
    """Scope ``session`` to ``scope`` from now on, its open transaction included (one round
    trip instead of ending the transaction and beginning another)."""
    set_scope(session, scope)
    # A transaction its first statement scoped otherwise: the session scopes it itself.
    session.sync_session.info.pop(PRESCOPED_KEY, None)
    if session.in_transaction():
        await session.run_sync(lambda sync: _apply_scope(sync.connection(), scope))


async def execute_self_scoped(
    session: AsyncSession, statement: sa.Executable, parameters: Mapping[str, Any]
) -> sa.Row[Any] | None:
    """Run ``statement``, which sets the transaction's scope itself (the principal functions:
    see ``portal.auth.resolve``), and answer its one row, or None.

    When it begins the transaction, the session sends no ``set_config`` of its own first: the
    statement's settings are the transaction's. The caller must know which scope it left, and
    ``rescope`` unless that is the scope the session should go on with."""

    if isinstance(statement, sa.Select):
        # Usually the request's first statement: sent to the driver (``portal.models.driver``).
        async with getattr(session, "_lock", None) or contextlib.nullcontext():
            ran, found = await fetch_first_row(session, statement, parameters)
        if ran:
            row: sa.Row[Any] | None = found
            return row

    # One call under the session's lock: no other task begins a transaction meanwhile.
    through_orm: sa.Row[Any] | None = await session.run_sync(_unscoped_one, statement, parameters)
    return through_orm


async def execute_unscoped(
    session: AsyncSession, statement: sa.Executable, parameters: Mapping[str, Any] | None = None
) -> sa.Row[Any] | None:
    """Run ``statement``, which reads and writes no table under row-level security (or only
    appends where anyone may: ``audit_events``), and answer its one row, or None.

    When it begins the transaction, the session sends no ``set_config`` of its own first (a round
    trip the statement does not need): that transaction is scoped to nothing, whatever
    ``set_scope`` said, until the caller ``rescope``s it or runs a self-scoped statement. In an
    open transaction the statement runs in that transaction's scope."""

    row: sa.Row[Any] | None = await session.run_sync(_unscoped_one, statement, parameters)
    return row


def _unscoped_one(
    sync: Session, statement: sa.Executable, parameters: Mapping[str, Any] | None
) -> sa.Row[Any] | None:
    """``statement``'s one row (or None), its session's ``after_begin`` told to send no scope
    of its own if the statement begins the transaction."""
    sync.info[_SELF_SCOPED_KEY] = True
    try:
        return sync.execute(statement, parameters).one_or_none()
    finally:
        sync.info.pop(_SELF_SCOPED_KEY, None)


def in_open_transaction(session: AsyncSession) -> bool:
    """Whether ``session`` goes on in an open transaction: its own, or the one its first
    statement began and scoped on the driver (``portal.models.driver``), which it joins at its
    next statement."""
    return session.in_transaction() or PRESCOPED_KEY in session.sync_session.info


def current_scope(session: Session) -> AccountScope:
    scope = session.info.get(SCOPE_KEY)
    return scope if isinstance(scope, AccountScope) else AccountScope.nothing()


def _apply_scope(connection: Connection, scope: AccountScope) -> None:
    connection.execute(
        sa.text("SELECT set_config(:ids_key, :ids, true), set_config(:all_key, :all, true)"),
        {
            "ids_key": ACCOUNT_IDS_SETTING,
            "ids": ",".join(str(i) for i in sorted(scope.account_ids)),
            "all_key": ALL_ACCOUNTS_SETTING,
            "all": "on" if scope.all_accounts else "off",
        },
    )


@event.listens_for(Session, "after_begin")
def _scope_transaction(
    session: Session, transaction: SessionTransaction, connection: Connection
) -> None:
    # Transaction-local settings (set_config(..., true)) vanish at commit or rollback, so a pooled
    # connection never carries one request's scope into the next.
    if session.info.get(_SELF_SCOPED_KEY):
        return  # the statement beginning the transaction sets the scope itself
    if prescoped(session.info, connection.connection.dbapi_connection):
        return  # the statement sent to the driver first scoped this very transaction
    _apply_scope(connection, current_scope(session))


def request_sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions over one checked-out connection: everything a request does (principal, reads,
    writes, audit) runs on it, one transaction after another, so a request never waits for a
    second pooled connection while holding the first."""
    return async_sessionmaker(
        bind=connection, class_=RequestSession, expire_on_commit=False, autoflush=False
    )


class RequestConnections:
    """Where each request's single database connection comes from.

    ``bound`` (tests) hands every request the same sessionmaker, already bound to the test's
    connection; otherwise each request checks one connection out of the engine's pool for its
    whole life and gives it back at its end."""

    def __init__(
        self, engine: AsyncEngine, bound: async_sessionmaker[AsyncSession] | None = None
    ) -> None:
        self.engine = engine
        self.bound = bound

    @classmethod
    def serving(cls, sessionmaker: async_sessionmaker[AsyncSession]) -> RequestConnections:
        """Requests served like ``sessionmaker``'s sessions: on its connection when it is bound
        to one (tests), else one connection per request from its engine."""
        bind = sessionmaker.kw.get("bind")
        if isinstance(bind, AsyncConnection):
            return cls(bind.engine, bound=sessionmaker)
        if isinstance(bind, AsyncEngine):
            return cls(bind)
        raise TypeError("the sessionmaker must be bound to an engine or a connection")

    def open(self) -> _Opened:
        """``async with connections.open() as sessionmaker``: the request's sessions, on its
        connection, given back to the pool when the block ends."""
        return _Opened(self.engine, self.bound)


class _Opened:
    """One request's connection while it lasts (a class: every request enters one, and a
    generator-based manager costs several times more)."""

    __slots__ = ("bound", "connection", "engine")

    def __init__(self, engine: AsyncEngine, bound: async_sessionmaker[AsyncSession] | None) -> None:
        self.engine = engine
        self.bound = bound
        self.connection: AsyncConnection | None = None

    async def __aenter__(self) -> async_sessionmaker[AsyncSession]:
        if self.bound is not None:
            return self.bound
        self.connection = self.engine.connect()
        return request_sessionmaker(await self.connection.__aenter__())

    async def __aexit__(self, kind: Any, error: Any, trace: Any) -> None:
        if self.connection is not None:
            await self.connection.__aexit__(kind, error, trace)


# Errors that mean the database cannot be reached or has no connection to spare (as opposed to a
# bug): the caller gets 503 SERVICE_UNAVAILABLE with Retry-After, not INTERNAL.
_UNAVAILABLE_SQLSTATE_PREFIXES = ("08", "53", "57P")


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) says the database is down, restarting, out of
    connections or unreachable: a condition a retry a moment later may clear."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.TimeoutError):  # the pool had no connection in time
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (ConnectionError, TimeoutError, socket.gaierror)):
            return True
        sqlstate = getattr(current, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATE_PREFIXES):
            return True
        current = current.__cause__ or current.__context__
    return False


@asynccontextmanager
async def scoped_session(
    sessionmaker: async_sessionmaker[AsyncSession], scope: AccountScope
) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        set_scope(session, scope)
        yield session
