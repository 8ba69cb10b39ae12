"""Side by side: this project against a raw hand-written endpoint, over the same data and RLS.

Run: ``make bench`` or ``.venv/bin/python -m bench.side_by_side [--scale 100000] [--accounts 200]
[--rounds 3] [--duration 10] [--connections 16] [--profile-seconds 15]``.

1. Makes a scratch database on the PostgreSQL at PORTAL_BENCH_DATABASE_URL (default
   postgresql://postgres@127.0.0.1:5432/postgres), owned by a fresh role that is neither superuser
   nor BYPASSRLS, migrates it and generates the data set (``bench.dataset``).
2. Starts, each as one uvicorn process: the app in production mode (``PORTAL_ENVIRONMENT=
   production``, its own signing key, default pool) connecting as that role, and the raw endpoint
   (``bench.raw_app``: asyncpg + orjson, the same principal lookup, reads and audit insert by
   hand) connecting as the same role.
3. Counting pass: both servers connect through ``bench.pgcount`` (a proxy counting Sync/Query
   messages) and answer each scenario a few times: SQL round trips per request, and a check that
   both answer the same page.
4. Timed pass (servers restarted on direct connections): ``wrk`` in rounds, alternating which
   server goes first; requests/s, p50, p99, peak RSS; per-round ratios app/raw and their median.
   Then (g) merged downloads of 20 one-page PDFs against a bare in-process pypdf merge and (h)
   the list while downloads run; optionally a py-spy profile of the app under (a).
5. Prints the table, writes it to bench/results/<UTC time>.md, drops the database and the role.

A benchmark, not a test: it never fails on time (exit status 0 whatever the figures)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pypdf import PdfReader, PdfWriter
from sqlalchemy.engine import make_url

from bench.dataset import DataSet, build, create_scratch
from bench.pgcount import RoundTripCounter
from bench.scenarios import PREPARE_DOWNLOAD, QUERIES
from portal.auth.keys import load_or_create_keys
from portal.auth.tokens import SubjectKind, TokenService
from portal.ids import global_id

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
MAX_SCALE = 1_000_000
TOKEN_TTL_SECONDS = 24 * 3600

_APP = (
    "import uvicorn; from portal.app import create_app; from portal.settings import Settings; "
    "uvicorn.run(create_app(Settings()), host='127.0.0.1', port={port}, log_level='warning', "
    "access_log=False, proxy_headers=False)"
)
_RAW = (
    "import uvicorn; uvicorn.run('bench.raw_app:app', host='127.0.0.1', port={port}, "
    "log_level='warning', access_log=False, proxy_headers=False)"
)


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    query: str
    basic: bool = False


SCENARIOS = [
    Scenario("a", "(a) 50 documents + 5 nested objects, User Admin", "list"),
    Scenario("b", "(b) the same, Basic user", "list", basic=True),
    Scenario("c", "(c) one document by node(id:)", "one"),
    Scenario("d", '(d) name search "smi"', "search"),
    Scenario("e", "(e) { viewer { email } }", "viewer"),
]


@dataclass
class Run:
    """One wrk run of one scenario against one server."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    rss_mb: float


@dataclass
class Figures:
    runs: dict[tuple[str, str], list[Run]] = field(default_factory=dict)
    round_trips: dict[tuple[str, str], float] = field(default_factory=dict)
    same_answer: dict[str, bool] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add(self, scenario: str, server: str, run: Run) -> None:
        self.runs.setdefault((scenario, server), []).append(run)


# --- servers -------------------------------------------------------------------------------


@dataclass
class Server:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start(name: str, code: str, env: dict[str, str], logs: Path) -> Server:
    port = _free_port()
    log = logs / f"{name}-{port}.log"
    handle = log.open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and a fixed program
        [sys.executable, "-c", code.format(port=port)],
        env={**os.environ, **env},
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=BENCH.parent,
    )
    return Server(name=name, url=f"http://127.0.0.1:{port}", process=process, log=log)


