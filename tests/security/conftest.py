"""Apps served as in production (each request checks a connection out of a real pool) over the
committed test world: in-process for ASGI tests, or as a real server process on a loopback port
when clients must really connect, overload it and give up."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
from starlette.applications import Starlette

from portal.app import create_app
from portal.settings import Settings

_SERVE = (
    "import uvicorn; from portal.app import create_app; from portal.settings import Settings; "
    "uvicorn.run(create_app(Settings()), host='127.0.0.1', port={port}, log_level='warning')"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def production_like_app(settings: Settings, **changes: Any) -> Starlette:
    """The app with its own engine and pool (not the test's one rolled-back connection)."""
    return create_app(settings.model_copy(update=changes))


@contextlib.contextmanager
def serving(settings: Settings, **environment: str) -> Iterator[str]:
    """The app in a server process of its own, configured like ``settings`` (same database and
    signing key) plus ``environment`` (``PORTAL_*`` variables), for as long as the block runs."""
    port = free_port()
    env = {
        **os.environ,
        "PORTAL_ENVIRONMENT": "test",
        "PORTAL_DATABASE_URL": str(settings.database_url),
        "PORTAL_DATA_DIR": str(settings.resolved_data_dir),
        "PORTAL_MAIL_WORKER_ENABLED": "false",
        **environment,
    }
    process = subprocess.Popen(  # noqa: S603 -- our own interpreter and a fixed program
        [sys.executable, "-c", _SERVE.format(port=port)], env=env
    )
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
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)
