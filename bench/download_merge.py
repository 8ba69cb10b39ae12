"""Where the time of a merged download goes, stage by stage (``bench.side_by_side``'s (g)).

Run: ``.venv/bin/python -m bench.download_merge [--times 20] [--profile-seconds 0]``.

Makes a small scratch data set (``bench.dataset``: 20 documents with one-page PDFs), starts the
app as one production-mode uvicorn process, and times downloads of those 20 documents over HTTP:
the ``prepareDocumentDownload`` mutation, the GET up to its first body bytes (the ticket redeemed,
the access checked again, the files read, checked and staged), up to its last byte (the merge in a
worker process and the streaming), and the end of the response (the ticket spent, the audit
written). Then, in this process, the pieces on their own: the bare pypdf merge ``side_by_side``
compares against, the app's ``merge_files`` on the same files, and one merge through a warm
``MergePool`` (the cost of handing a merge to a worker process). With ``--profile-seconds`` it
also records the app with py-spy while downloads run back to back. A benchmark, not a test: it
never fails on time."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
from pypdf import PdfReader
from sqlalchemy.engine import make_url

from bench.dataset import DataSet, build, create_scratch
from bench.merged_downloads import bare_merge
from bench.pgcount import RoundTripCounter
from bench.scenarios import PREPARE_DOWNLOAD, QUERIES
from bench.side_by_side import DEFAULT_ADMIN_URL, Server, _wait_ready, start_app
from portal.auth.keys import load_or_create_keys
from portal.auth.tokens import SubjectKind, TokenService
from portal.ids import global_id
from portal.resolvers.downloads import MergePool, StagedPart, merge_files


async def _download(
    client: httpx.AsyncClient,
    server: Server,
    data: DataSet,
    token: str,
    *,
    counter: RoundTripCounter | None = None,
    counts: list[tuple[int, int]] | None = None,
) -> dict[str, float]:
    """One download, with the time (ms) each stage ended at."""
    headers = {"Authorization": f"Bearer {token}"}
    ids = [global_id("Document", document_id) for document_id in data.pdf_document_ids]
    began = time.perf_counter()
    marks: dict[str, float] = {}
    prepared = (
        await client.post(
            f"{server.url}/graphql",
            json={"query": PREPARE_DOWNLOAD, "variables": {"input": {"documentIds": ids}}},
            headers=headers,
        )
    ).json()
    marks["prepare"] = time.perf_counter()
    prepared_at = counter.count if counter is not None else 0
    payload = prepared["data"]["prepareDocumentDownload"]
    if payload["url"] is None:
        raise RuntimeError(f"no download prepared: {payload['userErrors']}")
    path = httpx.URL(payload["url"]).raw_path.decode()
    body = bytearray()
    async with client.stream("GET", f"{server.url}{path}", headers=headers) as response:
        response.raise_for_status()
        marks["headers"] = time.perf_counter()
        chunks = response.aiter_raw()
        async for chunk in chunks:
            if not body:
                marks["first bytes"] = time.perf_counter()
            body += chunk
            if body.rstrip().endswith(b"%%EOF") and "last byte" not in marks:
                marks["last byte"] = time.perf_counter()
    marks["response end"] = time.perf_counter()
    if counter is not None and counts is not None:
        await asyncio.sleep(0.2)  # what the server still does after the response counts too
        counts.append((prepared_at, counter.count - prepared_at))
    pages = len(PdfReader(io.BytesIO(bytes(body))).pages)
    marks["client parse"] = time.perf_counter()
    if pages != len(ids):
        raise RuntimeError(f"{pages} pages for {len(ids)} documents")
    marks.setdefault("last byte", marks["response end"])
    stages: dict[str, float] = {}
    previous = began
    for name in ("prepare", "headers", "first bytes", "last byte", "response end", "client parse"):
        stages[name] = (marks[name] - previous) * 1000
        previous = marks[name]
    stages["total"] = (marks["client parse"] - began) * 1000
    return stages


def _timed(function: Callable[[], object], times: int) -> float:
    timings = []
    for _ in range(times):
        began = time.perf_counter()
        function()
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings)


async def _pool_merge(parts: list[StagedPart], folder: Path, times: int) -> tuple[float, float]:
    pool = MergePool(1)
    try:
        await pool.merge(folder / "warm.pdf", parts)
        timings = []
        for n in range(times):
            began = time.perf_counter()
            await pool.merge(folder / f"pool-{n}.pdf", parts)
            timings.append((time.perf_counter() - began) * 1000)
        cold = MergePool(1)
        began = time.perf_counter()
        await cold.merge(folder / "cold.pdf", parts)
        cold_ms = (time.perf_counter() - began) * 1000
        cold.shutdown()
        return statistics.median(timings), cold_ms
    finally:
        pool.shutdown()


async def _profile(server: Server, seconds: int, run: Callable[[], object]) -> None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    output = Path(tempfile.gettempdir()) / f"download-merge-{os.getpid()}.txt"
    process = await asyncio.create_subprocess_exec(
        spy,
        "record",
        "--pid",
        str(server.pid),
        "--duration",
        str(seconds),
        "--subprocesses",
        "--format",
        "raw",
        "--output",
        str(output),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    waiter = asyncio.create_task(process.wait())
    while not waiter.done():
        await run()  # type: ignore[misc]
    print(f"py-spy raw profile (collapsed stacks) written to {output}")


@contextlib.asynccontextmanager
async def _serving(
    data: DataSet, database_url: str, token: str, logs: Path
) -> AsyncIterator[Server]:
    server = start_app(data, database_url, logs)
    try:
        await _wait_ready(server, token, QUERIES["viewer"])
        yield server
    finally:
        # Waited for without blocking the loop: the round-trip counter's proxy runs on it.
        server.process.terminate()
        for _ in range(150):
            if server.process.poll() is not None:
                break
            await asyncio.sleep(0.1)
        else:
            server.process.kill()
            server.process.wait()


async def _timed_downloads(
    args: argparse.Namespace, server: Server, data: DataSet, token: str
) -> list[dict[str, float]]:
    runs: list[dict[str, float]] = []
    async with httpx.AsyncClient(timeout=120) as client:
        for _ in range(3):  # the pool, the statements and the merge workers warm
            await _download(client, server, data, token)
        for _ in range(args.times):
            run = await _download(client, server, data, token)
            # The bare merge right after each download, as side_by_side's (g) does.
            began = time.perf_counter()
            bare_merge(data)
            run["bare merge"] = (time.perf_counter() - began) * 1000
            run["ratio"] = run["total"] / run["bare merge"]
            runs.append(run)
        if args.profile_seconds:
            await _profile(
                server, args.profile_seconds, lambda: _download(client, server, data, token)
            )
    return runs


async def main(args: argparse.Namespace) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    logs = data_dir / "logs"
    logs.mkdir()
    scratch = await create_scratch(
        os.environ.get("PORTAL_BENCH_DATABASE_URL", DEFAULT_ADMIN_URL), data_dir
    )
    try:
        data = await build(scratch, accounts=2, documents=200)
        service = TokenService(
            keys=load_or_create_keys(key_file=scratch.key_file, data_dir=data_dir),
            issuer="employer-health-portal",
            audience="employer-health-portal-api",
            ttl_seconds=600,
        )
        token = service.mint(kind=SubjectKind.USER, subject_id=data.admin_id)[0]
        async with _serving(data, scratch.url, token, logs) as server:
            runs = await _timed_downloads(args, server, data, token)
        url = make_url(scratch.url)
        counter = RoundTripCounter(url.host or "127.0.0.1", url.port or 5432)
        via_proxy = url.set(host="127.0.0.1", port=await counter.start())
        try:
            async with (
                _serving(
                    data, via_proxy.render_as_string(hide_password=False), token, logs
                ) as server,
                httpx.AsyncClient(timeout=120) as client,
            ):
                await _download(client, server, data, token)
                counts: list[tuple[int, int]] = []
                for _ in range(5):
                    counter.count = 0
                    await _download(client, server, data, token, counter=counter, counts=counts)
        finally:
            await counter.close()
        print(f"over HTTP, {args.times} downloads of {len(data.pdf_keys)} one-page documents")
        print("(median ms of each stage, from the end of the one before):")
        for name in runs[0]:
            if name not in ("bare merge", "ratio"):
                print(f"  {name:<14} {statistics.median(run[name] for run in runs):7.1f}")
        print(
            f"(g): download {statistics.median(run['total'] for run in runs):.1f} ms, bare merge "
            f"{statistics.median(run['bare merge'] for run in runs):.1f} ms right after each; "
            f"median ratio {statistics.median(run['ratio'] for run in runs):.2f}x"
        )

        folder = data_dir / "merge"
        folder.mkdir()
        parts = []
        for index, key in enumerate(data.pdf_keys):
            path = folder / f"part-{index:03d}.pdf"
            path.write_bytes(scratch.storage.path_for(key).read_bytes())
            parts.append(StagedPart(path=str(path), title=f"Part {index}"))
        numbers = iter(range(10**6))

        def app_merge() -> None:
            merge_files(str(folder / f"m-{next(numbers)}.pdf"), parts)

        prepare = statistics.median(count[0] for count in counts)
        fetch = statistics.median(count[1] for count in counts)
        print(f"SQL round trips: prepare {prepare:.0f}, GET {fetch:.0f} (median of 5)")
        print("in this process (median ms):")
        print(f"  bare merge     {_timed(lambda: bare_merge(data), args.times):7.1f}")
        print(f"  merge_files    {_timed(app_merge, args.times):7.1f}")
        warm, cold = await _pool_merge(parts, folder, args.times)
        print(f"  warm MergePool {warm:7.1f}")
        print(f"  cold MergePool {cold:7.1f} (a pool's first merge: the worker starts)")
    finally:
        await scratch.drop()
        shutil.rmtree(data_dir, ignore_errors=True)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--times", type=int, default=20, help="downloads timed")
    parser.add_argument("--profile-seconds", type=int, default=0, help="py-spy the app this long")
    return parser.parse_args(argv)


if __name__ == "__main__":
    asyncio.run(main(arguments()))
