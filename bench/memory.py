"""The app's memory: resident set size right after start and through scenarios (a)-(e).

Run: ``.venv/bin/python -m bench.memory [--scale 5000] [--accounts 10] [--requests 300]
[--concurrency 16] [--env NAME=VALUE ...]``.

Builds a scratch database with ``bench.dataset`` (small scale: the answers are the same 50-row
pages whatever the scale), starts the app exactly as ``bench.side_by_side`` does (one uvicorn
process, production mode; ``--env`` adds to its environment, e.g. to compare a setting), waits
for ``/healthz`` without sending a GraphQL request, then drives each scenario ``--requests``
times from ``--concurrency`` clients at once (httpx) and prints, after start and after each
scenario, the process's VmRSS, VmHWM (its peak), anonymous and file-backed resident memory,
threads, and the heaps glibc made for extra malloc arenas (64 MB reservations). Drops the
database at the end. A benchmark, not a test: it never fails on time or size."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.dataset import DataSet, build, create_scratch
from bench.report import SCENARIOS, Scenario
from bench.side_by_side import DEFAULT_ADMIN_URL, Server, _body, mint_tokens, start_app

# glibc reserves each extra arena's heap as a 64 MiB mapping (HEAP_MAX_SIZE on 64-bit).
_ARENA_HEAP_KB = 65536


@dataclass(frozen=True)
class Snapshot:
    """One look at /proc/<pid>: sizes in kB."""

    rss_kb: int
    hwm_kb: int
    anon_kb: int
    file_kb: int
    threads: int
    arena_heaps: int

    @classmethod
    def of(cls, pid: int) -> Snapshot:
        status = Path(f"/proc/{pid}/status").read_text()

        def field(name: str) -> int:
            found = re.search(rf"^{name}:\s+(\d+)", status, re.MULTILINE)
            return int(found.group(1)) if found else 0

        return cls(
            rss_kb=field("VmRSS"),
            hwm_kb=field("VmHWM"),
            anon_kb=field("RssAnon"),
            file_kb=field("RssFile") + field("RssShmem"),
            threads=field("Threads"),
            arena_heaps=_arena_heaps(pid),
        )

    def line(self, label: str) -> str:
        return (
            f"{label:38s} VmRSS {self.rss_kb / 1024:6.1f} MB  VmHWM {self.hwm_kb / 1024:6.1f} MB  "
            f"anon {self.anon_kb / 1024:6.1f} MB  file {self.file_kb / 1024:5.1f} MB  "
            f"threads {self.threads:3d}  arena heaps {self.arena_heaps}"
        )


def _arena_heaps(pid: int) -> int:
    """Mappings glibc reserved for extra arenas' heaps: 64 MiB, 64 MiB-aligned, anonymous (the
    heap's used part read-write, the rest PROT_NONE: adjacent lines in /proc/<pid>/maps)."""
    size = _ARENA_HEAP_KB * 1024
    anonymous: list[tuple[int, int]] = []
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/maps").read_text().splitlines():
            parts = line.split()
            if len(parts) == 5:  # an anonymous mapping has no path
                start, end = (int(value, 16) for value in parts[0].split("-"))
                anonymous.append((start, end))
    heaps = 0
    for index, (start, end) in enumerate(anonymous):
        if start % size:
            continue
        following = index + 1
        while end - start < size and following < len(anonymous):
            if anonymous[following][0] != end:
                break
            end = anonymous[following][1]
            following += 1
        heaps += end - start == size
    return heaps


def _rollup(pid: int) -> str:
    lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:9]
    return "; ".join(" ".join(line.split()) for line in lines)


