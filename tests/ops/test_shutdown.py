"""`portal serve` with the embedded PostgreSQL leaves no database running, however it stops."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.network import free_port

PORTAL = Path(sys.executable).parent / "portal"
START_TIMEOUT_SECONDS = 240


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0): it is gone when /proc says so.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _postgres_running_in(pgdata: Path) -> list[int]:
    """Pids of postgres processes whose command line names ``pgdata``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "postgres" in command and str(pgdata) in command and _alive(int(entry.name)):
            found.append(int(entry.name))
    return found


class Served:
    def __init__(self, data_dir: Path, log: Path) -> None:
        self.port = free_port()
        clean = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
        self.log = log
        with log.open("ab") as output:  # the child keeps its own copy of the descriptor
            self.process = subprocess.Popen(  # noqa: S603 - our own command
                [str(PORTAL), "serve", "--port", str(self.port)],
                env={
                    **clean,
                    "PORTAL_DATA_DIR": str(data_dir),
                    "PORTAL_SHUTDOWN_TIMEOUT_SECONDS": "5",
                },
                stdout=output,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"portal serve exited early:\n{self.log.read_text()}")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        pytest.fail(f"portal serve did not become ready:\n{self.log.read_text()}")

    def stop(self, signum: int) -> int:
        self.process.send_signal(signum)
        return self.process.wait(timeout=60)


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Run as root, the embedded server runs as an OS user of its own, which must reach the folder
    # (pytest's own temporary folders are private to root).
    root = Path(tempfile.mkdtemp(prefix="portal-shutdown-"))
    root.chmod(0o755)
    data = root / "data"
    yield data
    # Whatever happened, leave no server behind on this machine.
    for pid in _postgres_running_in(data / "pgdata"):
        os.kill(pid, signal.SIGKILL)
    shutil.rmtree(root, ignore_errors=True)


def _postmaster(pgdata: Path) -> int:
    return int((pgdata / "postmaster.pid").read_text().splitlines()[0])


@pytest.mark.timeout(600)
def test_sigterm_stops_the_embedded_database_even_after_an_earlier_kill(
    data_dir: Path, tmp_path: Path
) -> None:
    pgdata = data_dir / "pgdata"
    log = tmp_path / "serve.log"

    # given `portal serve` running on the embedded database
    first = Served(data_dir, log)
    first.wait_ready()
    postmaster = _postmaster(pgdata)
    assert _alive(postmaster)

    # when it is sent SIGTERM (as a service manager or `docker stop` does)
    status = first.stop(signal.SIGTERM)

    # then it exits as terminated, and no PostgreSQL is left running
    assert status == 128 + signal.SIGTERM, log.read_text()
    assert not _alive(postmaster)
    assert _postgres_running_in(pgdata) == []
    assert not (pgdata / "postmaster.pid").exists()

    # given a server that was killed outright (SIGKILL runs no clean-up: PostgreSQL stays)
    second = Served(data_dir, log)
    second.wait_ready()
    second.stop(signal.SIGKILL)
    assert _postgres_running_in(pgdata) != []

    # when the next one starts and is sent SIGTERM
    third = Served(data_dir, log)
    third.wait_ready()
    postmaster = _postmaster(pgdata)
    status = third.stop(signal.SIGTERM)

    # then the dead process's stale handle did not keep the database running
    assert status == 128 + signal.SIGTERM, log.read_text()
    assert not _alive(postmaster)
    assert _postgres_running_in(pgdata) == []