async def _wait_ready(server: Server, token: str) -> None:
    deadline = time.monotonic() + 90
    async with httpx.AsyncClient(timeout=5) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                break
            with contextlib.suppress(httpx.HTTPError):
                response = await client.post(
                    f"{server.url}/graphql",
                    json={"query": QUERIES["viewer"]},
                    headers={"Authorization": f"Bearer {token}"},
                )
                if response.status_code == 200:
                    return
            await asyncio.sleep(0.3)
    raise RuntimeError(
        f"{server.name} did not start; its output:\n{server.log.read_text()[-3000:]}"
    )


def start_app(data: DataSet, database_url: str, logs: Path, **env: str) -> Server:
    """The app as the benchmark runs it: one uvicorn process in production mode (``env`` adds
    to its environment)."""
    scratch = data.scratch
    app_env = {
        "PORTAL_ENVIRONMENT": "production",
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_DATA_DIR": str(scratch.data_dir),
        "PORTAL_SIGNING_KEY_FILE": str(scratch.key_file),
        "PORTAL_MAIL_WORKER_ENABLED": "false",
        "PORTAL_WEBHOOK_WORKER_ENABLED": "false",
        # The benchmark's tokens last the whole run (the app refuses a longer one than it issues).
        "PORTAL_ACCESS_TOKEN_TTL_SECONDS": str(TOKEN_TTL_SECONDS),
        # Thousands of requests a minute from one user: the query budget would answer most of
        # them RATE_LIMITED (the raw endpoint has no budget either).
        "PORTAL_RATE_LIMIT_POINTS": "0",
        **env,
    }
    return _start("app", _APP, app_env, logs)


def mint_tokens(data: DataSet) -> dict[str, str]:
    """Bearer tokens of the data set's User Admin ("admin") and Basic user ("basic")."""
    service = TokenService(
        keys=load_or_create_keys(key_file=data.scratch.key_file, data_dir=data.scratch.data_dir),
        issuer="employer-health-portal",
        audience="employer-health-portal-api",
        ttl_seconds=TOKEN_TTL_SECONDS,
    )
    return {
        "admin": service.mint(kind=SubjectKind.USER, subject_id=data.admin_id)[0],
        "basic": service.mint(kind=SubjectKind.USER, subject_id=data.basic_id)[0],
    }


@contextlib.asynccontextmanager
async def serving(
    data: DataSet, database_url: str, token: str, logs: Path
) -> AsyncIterator[dict[str, Server]]:
    scratch = data.scratch
    servers: dict[str, Server] = {}
    try:
        app = start_app(data, database_url, logs)
        servers["app"] = app
        # Download URLs name the server they are served from.
        servers["raw"] = _start(
            "raw",
            _RAW,
            {"BENCH_RAW_DATABASE_URL": database_url, "BENCH_RAW_KEY_FILE": str(scratch.key_file)},
            logs,
        )
        for server in servers.values():
            await _wait_ready(server, token)
        yield servers
    finally:
        for server in servers.values():
            server.process.terminate()
            try:
                server.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()


# --- requests ------------------------------------------------------------------------------


def _body(scenario: Scenario, data: DataSet) -> dict[str, Any]:
    variables: dict[str, Any] = {}
    if scenario.query == "one":
        variables["id"] = global_id("Document", data.pdf_document_ids[0])
    return {"query": QUERIES[scenario.query], "variables": variables}


def _digest(answer: dict[str, Any]) -> Any:
    """What must agree between the two servers' answers (the page's ids and counts)."""
    data = answer.get("data") or {}
    if data.get("documents"):
        documents = data["documents"]
        return (documents["totalCount"], [edge["node"]["id"] for edge in documents["edges"]])
    if "node" in data:
        return data["node"] and data["node"]["id"]
    return data


