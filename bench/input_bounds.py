"""Two hostile requests against a real server process: the time they take, how long ``/healthz``
waits meanwhile, and how much the server process grows.

Run: ``PORTAL_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
.venv/bin/python -m bench.input_bounds [--fragments 20] [--name-bytes 1000000]``.
It creates a scratch database on that server, loads the demo data, starts ``portal serve`` on a
free loopback port, sends

- the anonymous fragment-spread bomb: ``--fragments`` fragments, each spreading the previous one
  twice, the operation spreading the last one;
- ``--name-bytes`` of "ab " as ``documents(filter: {employeeName})``, as the demo Basic user;

prints for each the answer's codes, the request's time, the slowest ``/healthz`` answer while it
ran, and the server's resident memory before, at its peak and after; then stops the server and
drops the database. A benchmark, not a test: it never fails on time."""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from portal.embedded import database_url, drop_database, ensure_database

NAME_QUERY = (
    "query Search($name: String!) { documents(first: 10, filter: {employeeName: $name}) "
    "{ totalCount edges { node { id name } } } }"
)


def fragment_bomb(fragments: int) -> str:
    """``fragments`` fragments, each spreading the one before twice: 2**(fragments-1) fields."""
    definitions = ["fragment F0 on Query { viewer { email } }"]
    definitions += [
        f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, fragments)
    ]
    return f"query {{ ...F{fragments - 1} }} " + " ".join(definitions)


def resident_bytes(pid: int) -> int:
    """The process's resident memory (Linux: VmRSS in /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class MemoryWatch:
    """Samples a process's resident memory every 20 ms, keeping the peak."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        return resident_bytes(self.pid)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(0.02)

    def __enter__(self) -> MemoryWatch:
        self.peak = self.rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())


@dataclass
class Outcome:
    seconds: float
    healthz_worst_ms: float
    status: int
    codes: list[str]
    rss_before_mb: float
    rss_peak_mb: float
    rss_after_mb: float


async def measure(base: str, pid: int, payload: dict[str, Any], headers: dict[str, str]) -> Outcome:
    worst = 0.0
    done = asyncio.Event()

    async with httpx.AsyncClient(base_url=base, timeout=600) as client:

        async def probe_health() -> None:
            nonlocal worst
            while not done.is_set():
                started = time.perf_counter()
                await client.get("/healthz")
                worst = max(worst, (time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.05)

        before = resident_bytes(pid)
        with MemoryWatch(pid) as watch:
            prober = asyncio.create_task(probe_health())
            await asyncio.sleep(0.1)
            started = time.perf_counter()
            response = await client.post("/graphql", json=payload, headers=headers)
            seconds = time.perf_counter() - started
            done.set()
            await prober
        after = resident_bytes(pid)
    try:
        body = response.json()
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
    except ValueError:
        codes = [f"non-JSON answer: {response.text[:80]!r}"]
    mb = 1024 * 1024
    return Outcome(
        seconds=seconds,
        healthz_worst_ms=worst,
        status=response.status_code,
        codes=codes,
        rss_before_mb=before / mb,
        rss_peak_mb=watch.peak / mb,
        rss_after_mb=after / mb,
    )


def report(title: str, outcome: Outcome) -> None:
    print(
        f"{title}\n  HTTP {outcome.status} codes={outcome.codes} time={outcome.seconds:.3f} s "
        f"worst /healthz={outcome.healthz_worst_ms:.0f} ms\n"
        f"  server RSS before={outcome.rss_before_mb:.1f} MB peak={outcome.rss_peak_mb:.1f} MB "
        f"(+{outcome.rss_peak_mb - outcome.rss_before_mb:.1f}) "
        f"after={outcome.rss_after_mb:.1f} MB (+{outcome.rss_after_mb - outcome.rss_before_mb:.1f})"
    )


def portal(env: dict[str, str], *args: str) -> str:
    command = [str(Path(sys.executable).with_name("portal")), *args]
    return subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout


async def main(*, fragments: int, name_bytes: int) -> None:
    admin = os.environ.get("PORTAL_TEST_DATABASE_URL") or os.environ.get("PORTAL_DATABASE_URL")
    if not admin:
        raise SystemExit("set PORTAL_TEST_DATABASE_URL to an admin URL of a PostgreSQL server")
    name = f"portal_bench_{uuid.uuid4().hex[:8]}"
    await ensure_database(admin, name)
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        env = {
            **os.environ,
            "PORTAL_DATABASE_URL": database_url(admin, name),
            "PORTAL_DATA_DIR": data_dir,
            "PORTAL_MAIL_WORKER_ENABLED": "false",
            "PORTAL_GRAPHIQL_ENABLED": "false",
        }
        server: asyncio.subprocess.Process | None = None
        try:
            await asyncio.to_thread(portal, env, "seed", "--demo")
            token = (await asyncio.to_thread(portal, env, "token", "basic@acme.example")).strip()
            server = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).with_name("portal")),
                "serve",
                "--port",
                str(port),
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            base = f"http://127.0.0.1:{port}"
            async with httpx.AsyncClient(base_url=base) as client:
                for _ in range(300):
                    try:
                        if (await client.get("/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
                await client.post("/graphql", json={"query": "{ signOnLinks { label } }"})
            bomb = fragment_bomb(fragments)
            report(
                f"fragment-spread bomb: {fragments} fragments, {len(bomb)} bytes, anonymous",
                await measure(base, server.pid, {"query": bomb}, {}),
            )
            words = "ab " * (name_bytes // 3)
            report(
                f"employeeName of {len(words)} bytes of 'ab ', Basic user",
                await measure(
                    base,
                    server.pid,
                    {"query": NAME_QUERY, "variables": {"name": words}},
                    {"Authorization": f"Bearer {token}"},
                ),
            )
        finally:
            if server is not None:
                server.terminate()
                await asyncio.wait_for(server.wait(), timeout=30)
            await drop_database(admin, name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--fragments", type=int, default=20)
    parser.add_argument("--name-bytes", type=int, default=1_000_000)
    arguments = parser.parse_args()
    asyncio.run(main(fragments=arguments.fragments, name_bytes=arguments.name_bytes))
