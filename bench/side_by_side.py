"""Side by side: this project against a raw hand-written endpoint and PostGraphile v5, over the
same data and the same row-level security.

Run: ``make bench`` or ``.venv/bin/python -m bench.side_by_side [--scale 100000] [--accounts 200]
[--rounds 3] [--duration 10] [--connections 16] [--profile-seconds 15] [--scenarios a,b,...]``
(e.g. ``--scale 1000000 --scenarios d``: the name search alone at a million documents); and
``.venv/bin/python -m bench.side_by_side --update-readme`` to copy the newest table into the
README's "Performance" section (no run).

1. Makes a scratch database on the PostgreSQL at PORTAL_BENCH_DATABASE_URL (default
   postgresql://postgres@127.0.0.1:5432/postgres), owned by a fresh role that is neither superuser
   nor BYPASSRLS, migrates it and generates the data set (``bench.dataset``).
2. Starts, each as one process connecting as that role: the app in production mode
   (``PORTAL_ENVIRONMENT=production``, its own signing key, default pool), the raw endpoint
   (``bench.raw_app``: asyncpg + orjson, the same principal lookup, reads, writes and audit rows
   by hand) and, when it is installed (``bench.peer``), PostGraphile v5 with the caller's scope
   set through ``pgSettings`` from its token. PostGraphile answers (a) and (c) in its own schema
   shape; it does no principal lookup and no audit.
3. Counting pass: every server connects through ``bench.pgcount`` (a proxy counting Sync/Query
   messages) and answers each scenario a few times: SQL round trips per request, and a check
   that they answer the same documents ((f): the same rows written per request).
4. Timed pass (servers restarted on direct connections): ``wrk`` in rounds, the servers taking
   turns going first; requests/s, p50, p99, peak RSS; per-round ratios to raw and their medians.
   Then (g) merged downloads of 20 one-page PDFs against a bare in-process pypdf merge and (h)
   the list while downloads run; optionally a py-spy profile of the app under (a).
5. Prints the table, writes it to bench/results/<UTC time>.md, drops the database and the role.

A benchmark, not a test: it never fails on time (exit status 0 whatever the figures)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from bench import peer
from bench.dataset import DataSet, build, create_scratch
from bench.load import wrk
from bench.merged_downloads import downloading, downloads
from bench.pgcount import RoundTripCounter
from bench.profiling import top_frames
from bench.report import (
    APP,
    PEER,
    RAW,
    RESULTS,
    SCENARIOS,
    Figures,
    Scenario,
    Setup,
    table,
    update_readme,
)
from bench.report import median as _median
from bench.scenarios import CREATE_KEY_PLACEHOLDER, PEER_READY, QUERIES
from bench.settle import settled
from portal.auth.keys import load_or_create_keys
from portal.auth.tokens import SubjectKind, TokenService
from portal.ids import global_id, parse_global_id

BENCH = Path(__file__).resolve().parent
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
MAX_SCALE = 1_000_000
ISSUER = "employer-health-portal"
AUDIENCE = "employer-health-portal-api"
# The benchmark's tokens outlive a run at 1,000,000 documents; the app is told to accept that
# lifetime (it refuses tokens living longer than it issues).
TOKEN_TTL_SECONDS = 24 * 3600
# The app's query budget stays on (its check is part of every request) but never runs dry: a
# throttled answer is cheap and would inflate the app's requests per second.
BUDGET_POINTS = 10**12

_APP = (
    "import uvicorn; from portal.app import create_app; from portal.settings import Settings; "
    "uvicorn.run(create_app(Settings()), host='127.0.0.1', port={port}, log_level='warning', "
    "access_log=False, proxy_headers=False)"
)
_RAW = (
    "import uvicorn; uvicorn.run('bench.raw_app:app', host='127.0.0.1', port={port}, "
    "log_level='warning', access_log=False, proxy_headers=False)"
)
# Every scenario: the load scenarios of the table, (g) merged downloads, (h) the list while
# downloads run.
ALL_SCENARIOS = ",".join([*(scenario.key for scenario in SCENARIOS), "g", "h"])
# What (f) writes, counted per request in the counting pass (the same for every server).
WRITTEN_TABLES = (
    "authorizations",
    "authorization_services",
    "authorization_events",
    "authorization_recipients",
    "outbox_messages",
    "idempotency_keys",
    "audit_events",
)


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
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _start(
    name: str, argv: list[str], env: dict[str, str], logs: Path, port: int, cwd: Path
) -> Server:
    log = logs / f"{name}-{port}.log"
    handle = log.open("wb")
    process = subprocess.Popen(  # noqa: S603 - our own interpreter or the locked Node, fixed
        argv,
        env={**os.environ, **env},
        stdout=handle,
        stderr=subprocess.STDOUT,
        cwd=cwd,
    )
    return Server(name=name, url=f"http://127.0.0.1:{port}", process=process, log=log)


def _python(name: str, code: str, env: dict[str, str], logs: Path) -> Server:
    port = _free_port()
    argv = [sys.executable, "-c", code.format(port=port)]
    return _start(name, argv, env, logs, port, BENCH.parent)


async def _wait_ready(server: Server, token: str, query: str) -> None:
    deadline = time.monotonic() + 90
    async with httpx.AsyncClient(timeout=5) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                break
            with contextlib.suppress(httpx.HTTPError):
                response = await client.post(
                    f"{server.url}/graphql",
                    json={"query": query},
                    headers={"Authorization": f"Bearer {token}"},
                )
                if response.status_code == 200:
                    return
            await asyncio.sleep(0.3)
    raise RuntimeError(
        f"{server.name} did not start; its output:\n{server.log.read_text()[-3000:]}"
    )


def _stop(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


def start_app(data: DataSet, database_url: str, logs: Path, **env: str) -> Server:
    """The app as the benchmark runs it: one uvicorn process in production mode (``env`` adds
    to its environment)."""
    scratch = data.scratch
    app_env = {
        "PORTAL_ENVIRONMENT": "production",
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_DATA_DIR": str(scratch.data_dir),
        "PORTAL_SIGNING_KEY_FILE": str(scratch.key_file),
        "PORTAL_ACCESS_TOKEN_TTL_SECONDS": str(TOKEN_TTL_SECONDS),
        "PORTAL_RATE_LIMIT_POINTS": str(BUDGET_POINTS),
        "PORTAL_MAIL_WORKER_ENABLED": "false",
        "PORTAL_WEBHOOK_WORKER_ENABLED": "false",
        **env,
    }
    return _python(APP, _APP, app_env, logs)


def mint_tokens(data: DataSet) -> dict[str, str]:
    """Bearer tokens of the data set's User Admin ("admin") and Basic user ("basic")."""
    service = TokenService(
        keys=load_or_create_keys(key_file=data.scratch.key_file, data_dir=data.scratch.data_dir),
        issuer=ISSUER,
        audience=AUDIENCE,
        ttl_seconds=TOKEN_TTL_SECONDS,
    )
    return {
        "admin": service.mint(kind=SubjectKind.USER, subject_id=data.admin_id)[0],
        "basic": service.mint(kind=SubjectKind.USER, subject_id=data.basic_id)[0],
    }


