"""A request's session ends without SQLAlchemy's close (a task of its own, shielded, and a
greenlet) when it holds nothing: no transaction, no objects. Anything else is closed as usual."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from portal.models.db import request_sessionmaker


@pytest.fixture
async def request_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    async with engine.connect() as connection:
        yield connection


@pytest.fixture
def closes(monkeypatch: pytest.MonkeyPatch) -> list[AsyncSession]:
    closed: list[AsyncSession] = []
    original = AsyncSession.close

    async def counted(self: AsyncSession) -> None:
        closed.append(self)
        await original(self)

    monkeypatch.setattr(AsyncSession, "close", counted)
    return closed


async def test_a_session_that_held_nothing_ends_without_closing(
    request_connection: AsyncConnection, closes: list[AsyncSession]
) -> None:
    # given a request's session that never began a transaction
    async with request_sessionmaker(request_connection)() as session:
        assert not session.in_transaction()

    # when it ends: ``async with`` above

    # then SQLAlchemy's close did not run
    assert closes == []


async def test_a_session_in_a_transaction_is_closed_as_usual(
    request_connection: AsyncConnection, closes: list[AsyncSession]
) -> None:
    # given a request's session that ran a statement (and so began a transaction)
    async with request_sessionmaker(request_connection)() as session:
        assert await session.scalar(sa.text("SELECT 1")) == 1

    # when it ends: ``async with`` above

    # then it was closed, and its transaction ended with it
    assert closes == [session]
    assert not request_connection.in_transaction()
