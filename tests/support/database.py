"""Where the tests' PostgreSQL comes from, and throwaway databases on it."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from sqlalchemy.engine import make_url

from portal.embedded import (
    database_url,
    drop_app_role,
    drop_database,
    ensure_app_role,
    ensure_database,
    start_embedded_server,
)

TEST_DATABASE_ENV = "PORTAL_TEST_DATABASE_URL"


def admin_url() -> str:
    """An admin URL: PORTAL_TEST_DATABASE_URL when set, else an embedded server in a temp dir."""
    configured = os.environ.get(TEST_DATABASE_ENV)
    if configured:
        return configured
    root = Path(tempfile.mkdtemp(prefix="portal-test-pg-"))
    # Registered first so it runs last (atexit is LIFO), after the server has stopped.
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return start_embedded_server(root / "pgdata", delete_at_exit=True)


async def create_app_role(admin: str) -> str:
    """A login role for this run, neither superuser nor BYPASSRLS, like the production app."""
    role = f"portal_app_{uuid.uuid4().hex[:8]}"
    await ensure_app_role(admin, role)
    return role


async def drop_role(admin: str, role: str) -> None:
    await drop_app_role(admin, role)


async def create_database(admin: str, role: str, prefix: str = "portal_test") -> str:
    """A fresh database owned by ``role``, and its URL as that role (RLS binds it)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    await ensure_database(admin, name, owner=role)
    return database_url(admin, name, user=role)


async def drop(admin: str, url: str) -> None:
    name = make_url(url).database
    assert name
    await drop_database(admin, name)
