"""The seed tests get a database of their own: the demo must not meet the shared test world."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from portal.migrations import upgrade_async
from portal.models.db import create_engine, create_sessionmaker
from tests.support.database import create_database, drop


@pytest.fixture(scope="session")
async def database_url(admin_database_url: str, app_role: str) -> AsyncIterator[str]:
    url = await create_database(admin_database_url, app_role, prefix="portal_seed")
    try:
        await upgrade_async(url)
        yield url
    finally:
        await drop(admin_database_url, url)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=2, max_overflow=2)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_sessionmaker(engine)
