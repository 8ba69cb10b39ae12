"""`portal reset-demo`: start over with the demo data as new (what the README's "start over"
step runs, also as `make reset-demo`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn
from sqlmodel import col
from typer.testing import CliRunner

from portal.cli import cli
from portal.cli.app import quiet_embedded_postgres
from portal.migrations import upgrade
from portal.models import Account, PortalUser
from portal.models.db import AccountScope, create_engine, create_sessionmaker, scoped_session
from portal.settings import Settings
from tests.support.database import create_database, drop


@pytest.fixture
def own_database(admin_database_url: str, app_role: str) -> Iterator[str]:
    url = asyncio.run(create_database(admin_database_url, app_role, prefix="portal_reset"))
    try:
        yield url
    finally:
        asyncio.run(drop(admin_database_url, url))


async def _scalar(url: str, statement: sa.Select[Any]) -> int:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with scoped_session(create_sessionmaker(engine), AccountScope.everything()) as db:
            return int(await db.scalar(statement) or 0)
    finally:
        await engine.dispose()


async def _rename_an_account(url: str) -> None:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with scoped_session(create_sessionmaker(engine), AccountScope.everything()) as db:
            await db.execute(sa.update(Account).values(name="Changed by hand"))
            await db.commit()
    finally:
        await engine.dispose()


def test_reset_demo_starts_over_with_the_demo_data(
    own_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORTAL_DATABASE_URL", own_database)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path))
    # Given a demo database someone changed by hand
    upgrade(own_database)
    seeded = CliRunner().invoke(cli, ["seed", "--demo"])
    assert seeded.exit_code == 0, seeded.output
    asyncio.run(_rename_an_account(own_database))
    changed = sa.select(sa.func.count()).where(col(Account.name) == "Changed by hand")
    assert asyncio.run(_scalar(own_database, changed)) > 0
    # When it is reset without a question asked
    result = CliRunner().invoke(cli, ["reset-demo", "--yes"])
    # Then the change is gone and the demo logins are back
    assert result.exit_code == 0, result.output
    assert "the demo data is as new" in result.output
    assert asyncio.run(_scalar(own_database, changed)) == 0
    logins = sa.select(sa.func.count()).where(col(PortalUser.email) == "basic@acme.example")
    assert asyncio.run(_scalar(own_database, logins)) == 1


def test_serve_demo_prints_the_logins_with_their_password(
    own_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given `portal serve --demo` (what `make run` runs), with the server itself not started
    monkeypatch.setenv("PORTAL_DATABASE_URL", own_database)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PORTAL_DEMO_PASSWORD", "Another-Demo-Passw0rd!")
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    result = CliRunner().invoke(cli, ["serve", "--demo", "--port", "8765"])
    # Then it prints where to go, every demo login and the password they share
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:8765/graphiql" in result.output
    assert "all with the password Another-Demo-Passw0rd!" in result.output
    for email in ("admin@acme.example", "basic@acme.example", "support@portal.example"):
        assert email in result.output
    assert "reset-demo" in result.output


def test_embedded_server_output_is_hidden_unless_asked_for() -> None:
    logger = logging.getLogger("embedded_postgres")
    quiet_embedded_postgres(Settings(embedded_db_debug=False))
    assert not logger.isEnabledFor(logging.INFO)
    quiet_embedded_postgres(Settings(embedded_db_debug=True))
    assert logger.isEnabledFor(logging.DEBUG)
    logger.setLevel(logging.NOTSET)


def test_reset_demo_asks_first(own_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORTAL_DATABASE_URL", own_database)
    upgrade(own_database)
    result = CliRunner().invoke(cli, ["reset-demo"], input="n\n")
    assert result.exit_code == 1
    assert "Aborted" in result.output