@contextlib.asynccontextmanager
async def serving(
    data: DataSet, database_url: str, tokens: dict[str, str], logs: Path, figures: Figures
) -> AsyncIterator[dict[str, Server]]:
    scratch = data.scratch
    raw_env = {"BENCH_RAW_DATABASE_URL": database_url, "BENCH_RAW_KEY_FILE": str(scratch.key_file)}
    servers: dict[str, Server] = {}
    try:
        servers[APP] = start_app(data, database_url, logs)
        servers[RAW] = _python(RAW, _RAW, raw_env, logs)
        if figures.peer_missing is None:
            port = _free_port()
            servers[PEER] = _start(
                PEER,
                peer.command(),
                peer.environment(database_url, scratch.key_file, port),
                logs,
                port,
                peer.PEER_DIR,
            )
        for name in (APP, RAW):
            await _wait_ready(servers[name], tokens["admin"], QUERIES["viewer"])
        if PEER in servers:
            try:
                await _wait_ready(servers[PEER], tokens["peer"], PEER_READY)
            except RuntimeError as error:  # the run goes on without it
                figures.peer_missing = f"PostGraphile did not start: {error}"
                _stop(servers.pop(PEER))
                print(f"bench: {figures.peer_missing}")
        yield servers
    finally:
        for server in servers.values():
            _stop(server)


