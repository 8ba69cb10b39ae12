"""Each transaction carries the request's account scope (row-level security builds on it)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.models.db import AccountScope, set_scope

SETTINGS = sa.text(
    "SELECT current_setting('portal.account_ids', true),"
    " current_setting('portal.all_accounts', true)"
)


async def test_the_scope_is_set_in_every_transaction(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    async with sessionmaker() as session:
        set_scope(session, AccountScope(account_ids=frozenset({second, first})))
        ids, everything = (await session.execute(SETTINGS)).one()
        assert set(ids.split(",")) == {str(first), str(second)}
        assert everything == "off"
        await session.commit()
        # a new transaction on the same session is scoped again
        ids_again, _ = (await session.execute(SETTINGS)).one()
        assert ids_again == ids


async def test_staff_scope_sees_all_accounts(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        set_scope(session, AccountScope.everything())
        ids, everything = (await session.execute(SETTINGS)).one()
        assert (ids, everything) == ("", "on")


async def test_an_unscoped_session_sees_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        ids, everything = (await session.execute(SETTINGS)).one()
        assert (ids, everything) == ("", "off")


def test_scope_filters_render_as_sql() -> None:
    column: sa.ColumnClause[object] = sa.column("account_id")
    assert str(AccountScope.nothing().filter(column)) == "false"
    assert str(AccountScope.everything().filter(column)) == "true"
    account = uuid.uuid4()
    assert AccountScope(account_ids=frozenset({account})).allows(account)
    assert not AccountScope(account_ids=frozenset({account})).allows(uuid.uuid4())