async def _wait_started(server: Server) -> None:
    deadline = time.monotonic() + 90
    async with httpx.AsyncClient(timeout=5) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                break
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(f"{server.url}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise RuntimeError(f"the app did not start; its output:\n{server.log.read_text()[-3000:]}")


async def drive(
    server: Server,
    scenario: Scenario,
    data: DataSet,
    token: str,
    *,
    requests: int,
    concurrency: int,
) -> tuple[int, float]:
    """``requests`` answers from ``concurrency`` clients at once; (failed answers, peak VmRSS
    seen between requests in MB)."""
    body = _body(scenario, data)
    headers = {"Authorization": f"Bearer {token}"}
    left = [requests]
    failed = [0]
    peak = [0]
    first_failure: list[str] = []

    async def client_loop(client: httpx.AsyncClient) -> None:
        while left[0] > 0:
            left[0] -= 1
            response = await client.post(f"{server.url}/graphql", json=body, headers=headers)
            # A Basic user's page carries FORBIDDEN errors on the fields it may not read.
            if response.status_code != 200 or response.json().get("data") is None:
                failed[0] += 1
                first_failure[:] = first_failure or [str(response.json().get("errors"))[:400]]
            peak[0] = max(peak[0], Snapshot.of(server.pid).rss_kb)

    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(concurrency)))
    if first_failure:
        print(f"{scenario.key}: {failed[0]} failed answers, the first: {first_failure[0]}")
    return failed[0], peak[0] / 1024


async def measure(args: argparse.Namespace, data: DataSet, logs: Path) -> None:
    tokens = mint_tokens(data)
    env = dict(item.split("=", 1) for item in args.env)
    server = start_app(data, data.scratch.url, logs, **env)
    try:
        await _wait_started(server)
        print(Snapshot.of(server.pid).line("started (no request yet)"))
        for scenario in SCENARIOS:
            token = tokens["basic" if scenario.basic else "admin"]
            began = time.perf_counter()
            failed, _ = await drive(
                server,
                scenario,
                data,
                token,
                requests=args.requests,
                concurrency=args.concurrency,
            )
            seconds = time.perf_counter() - began
            label = f"after {scenario.key} x{args.requests} ({seconds:.0f} s)"
            if failed:
                label += f" {failed} FAILED"
            print(Snapshot.of(server.pid).line(label))
        final = Snapshot.of(server.pid)
        print(
            f"\npeak RSS (VmHWM) {final.hwm_kb / 1024:.1f} MB; "
            f"{final.rss_kb / 1024:.1f} MB resident at the end"
        )
        print("smaps_rollup:", _rollup(server.pid))
    finally:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except Exception:
            server.process.kill()
            server.process.wait()


async def main(args: argparse.Namespace) -> None:
    admin_url = os.environ.get("PORTAL_BENCH_DATABASE_URL", DEFAULT_ADMIN_URL)
    data_dir = Path(tempfile.mkdtemp(prefix="portal-bench-memory-"))
    logs = data_dir / "logs"
    logs.mkdir()
    scratch = await create_scratch(admin_url, data_dir)
    try:
        data = await build(scratch, accounts=args.accounts, documents=args.scale)
        print(
            f"memory: {args.scale:,} documents in {args.accounts} accounts; "
            f"{args.requests} requests per scenario from {args.concurrency} clients"
            + (f"; app environment adds {' '.join(args.env)}" if args.env else "")
        )
        for run in range(args.runs):
            if args.runs > 1:
                print(f"\nrun {run + 1}")
            await measure(args, data, logs)
    finally:
        await scratch.drop()
        shutil.rmtree(data_dir, ignore_errors=True)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=5_000, help="documents")
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--requests", type=int, default=300, help="per scenario")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--runs", type=int, default=1, help="fresh app processes, one by one")
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="for the app process"
    )
    parsed = parser.parse_args(argv)
    if not 1 <= parsed.accounts <= parsed.scale:
        parser.error("--accounts is 1 to --scale")
    if any("=" not in item for item in parsed.env):
        parser.error("--env takes NAME=VALUE")
    return parsed


if __name__ == "__main__":
    asyncio.run(main(arguments()))
