"""Where the tests' PostgreSQL comes from, and throwaway databases on it."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from portal.embedded import database_url, drop_database, ensure_database, start_embedded_server

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


async def create_database(admin: str, prefix: str = "portal_test") -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    await ensure_database(admin, name)
    return database_url(admin, name)


async def drop(admin: str, url: str) -> None:
    name = url.split("?", 1)[0].rsplit("/", 1)[1]
    await drop_database(admin, name)