# --- requests ------------------------------------------------------------------------------


def _servers_for(scenario: Scenario, servers: dict[str, Server]) -> list[str]:
    return [name for name in servers if name != PEER or scenario.peer]


def _token(scenario: Scenario, server: str, tokens: dict[str, str]) -> str:
    if server == PEER:
        return tokens["peer"]
    return tokens["basic" if scenario.basic else "admin"]


def _body(scenario: Scenario, data: DataSet, server: str = APP) -> dict[str, Any]:
    if server == PEER:
        return peer.body(scenario.query, data.pdf_document_ids[0])
    variables: dict[str, Any] = {}
    if scenario.query == "one":
        variables["id"] = global_id("Document", data.pdf_document_ids[0])
    if scenario.query == "create":
        variables["input"] = {
            "employeeId": global_id("Employee", data.employee_id),
            "modality": "IN_CENTER",
            "medicalCenterId": global_id("MedicalCenter", data.center_id),
            "serviceIds": [global_id("Service", data.service_id)],
            "send": True,
            "idempotencyKey": CREATE_KEY_PLACEHOLDER,
        }
    return {"query": QUERIES[scenario.query], "variables": variables}


def _with_new_key(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with a fresh idempotency key in place of the placeholder (when it has one)."""
    given = body["variables"].get("input")
    if not given or given.get("idempotencyKey") != CREATE_KEY_PLACEHOLDER:
        return body
    return {**body, "variables": {"input": {**given, "idempotencyKey": uuid.uuid4().hex}}}


def _document_uuid(value: str) -> str:
    return str(parse_global_id(value, expected_type="Document")[1])


def _digest(server: str, answer: dict[str, Any]) -> Any:
    """What must agree between the servers' answers: the total and the page's document uuids
    (PostGraphile's total is its own: row-level security alone, without the app's archive
    rule); for (f) the authorization as created, without its new id, number and time."""
    if server == PEER:
        return peer.digest(answer)
    data = answer.get("data") or {}
    if data.get("documents"):
        documents = data["documents"]
        ids = [_document_uuid(edge["node"]["id"]) for edge in documents["edges"]]
        return documents["totalCount"], ids
    if "node" in data:
        return None, [_document_uuid(data["node"]["id"])] if data["node"] else []
    if "createAuthorization" in data:
        created = data["createAuthorization"] or {}
        authorization = dict(created.get("authorization") or {})
        for varying in ("id", "number", "sentAt"):
            authorization.pop(varying, None)
        return authorization, created.get("userErrors")
    return data


async def _written(admin_url: str) -> dict[str, int]:
    connection = await asyncpg.connect(admin_url)
    try:
        counted = " UNION ALL ".join(
            f"SELECT '{t}', count(*) FROM {t}"  # noqa: S608 - fixed table names, no input
            for t in WRITTEN_TABLES
        )
        return {row[0]: row[1] for row in await connection.fetch(counted)}
    finally:
        await connection.close()


def _agreement(scenario: Scenario, digests: dict[str, Any]) -> str:
    """The "same answer" cell: app and raw alike, and PostGraphile's documents the same."""
    if digests.get(APP) is None or digests[APP] != digests.get(RAW):
        return "NO: app and raw differ"
    if PEER not in digests:
        return "yes"
    if digests[PEER] is None or digests[PEER][1] != digests[APP][1]:
        return "app = raw; PG documents differ"
    return "yes"


async def counting_pass(
    data: DataSet,
    tokens: dict[str, str],
    logs: Path,
    figures: Figures,
    *,
    requests: int = 10,
    scenarios: list[Scenario] = SCENARIOS,
) -> None:
    url = make_url(data.scratch.url)
    counter = RoundTripCounter(url.host or "127.0.0.1", url.port or 5432)
    port = await counter.start()
    via_proxy = url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    admin_url = data.scratch.admin_database_url
    try:
        async with (
            serving(data, via_proxy, tokens, logs, figures) as servers,
            httpx.AsyncClient(timeout=60) as client,
        ):
            for scenario in scenarios:
                digests: dict[str, Any] = {}
                written: dict[str, dict[str, float]] = {}
                for name in _servers_for(scenario, servers):
                    target = f"{servers[name].url}/graphql"
                    headers = {"Authorization": f"Bearer {_token(scenario, name, tokens)}"}
                    body = _body(scenario, data, name)
                    for _ in range(3):  # statements prepared, pool warm
                        answer = (
                            await client.post(target, json=_with_new_key(body), headers=headers)
                        ).json()
                    before, rows_before = counter.count, await _written(admin_url)
                    for _ in range(requests):
                        await client.post(target, json=_with_new_key(body), headers=headers)
                    figures.round_trips[(scenario.key, name)] = (counter.count - before) / requests
                    if scenario.query == "create":
                        rows_after = await _written(admin_url)
                        written[name] = {
                            t: (rows_after[t] - rows_before[t]) / requests for t in rows_after
                        }
                    if answer.get("errors"):
                        figures.notes.append(_errors_note(scenario, name, answer["errors"]))
                    digests[name] = _digest(name, answer)
                figures.same_answer[scenario.key] = _agreement(scenario, digests)
                if written:
                    _note_writes(figures, written)
                _note_totals(figures, scenario, digests)
    finally:
        await counter.close()


def _errors_note(scenario: Scenario, server: str, errors: list[dict[str, Any]]) -> str:
    first = errors[0]
    code = (first.get("extensions") or {}).get("code", "")
    path = ".".join(str(p) for p in first.get("path") or [])
    return (
        f"({scenario.key}) {server} answered {len(errors)} error(s) beside its data, first: "
        f"{code} {first.get('message', '')!r}" + (f" at {path}" if path else "")
    )


def _note_writes(figures: Figures, written: dict[str, dict[str, float]]) -> None:
    if written.get(APP) != written.get(RAW):
        figures.same_answer["f"] = "NO: app and raw write different rows"
    rows = ", ".join(f"{t} {n:g}" for t, n in written[APP].items() if n)
    figures.notes.append(f"(f) rows written per request (app; raw alike unless said): {rows}.")


def _note_totals(figures: Figures, scenario: Scenario, digests: dict[str, Any]) -> None:
    app, other = digests.get(APP), digests.get(PEER)
    if other and app and app[0] is not None and other[0] != app[0]:
        figures.notes.append(
            f"({scenario.key}) totalCount: app {app[0]:,}, PostGraphile {other[0]:,} (row-level "
            "security alone admits the archived documents the app's visibility rule leaves out)."
        )


# --- the run -------------------------------------------------------------------------------


async def _tokens(data: DataSet, figures: Figures) -> dict[str, str]:
    tokens = mint_tokens(data)
    if figures.peer_missing is None:
        family = await peer.account_family(data.scratch.admin_database_url, data.admin_id)
        tokens["peer"] = peer.mint(
            data.scratch.key_file,
            user_id=data.admin_id,
            account_ids=family,
            issuer=ISSUER,
            audience=AUDIENCE,
            ttl_seconds=TOKEN_TTL_SECONDS,
        )
    return tokens


def _command(args: argparse.Namespace) -> str:
    return (
        f"python -m bench.side_by_side --scale {args.scale} --accounts {args.accounts} "
        f"--rounds {args.rounds} --duration {args.duration} --connections {args.connections}"
        + (f" --profile-seconds {args.profile_seconds}" if args.profile_seconds else "")
        + (f" --scenarios {args.scenarios}" if args.scenarios != ALL_SCENARIOS else "")
    )


async def main(args: argparse.Namespace) -> None:
    started = datetime.now(UTC)
    stamp = f"{started:%Y%m%dT%H%M%SZ}"
    admin_url = os.environ.get("PORTAL_BENCH_DATABASE_URL", DEFAULT_ADMIN_URL)
    data_dir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    logs = data_dir / "logs"
    logs.mkdir()
    figures = Figures(peer_missing=peer.unavailable())
    if figures.peer_missing is None:
        figures.peer_version = peer.version()
    else:
        print(f"bench: without PostGraphile: {figures.peer_missing}")
    scratch = await create_scratch(admin_url, data_dir)
    try:
        print(f"bench: generating {args.scale:,} documents in {args.accounts} accounts ...")
        data = await build(scratch, accounts=args.accounts, documents=args.scale)
        print(f"bench: generated in {data.generated_seconds:.0f} s")
        tokens = await _tokens(data, figures)
        print("bench: counting round trips ...")
        await counting_pass(data, tokens, logs, figures, scenarios=selected_scenarios(args))
        if shutil.which("wrk") is None:
            figures.notes.append("wrk is not installed (scripts/ensure-wrk.sh): no timed rounds")
        else:
            await timed_pass(args, data, tokens, logs, figures, stamp)
        setup = Setup(
            command=_command(args),
            documents=data.documents,
            accounts=args.accounts,
            generated_seconds=data.generated_seconds,
            rounds=args.rounds,
            duration=args.duration,
            connections=args.connections,
        )
        text = table(setup, figures, started)
        print()
        print(text)
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{stamp}.md").write_text(text + "\n")
        print(f"\nbench: written to {RESULTS / f'{stamp}.md'}")
        print("bench: copy it into the README with: python -m bench.side_by_side --update-readme")
    finally:
        await scratch.drop()
        shutil.rmtree(data_dir, ignore_errors=True)


async def _run(
    args: argparse.Namespace,
    servers: dict[str, Server],
    scenario: Scenario,
    name: str,
    data: DataSet,
    tokens: dict[str, str],
    *,
    duration: int | None = None,
) -> Any:
    """One wrk run of ``scenario`` against server ``name``, with the run's connections, for
    ``duration`` seconds (default the run's ``--duration``)."""
    writes = scenario.query == "create"
    return await wrk(
        servers[name].pid,
        f"{servers[name].url}/graphql",
        _body(scenario, data, name),
        _token(scenario, name, tokens),
        duration=args.duration if duration is None else duration,
        connections=args.connections,
        key_placeholder=CREATE_KEY_PLACEHOLDER if writes else None,
    )


async def timed_pass(
    args: argparse.Namespace,
    data: DataSet,
    tokens: dict[str, str],
    logs: Path,
    figures: Figures,
    stamp: str,
) -> None:
    scenarios = selected_scenarios(args)
    keys = scenario_keys(args)
    async with serving(data, data.scratch.url, tokens, logs, figures) as servers:
        # Warm every server (prepared statements, caches) with as many connections as the
        # rounds use: each pooled connection is opened and its statements planned before round 1.
        for scenario in scenarios:
            for name in _servers_for(scenario, servers):
                await _run(args, servers, scenario, name, data, tokens, duration=2)
        await settled(data.scratch.admin_database_url)
        list_p99: list[float] = []
        busy_p99: list[float] = []
        merged = 0
        for round_number in range(args.rounds):
            for scenario in scenarios:
                names = _servers_for(scenario, servers)
                # Each round another server goes first.
                shift = round_number % len(names)
                for name in names[shift:] + names[:shift]:
                    run = await _run(args, servers, scenario, name, data, tokens)
                    # What this server left running is not the next one's load.
                    await settled(data.scratch.admin_database_url)
                    figures.add(scenario.key, name, run)
                    print(
                        f"round {round_number + 1} {scenario.key} {name}: {run.rps:.0f} req/s "
                        f"p50 {run.p50_ms:.1f} ms p99 {run.p99_ms:.1f} ms RSS {run.rss_mb:.0f} MB"
                        f" errors {run.errors}"
                    )
            if not {"a", "h"} <= keys:
                continue
            list_p99.append(figures.runs[("a", APP)][-1].p99_ms)
            app = servers[APP]
            async with downloading(app.url, data, tokens["admin"]) as done:
                run = await _run(args, servers, SCENARIOS[0], APP, data, tokens)
            merged += done[0]
            busy_p99.append(run.p99_ms)
            print(f"round {round_number + 1} h: list p99 {run.p99_ms:.1f} ms, {done[0]} downloads")
        if "g" in keys:
            app_ms, bare_ms, pages = await downloads(
                servers[APP].url, data, tokens["admin"], times=5
            )
            figures.notes.append(
                f"(g) merged download of {len(data.pdf_document_ids)} one-page documents "
                f"({pages} pages), prepare + fetch over HTTP (page count not timed): "
                f"median {_median(app_ms):.0f} ms; bare in-process pypdf merge of the same "
                f"files: median {_median(bare_ms):.0f} ms; "
                f"**{_median(app_ms) / _median(bare_ms):.2f}x** the bare merge."
            )
        if list_p99:
            rises = [busy / idle for busy, idle in zip(busy_p99, list_p99, strict=True) if idle]
            figures.notes.append(
                f"(h) list (a) p99 while 2 clients download merged PDFs back to back: "
                f"{', '.join(f'{p:.1f}' for p in busy_p99)} ms against "
                f"{', '.join(f'{p:.1f}' for p in list_p99)} ms without "
                f"(rises {', '.join(f'{r:.2f}' for r in rises)}; median "
                f"**{_median(rises):.2f}x**; {merged} downloads completed meanwhile)."
            )
        if args.profile_seconds and "a" in keys:
            figures.notes += [
                "",
                "```",
                *await profile(servers[APP], data, tokens, args, stamp),
                "```",
            ]


async def profile(
    server: Server, data: DataSet, tokens: dict[str, str], args: argparse.Namespace, stamp: str
) -> list[str]:
    seconds = args.profile_seconds
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if spy is None:
        return ["py-spy is not installed (the bench extra installs it): no profile"]
    out = RESULTS / f"{stamp}-profile-a.txt"
    recorder = await asyncio.create_subprocess_exec(
        spy, "record", "--pid", str(server.pid), "--duration", str(seconds), "--rate", "200",
        "--format", "raw", "--output", str(out),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    await _run(args, {APP: server}, SCENARIOS[0], APP, data, tokens, duration=seconds + 2)
    message = (await recorder.communicate())[0].decode()
    if recorder.returncode != 0 or not out.exists():
        return [f"py-spy could not profile the app: {message.strip()[-500:]}"]
    return [
        f"py-spy, {seconds} s of (a) at -c{args.connections}; raw stacks in {out.name}",
        "",
        *top_frames(out.read_text()),
    ]


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=100_000, help="documents (up to 1,000,000)")
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--profile-seconds", type=int, default=0, help="py-spy (a) this long")
    parser.add_argument(
        "--scenarios",
        default=ALL_SCENARIOS,
        help=f"the scenarios to run, comma-separated (default all: {ALL_SCENARIOS}); (h) needs "
        "(a), and the profile is of (a)",
    )
    parser.add_argument(
        "--update-readme",
        nargs="?",
        const="newest",
        metavar="RESULT",
        help="no run: copy a results file (default the newest in bench/results) into the "
        "README's Performance section, between its bench:latest markers",
    )
    parsed = parser.parse_args(argv)
    if not 1 <= parsed.scale <= MAX_SCALE:
        parser.error(f"--scale is 1 to {MAX_SCALE:,} documents")
    if not 1 <= parsed.accounts <= parsed.scale:
        parser.error("--accounts is 1 to --scale")
    unknown = scenario_keys(parsed) - set(ALL_SCENARIOS.split(","))
    if unknown:
        parser.error(f"--scenarios: no scenario {', '.join(sorted(unknown))} ({ALL_SCENARIOS})")
    return parsed


def selected_scenarios(args: argparse.Namespace) -> list[Scenario]:
    """The load scenarios ``--scenarios`` names, in the table's order."""
    keys = scenario_keys(args)
    return [scenario for scenario in SCENARIOS if scenario.key in keys]


def scenario_keys(args: argparse.Namespace) -> set[str]:
    """Every scenario ``--scenarios`` names (the load scenarios, "g" and "h")."""
    return set(args.scenarios.split(","))


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
    options = arguments()
    if options.update_readme is not None:
        chosen = None if options.update_readme == "newest" else Path(options.update_readme)
        print(f"bench: README updated from {update_readme(result=chosen)}")
    else:
        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(interruptible(options))
