"""Apps served as in production (each request checks a connection out of a real pool) over the
committed test world: in-process for ASGI tests, or as a real server process on a loopback port
when clients must really connect, overload it and give up."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from portal.app import create_app
from portal.settings import Settings
from tests.support.network import free_port

_SERVE = (
    "import uvicorn; from portal.app import create_app; from portal.settings import Settings; "
    "uvicorn.run(create_app(Settings()), host='127.0.0.1', port={port}, "
    "log_level='warning', proxy_headers=False)"
)


def production_like_app(settings: Settings, **changes: Any) -> Starlette:
    """The app with its own engine and pool (not the test's one rolled-back connection)."""
    return create_app(settings.model_copy(update=changes))


@contextlib.contextmanager
def serving(settings: Settings, *, cli: bool = False, **environment: str) -> Iterator[str]:
    with _serving(settings, cli=cli, capture=False, environment=environment) as (url, _):
        yield url


@contextlib.contextmanager
def serving_captured(
    settings: Settings, *, cli: bool = False, **environment: str
) -> Iterator[tuple[str, Callable[[], str]]]:
    """Like ``serving``; also answers a function that reads what the process wrote (after the
    block has stopped it)."""
    with _serving(settings, cli=cli, capture=True, environment=environment) as served:
        yield served


@contextlib.contextmanager
def _serving(
    settings: Settings, *, cli: bool, capture: bool, environment: dict[str, str]
) -> Iterator[tuple[str, Callable[[], str]]]:
    """The app in a server process of its own, configured like ``settings`` (same database and
    signing key) plus ``environment`` (``PORTAL_*`` variables), for as long as the block runs.
    With ``cli`` the process is ``portal serve`` itself (migrations, reference data, uvicorn as
    operators run it)."""
    port = free_port()
    env = {
        **os.environ,
        "PORTAL_ENVIRONMENT": "test",
        "PORTAL_DATABASE_URL": str(settings.database_url),
        "PORTAL_DATA_DIR": str(settings.resolved_data_dir),
        "PORTAL_MAIL_WORKER_ENABLED": "false",
        **environment,
    }
    command = (
        [str(Path(sys.executable).parent / "portal"), "serve", "--port", str(port)]
        if cli
        else [sys.executable, "-c", _SERVE.format(port=port)]
    )
    written = tempfile.TemporaryFile() if capture else None  # noqa: SIM115 -- closed below
    captured: list[str] = []
    process = subprocess.Popen(  # noqa: S603 -- our own programs
        command, env=env, stdout=written, stderr=subprocess.STDOUT if capture else None
    )

    def output() -> str:
        return "".join(captured)

    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the server process did not start")
            time.sleep(0.1)
        yield url, output
    finally:
        process.terminate()
        process.wait(timeout=20)
        if written is not None:
            written.seek(0)
            captured.append(written.read().decode(errors="replace"))
            written.close()
