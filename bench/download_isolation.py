"""The documents list's latency while large merged-PDF downloads are produced.

Run: ``.venv/bin/python -m bench.download_isolation [--requests 200] [--merges 2]``. It uses
PORTAL_DATABASE_URL, or the embedded PostgreSQL under the data folder, seeds the demo if needed,
and prints the list's p50/p99 quiet, then while ``--merges`` 200-document merges run in the app's
merge worker processes, then (for comparison) while the same merges run in threads of the
serving process, as they did before. It also prints the event loop's lag (how late a 5 ms timer
fires) in the same three situations: the share of the serving process a merge takes, free of the
database's noise. A benchmark, not a test: it never fails on time."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable, Coroutine
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from sqlmodel import col

from portal.app import create_app
from portal.auth.tokens import SubjectKind
from portal.cli import resolve_database_url
from portal.migrations import upgrade_async
from portal.models import Document
from portal.models.db import AccountScope, create_engine, create_sessionmaker, scoped_session
from portal.resolvers.downloads import MergePool, StagedPart, merge_files
from portal.seed.demo import demo_id, seed_demo
from portal.settings import get_settings
from portal.storage import LocalDocumentStorage

LIST = (
    "{ documents(first: 50) { totalCount edges { node { id name postedAt pageCount "
    "reportType { code } employee { lastName } } } } }"
)
PARTS = 200


def _figures(timings: list[float]) -> tuple[float, float]:
    ordered = sorted(timings)
    return statistics.median(ordered), ordered[max(0, round(len(ordered) * 0.99) - 1)]


async def _measure(
    client: httpx.AsyncClient, headers: dict[str, str], requests: int, busy: Callable[[], bool]
) -> list[float]:
    timings: list[float] = []
    for _ in range(requests):
        if not busy():
            break
        started = time.perf_counter()
        response = await client.post("/graphql", json={"query": LIST}, headers=headers)
        timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200 or "errors" in response.json():
            raise SystemExit(f"the list failed: {response.text}")
    return timings


async def _loop_lag(busy: Callable[[], bool], *, at_most: float) -> list[float]:
    """How late (ms) a 5 ms sleep wakes up, while ``busy``, for at most ``at_most`` seconds."""
    lags: list[float] = []
    started = time.perf_counter()
    while busy() and time.perf_counter() - started < at_most:
        before = time.perf_counter()
        await asyncio.sleep(0.005)
        lags.append((time.perf_counter() - before - 0.005) * 1000)
    return lags


async def main(requests: int, merges: int) -> None:
    settings = get_settings()
    url = await asyncio.to_thread(resolve_database_url, settings)
    settings = settings.model_copy(update={"database_url": url})
    assert settings.database_url
    await upgrade_async(settings.database_url)
    engine = create_engine(settings.database_url)
    storage = LocalDocumentStorage(root=settings.resolved_data_dir / "documents")
    async with scoped_session(create_sessionmaker(engine), AccountScope.everything()) as session:
        await seed_demo(
            session,
            password=settings.demo_password.get_secret_value(),
            storage=storage,
            today=date.today(),
        )
        key = await session.scalar(sa.select(col(Document.storage_key)).limit(1))
    await engine.dispose()
    assert key is not None

    app = create_app(settings.model_copy(update={"download_max_concurrent_merges": merges}))
    pool: MergePool = app.state.merges
    admin_id = demo_id("user", "admin@acme.example")
    token, _ = app.state.tokens.mint(kind=SubjectKind.USER, subject_id=admin_id)
    headers = {"Authorization": f"Bearer {token}"}
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "source.pdf"
        source.write_bytes(await storage.get(key))
        parts = [StagedPart(path=str(source), title=f"part {n}") for n in range(PARTS)]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            await _measure(client, headers, 20, lambda: True)  # warm caches and the pool
            quiet = await _measure(client, headers, requests, lambda: True)

            async def during(start: Callable[[int], Coroutine[Any, Any, object]]) -> list[float]:
                tasks: list[asyncio.Task[object]] = [
                    asyncio.create_task(start(n)) for n in range(merges)
                ]
                await asyncio.sleep(0.05)
                try:
                    return await _measure(
                        client, headers, requests, lambda: not all(t.done() for t in tasks)
                    )
                finally:
                    await asyncio.gather(*tasks)

            def output(n: int, kind: str) -> Path:
                return Path(folder) / f"{kind}-{n}-{time.monotonic_ns()}.pdf"

            async def in_process(n: int) -> object:
                return await pool.merge(output(n, "process"), parts)

            async def in_thread(n: int) -> object:
                return await asyncio.to_thread(merge_files, str(output(n, "thread")), parts)

            processes = await during(in_process)
            threads = await during(in_thread)

            async def lag_during(
                start: Callable[[int], Coroutine[Any, Any, object]],
            ) -> list[float]:
                tasks = [asyncio.create_task(start(n)) for n in range(merges)]
                try:
                    return await _loop_lag(lambda: not all(t.done() for t in tasks), at_most=600)
                finally:
                    await asyncio.gather(*tasks)

            lag_quiet = await _loop_lag(lambda: True, at_most=3)
            lag_processes = await lag_during(in_process)
            lag_threads = await lag_during(in_thread)
    pool.shutdown()
    await app.state.engine.dispose()
    for name, timings in (
        ("quiet", quiet),
        (f"{merges} merges in worker processes", processes),
        (f"{merges} merges in threads (before)", threads),
    ):
        p50, p99 = _figures(timings)
        rate = len(timings) / (sum(timings) / 1000)
        print(
            f"{name:<36} n={len(timings):<5} p50={p50:8.2f} ms p99={p99:8.2f} ms "
            f"{rate:6.1f} lists/s"
        )
    for name, lags in (
        ("event loop lag, quiet", lag_quiet),
        ("event loop lag, merges in processes", lag_processes),
        ("event loop lag, merges in threads", lag_threads),
    ):
        p50, p99 = _figures(lags)
        print(f"{name:<36} n={len(lags):<5} p50={p50:8.2f} ms p99={p99:8.2f} ms")
    print(f"p99 ratio with worker processes: {_figures(processes)[1] / _figures(quiet)[1]:.2f}x")
    print(f"p99 ratio with threads:          {_figures(threads)[1] / _figures(quiet)[1]:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--merges", type=int, default=2)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.requests, arguments.merges))
