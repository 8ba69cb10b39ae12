"""Async engine, one session per request, and the per-transaction account scope for RLS."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session, SessionTransaction

from portal.models.session import RequestSession

SCOPE_KEY = "account_scope"
# Read by the row-level security policies: comma-separated account ids, and whether all are visible.
ACCOUNT_IDS_SETTING = "portal.account_ids"
ALL_ACCOUNTS_SETTING = "portal.all_accounts"


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
    connect_timeout: float = 10.0,
) -> AsyncEngine:
    return create_async_engine(
        to_async_url(url),
        pool_pre_ping=True,
        pool_size=pool_size,
        max_overflow=max_overflow,
        echo=echo,
        connect_args={
            "server_settings": {"application_name": "employer-health-portal"},
            # A server that accepts connections but never answers fails fast, not after 60 s.
            "timeout": connect_timeout,
        },
    )


def create_sessionmaker(bind: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(bind, class_=RequestSession, expire_on_commit=False, autoflush=False)


def set_scope(session: AsyncSession, scope: AccountScope) -> None:
    """Scope every transaction this session begins from now on (and re-scope an open one)."""
    session.sync_session.info[SCOPE_KEY] = scope


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
    _apply_scope(connection, current_scope(session))


@asynccontextmanager
async def scoped_session(
    sessionmaker: async_sessionmaker[AsyncSession], scope: AccountScope
) -> AsyncIterator[AsyncSession]:
    async with sessionmaker() as session:
        set_scope(session, scope)
        yield session