async def counting_pass(
    data: DataSet, tokens: dict[str, str], logs: Path, figures: Figures, *, requests: int = 10
) -> None:
    url = make_url(data.scratch.url)
    counter = RoundTripCounter(url.host or "127.0.0.1", url.port or 5432)
    port = await counter.start()
    via_proxy = url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    try:
        async with (
            serving(data, via_proxy, tokens["admin"], logs) as servers,
            httpx.AsyncClient(timeout=60) as client,
        ):
            for scenario in SCENARIOS:
                digests = {}
                for name, server in servers.items():
                    headers = {
                        "Authorization": f"Bearer {tokens['basic' if scenario.basic else 'admin']}"
                    }
                    body = _body(scenario, data)
                    for _ in range(3):  # statements prepared, pool warm
                        answer = (
                            await client.post(f"{server.url}/graphql", json=body, headers=headers)
                        ).json()
                    before = counter.count
                    for _ in range(requests):
                        await client.post(f"{server.url}/graphql", json=body, headers=headers)
                    figures.round_trips[(scenario.key, name)] = (counter.count - before) / requests
                    if "errors" in answer:
                        figures.notes.append(f"{scenario.key} {name} answered errors: {answer}")
                    digests[name] = _digest(answer)
                figures.same_answer[scenario.key] = digests["app"] == digests["raw"]
    finally:
        await counter.close()


class RssSampler:
    """The largest resident set size of a process while the block runs (sampled every 0.1 s)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        status = Path(f"/proc/{self.pid}/status")
        while not self._stop.is_set():
            with contextlib.suppress(OSError):
                for line in status.read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            self._stop.wait(0.1)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _latency(output: str, percentile: str) -> float:
    found = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    return float(found.group(1)) * _UNITS[found.group(2)] if found else float("nan")


async def wrk(
    server: Server, body: dict[str, Any], token: str, *, duration: int, connections: int
) -> Run:
    import json

    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(body, handle)
    try:
        env = {**os.environ, "BENCH_BODY_FILE": handle.name, "BENCH_TOKEN": token}
        with RssSampler(server.pid) as rss:
            process = await asyncio.create_subprocess_exec(
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{duration}s",
                "--latency",
                # A slow answer is a slow answer, not a socket error (wrk's default is 2 s).
                "--timeout",
                "60s",
                "-s",
                str(BENCH / "wrk" / "post.lua"),
                f"{server.url}/graphql",
                env=env,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            output = (await process.communicate())[0].decode()
    finally:
        os.unlink(handle.name)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket_errors = re.search(r"Socket errors:.*?timeout (\d+)", output)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (
        int(socket_errors.group(1)) if socket_errors else 0
    )
    completed = re.search(r"(\d+) requests in", output)
    answered = completed is not None and int(completed.group(1)) > 0
    return Run(
        rps=float(rps.group(1)) if rps else 0.0,
        # Without a single answer in the run wrk prints zeros: no latency was measured.
        p50_ms=_latency(output, "50") if answered else float("nan"),
        p99_ms=_latency(output, "99") if answered else float("nan"),
        errors=errors,
        rss_mb=rss.peak_kb / 1024,
    )


# --- downloads -----------------------------------------------------------------------------


async def one_download(client: httpx.AsyncClient, server: Server, data: DataSet, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    ids = [global_id("Document", document_id) for document_id in data.pdf_document_ids]
    prepared = (
        await client.post(
            f"{server.url}/graphql",
            json={"query": PREPARE_DOWNLOAD, "variables": {"input": {"documentIds": ids}}},
            headers=headers,
        )
    ).json()
    payload = prepared["data"]["prepareDocumentDownload"]
    if payload["url"] is None:
        raise RuntimeError(f"no download prepared: {payload['userErrors']}")
    # The URL names the configured public URL; fetch it from this server.
    path = httpx.URL(payload["url"]).raw_path.decode()
    response = await client.get(f"{server.url}{path}", headers=headers)
    response.raise_for_status()
    return len(PdfReader(io.BytesIO(response.content)).pages)


def bare_merge(data: DataSet) -> int:
    writer = PdfWriter()
    for key in data.pdf_keys:
        writer.append(PdfReader(io.BytesIO(data.scratch.storage.path_for(key).read_bytes())))
    out = io.BytesIO()
    writer.write(out)
    return len(writer.pages)


async def downloads(
    server: Server, data: DataSet, token: str, *, times: int
) -> tuple[list[float], list[float], int]:
    app_ms: list[float] = []
    bare_ms: list[float] = []
    pages = 0
    async with httpx.AsyncClient(timeout=120) as client:
        await one_download(client, server, data, token)
        for _ in range(times):
            began = time.perf_counter()
            pages = await one_download(client, server, data, token)
            app_ms.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            bare_merge(data)
            bare_ms.append((time.perf_counter() - began) * 1000)
    return app_ms, bare_ms, pages


@contextlib.asynccontextmanager
async def downloading(
    server: Server, data: DataSet, token: str, *, workers: int = 2
) -> AsyncIterator[list[int]]:
    """Merged downloads running back to back in ``workers`` clients while the block runs."""
    done = [0]
    stop = asyncio.Event()

    async def worker() -> None:
        async with httpx.AsyncClient(timeout=120) as client:
            while not stop.is_set():
                await one_download(client, server, data, token)
                done[0] += 1

    tasks = [asyncio.create_task(worker()) for _ in range(workers)]
    try:
        yield done
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


# --- profile -------------------------------------------------------------------------------


# Frames every sample passes through (the server's loop) or that only hand a request on.
_CARRIERS = re.compile(
    r"^(<module>|run|Server\.run|asyncio_run|Runner\.run) |\((uvicorn|starlette)/"
)
_IDLE = re.compile(r"^(_worker \(concurrent/futures|Condition\.wait \(threading)")


def _library(frame: str) -> str:
    found = re.search(r"\(([^/:)]+)[/:]", frame)
    return found.group(1) if found else frame


def top_frames(collapsed: str, *, count: int = 15) -> list[str]:
    """A summary of py-spy's collapsed stacks ('a;b;c N' lines): self time by library, the top
    frames by self time, and the top frames by inclusive time below the server's loop. Samples of
    idle worker threads are left out; the event loop's own C code (uvloop) shows as
    ``Runner.run``."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, samples = line.rpartition(" ")
        if not samples.isdigit() or not stack:
            continue
        frames = stack.split(";")
        if _IDLE.match(frames[-1]):
            continue
        n = int(samples)
        total += n
        own[frames[-1]] += n
        libraries[_library(frames[-1])] += n
        for frame in set(frames):
            if not _CARRIERS.search(frame):
                inclusive[frame] += n
    if total == 0:
        return ["no samples"]

    def shown(counter: Counter[str]) -> list[str]:
        return [f"{100 * n / total:5.1f}%  {frame}" for frame, n in counter.most_common(count)]

    return [
        f"{total} samples (idle worker threads left out)",
        "",
        "self time by library:",
        *shown(libraries),
        "",
        "self time:",
        *shown(own),
        "",
        "inclusive (below the server loop and the middleware):",
        *shown(inclusive),
    ]


