"""Programmatic Alembic: ``portal migrate`` uses the sync face, async callers the async one."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from portal.models.db import to_async_url

ALEMBIC_DIR = Path(__file__).parent / "alembic"


def alembic_config(database_url: str, connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """Migrate from inside a running event loop (tests, the app's own tooling)."""
    engine = create_async_engine(to_async_url(database_url))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(
                lambda sync: command.upgrade(alembic_config(database_url, sync), revision)
            )
    finally:
        await engine.dispose()


async def downgrade_async(database_url: str, revision: str = "base") -> None:
    engine = create_async_engine(to_async_url(database_url))
    try:
        async with engine.begin() as connection:
            await connection.run_sync(
                lambda sync: command.downgrade(alembic_config(database_url, sync), revision)
            )
    finally:
        await engine.dispose()