async def profile(
    server: Server, data: DataSet, token: str, seconds: int, connections: int, stamp: str
) -> list[str]:
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if spy is None:
        return ["py-spy is not installed (the bench extra installs it): no profile"]
    out = RESULTS / f"{stamp}-profile-a.txt"
    recorder = await asyncio.create_subprocess_exec(
        spy, "record", "--pid", str(server.pid), "--duration", str(seconds), "--rate", "200",
        "--format", "raw", "--output", str(out),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    await wrk(
        server, _body(SCENARIOS[0], data), token, duration=seconds + 2, connections=connections
    )
    message = (await recorder.communicate())[0].decode()
    if recorder.returncode != 0 or not out.exists():
        return [f"py-spy could not profile the app: {message.strip()[-500:]}"]
    return [
        f"py-spy, {seconds} s of (a) at -c{connections}; raw stacks in {out.name}",
        "",
        *top_frames(out.read_text()),
    ]


# --- the run -------------------------------------------------------------------------------


def _median(values: list[float]) -> float:
    finite = [v for v in values if v == v]
    return statistics.median(finite) if finite else float("nan")


def machine() -> str:
    memory_kb = next(
        (
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal:")
        ),
        0,
    )
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return (
        f"{os.cpu_count()} CPUs ({cpu}), {memory_kb / 1024 / 1024:.1f} GiB RAM, "
        f"Python {platform.python_version()}"
    )


def table(args: argparse.Namespace, data: DataSet, figures: Figures, started: datetime) -> str:
    lines = [
        f"# Side-by-side benchmark, {started:%Y-%m-%d %H:%M} UTC",
        "",
        f"- machine: {machine()}",
        f"- command: `python -m bench.side_by_side --scale {args.scale} --accounts "
        f"{args.accounts} --rounds {args.rounds} --duration {args.duration} --connections "
        f"{args.connections}`",
        f"- data: {data.documents:,} documents in {args.accounts} accounts (generated in "
        f"{data.generated_seconds:.0f} s); each server one uvicorn process; wrk -t2 "
        f"-c{args.connections}, {args.rounds} rounds of {args.duration} s, servers alternating",
        "",
        "| scenario | app req/s | raw req/s | app/raw per round | median | app p50 / p99 ms "
        "| raw p50 / p99 ms | round trips app / raw | peak RSS app / raw MB | same answer |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for scenario in SCENARIOS:
        app = figures.runs.get((scenario.key, "app"), [])
        raw = figures.runs.get((scenario.key, "raw"), [])
        ratios = [a.rps / r.rps for a, r in zip(app, raw, strict=False) if r.rps]
        lines.append(
            f"| {scenario.title} | {_median([r.rps for r in app]):.0f} "
            f"| {_median([r.rps for r in raw]):.0f} "
            f"| {', '.join(f'{ratio:.2f}' for ratio in ratios)} | **{_median(ratios):.2f}x** "
            f"| {_median([r.p50_ms for r in app]):.1f} / {_median([r.p99_ms for r in app]):.1f} "
            f"| {_median([r.p50_ms for r in raw]):.1f} / {_median([r.p99_ms for r in raw]):.1f} "
            f"| {figures.round_trips.get((scenario.key, 'app'), float('nan')):.0f} / "
            f"{figures.round_trips.get((scenario.key, 'raw'), float('nan')):.0f} "
            f"| {max((r.rss_mb for r in app), default=0):.0f} / "
            f"{max((r.rss_mb for r in raw), default=0):.0f} "
            f"| {'yes' if figures.same_answer.get(scenario.key) else 'NO'} |"
        )
    errors = sum(run.errors for runs in figures.runs.values() for run in runs)
    lines += ["", f"Non-2xx answers and socket timeouts during the timed rounds: {errors}."]
    lines += ["", *figures.notes]
    return "\n".join(lines)


async def main(args: argparse.Namespace) -> None:
    started = datetime.now(UTC)
    stamp = f"{started:%Y%m%dT%H%M%SZ}"
    admin_url = os.environ.get("PORTAL_BENCH_DATABASE_URL", DEFAULT_ADMIN_URL)
    data_dir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    logs = data_dir / "logs"
    logs.mkdir()
    scratch = await create_scratch(admin_url, data_dir)
    try:
        print(f"bench: generating {args.scale:,} documents in {args.accounts} accounts ...")
        data = await build(scratch, accounts=args.accounts, documents=args.scale)
        print(f"bench: generated in {data.generated_seconds:.0f} s")
        tokens = mint_tokens(data)
        figures = Figures()
        print("bench: counting round trips ...")
        await counting_pass(data, tokens, logs, figures)
        if shutil.which("wrk") is None:
            figures.notes.append("wrk is not installed (scripts/ensure-wrk.sh): no timed rounds")
        else:
            await timed_pass(args, data, tokens, logs, figures, stamp)
        text = table(args, data, figures, started)
        print()
        print(text)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{stamp}.md").write_text(text + "\n")
        print(f"\nbench: written to {RESULTS / f'{stamp}.md'}")
    finally:
        await scratch.drop()
        shutil.rmtree(data_dir, ignore_errors=True)


async def timed_pass(
    args: argparse.Namespace,
    data: DataSet,
    tokens: dict[str, str],
    logs: Path,
    figures: Figures,
    stamp: str,
) -> None:
    async with serving(data, data.scratch.url, tokens["admin"], logs) as servers:
        for scenario in SCENARIOS:  # warm both servers (prepared statements, caches)
            for server in servers.values():
                token = tokens["basic" if scenario.basic else "admin"]
                await wrk(server, _body(scenario, data), token, duration=2, connections=4)
        list_p99: list[float] = []
        busy_p99: list[float] = []
        merged = 0
        for round_number in range(args.rounds):
            order = ["app", "raw"] if round_number % 2 == 0 else ["raw", "app"]
            for scenario in SCENARIOS:
                token = tokens["basic" if scenario.basic else "admin"]
                for name in order:
                    run = await wrk(
                        servers[name],
                        _body(scenario, data),
                        token,
                        duration=args.duration,
                        connections=args.connections,
                    )
                    figures.add(scenario.key, name, run)
                    print(
                        f"round {round_number + 1} {scenario.key} {name}: {run.rps:.0f} req/s "
                        f"p50 {run.p50_ms:.1f} ms p99 {run.p99_ms:.1f} ms RSS {run.rss_mb:.0f} MB"
                    )
            list_p99.append(figures.runs[("a", "app")][-1].p99_ms)
            async with downloading(servers["app"], data, tokens["admin"]) as done:
                run = await wrk(
                    servers["app"],
                    _body(SCENARIOS[0], data),
                    tokens["admin"],
                    duration=args.duration,
                    connections=args.connections,
                )
            merged += done[0]
            busy_p99.append(run.p99_ms)
            print(f"round {round_number + 1} h: list p99 {run.p99_ms:.1f} ms, {done[0]} downloads")
        app_ms, bare_ms, pages = await downloads(servers["app"], data, tokens["admin"], times=5)
        rises = [busy / idle for busy, idle in zip(busy_p99, list_p99, strict=True) if idle]
        figures.notes += [
            f"(g) merged download of {len(data.pdf_document_ids)} one-page documents "
            f"({pages} pages), prepare + fetch over HTTP: median {_median(app_ms):.0f} ms; bare "
            f"in-process pypdf merge of the same files: median {_median(bare_ms):.0f} ms; "
            f"**{_median(app_ms) / _median(bare_ms):.2f}x** the bare merge.",
            f"(h) list (a) p99 while 2 clients download merged PDFs back to back: "
            f"{', '.join(f'{p:.1f}' for p in busy_p99)} ms against "
            f"{', '.join(f'{p:.1f}' for p in list_p99)} ms without "
            f"(rises {', '.join(f'{r:.2f}' for r in rises)}; median **{_median(rises):.2f}x**; "
            f"{merged} downloads completed meanwhile).",
        ]
        if args.profile_seconds:
            figures.notes += [
                "",
                "```",
                *await profile(
                    servers["app"],
                    data,
                    tokens["admin"],
                    args.profile_seconds,
                    args.connections,
                    stamp,
                ),
                "```",
            ]


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=100_000, help="documents (up to 1,000,000)")
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--profile-seconds", type=int, default=0, help="py-spy (a) this long")
    parsed = parser.parse_args(argv)
    if not 1 <= parsed.scale <= MAX_SCALE:
        parser.error(f"--scale is 1 to {MAX_SCALE:,} documents")
    if not 1 <= parsed.accounts <= parsed.scale:
        parser.error("--accounts is 1 to --scale")
    return parsed


async def interruptible(args: argparse.Namespace) -> None:
    """``main``, cancelled by SIGINT or SIGTERM so the scratch database is still dropped (a
    background job started by a shell ignores SIGINT)."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, task.cancel)
    await main(args)


if __name__ == "__main__":
    with contextlib.suppress(asyncio.CancelledError):
        asyncio.run(interruptible(arguments()))
