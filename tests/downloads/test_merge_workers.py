"""The merge worker processes: up before the first download, kept between merges, ended with the
app, and replaced when one dies (the download it was merging is cut off, the next one works)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from pypdf import PdfReader, PdfWriter
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from starlette.applications import Starlette

from portal.app import create_app
from portal.auth.principal import Principal, PrincipalKind
from portal.resolvers.downloads import MergePool, StagedPart
from portal.resolvers.downloads import merge as merge_module
from portal.settings import Settings
from tests.downloads.conftest import DownloadWorld
from tests.downloads.test_presigned_download import _prepare, _ticket
from tests.support.slow_merge import slow_merge
from tests.support.world import World


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A child that died but was not reaped yet is a zombie: not running.
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return True


async def _gone(pids: list[int]) -> bool:
    for _ in range(200):
        if not any(_alive(pid) for pid in pids):
            return True
        await asyncio.sleep(0.05)
    return False


def _one_page_pdf(path: Path) -> Path:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    with path.open("wb") as handle:
        writer.write(handle)
    return path


async def test_the_app_starts_its_merge_workers_before_any_download_and_ends_them_with_it(
    settings: Settings,
) -> None:
    # Given an app of two merge slots
    app = create_app(settings.model_copy(update={"download_max_concurrent_merges": 2}))
    pool: MergePool = app.state.merges
    assert pool.worker_pids() == []

    # When it starts
    async with app.router.lifespan_context(app):
        # Then both workers are up before anything was downloaded
        started = pool.worker_pids()
        assert len(started) == 2
        assert all(_alive(pid) for pid in started)

    # And they end with the app
    assert pool.worker_pids() == []
    assert await _gone(started)


async def test_merges_reuse_the_workers_that_are_up(tmp_path: Path) -> None:
    # Given a started pool and a one-page PDF
    pool = MergePool(1)
    source = _one_page_pdf(tmp_path / "one.pdf")
    try:
        await pool.start()
        workers = pool.worker_pids()

        # When three merges run one after another
        pages = [
            await pool.merge(tmp_path / f"merged-{n}.pdf", [StagedPart(str(source), "One")] * 3)
            for n in range(3)
        ]

        # Then each was merged by the worker that was already up: none was started for them
        assert pages == [3, 3, 3]
        assert pool.worker_pids() == workers
    finally:
        pool.shutdown()


async def test_a_worker_killed_mid_merge_cuts_that_download_off_and_the_next_one_works(
    app: Starlette,
    http: httpx.AsyncClient,
    db: AsyncSession,
    world: World,
    download_world: DownloadWorld,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a prepared download and the app's merge workers up, whose merges begin after a
    # moment (so that the test is sure to kill them in the middle of one)
    pool: MergePool = app.state.merges
    await pool.start()
    monkeypatch.setattr(merge_module, "merge_files", slow_merge)
    url, token = await _prepare(
        db, Principal(kind=PrincipalKind.USER, id=world.acme_admin.id), download_world.acme
    )

    # When every merge worker is killed while the download's merge is in their hands
    with caplog.at_level(logging.ERROR, logger="portal.resolvers.downloads.merge"):
        fetching = asyncio.create_task(http.get(url))
        # Looked at on every turn of the loop: a merge of these small files (pikepdf) can take
        # less time than a timer's tick, and the download's own task waits on it in between.
        deadline = time.monotonic() + 30
        while True:
            if pool.running or fetching.done() or time.monotonic() > deadline:
                break
            await asyncio.sleep(0)
        assert pool.running, "the merge never started"
        killed = pool.worker_pids()
        for pid in killed:
            os.kill(pid, signal.SIGKILL)
        outcome = await asyncio.gather(fetching, return_exceptions=True)

    # Then that download is cut off (its PDF was announced, never completed), the death is
    # logged, and the ticket is left unspent and unclaimed
    assert isinstance(outcome[0], Exception), outcome
    assert "merge worker process died" in caplog.text
    ticket = await _ticket(db, token)
    assert ticket.used_at is None
    assert ticket.claimed_until is None

    # And the same link then delivers the whole PDF, merged by new workers
    retry = await http.get(url)
    assert retry.status_code == 200, retry.text
    assert len(PdfReader(io.BytesIO(retry.content)).pages) == sum(
        document.page_count for document in download_world.acme
    )
    assert not set(pool.worker_pids()) & set(killed)


async def test_a_worker_that_died_between_merges_fails_no_download(tmp_path: Path) -> None:
    # Given a started pool whose worker then dies while idle (killed, out of memory)
    pool = MergePool(1)
    source = _one_page_pdf(tmp_path / "one.pdf")
    try:
        await pool.start()
        [dead] = pool.worker_pids()
        os.kill(dead, signal.SIGKILL)
        assert await _gone([dead])
        await asyncio.sleep(0.2)  # the pool notices

        # When the next merge comes
        pages = await pool.merge(tmp_path / "merged.pdf", [StagedPart(str(source), "One")])

        # Then a new worker merges it
        assert pages == 1
        assert dead not in pool.worker_pids()
    finally:
        pool.shutdown()


async def test_a_delivered_download_costs_two_transactions(
    http: httpx.AsyncClient,
    connection: AsyncConnection,
    db: AsyncSession,
    world: World,
    download_world: DownloadWorld,
) -> None:
    # Given a prepared download (and the route's statements prepared by one fetch already)
    owner = Principal(kind=PrincipalKind.USER, id=world.acme_admin.id)
    warm, _ = await _prepare(db, owner, download_world.acme)
    assert (await http.get(warm)).status_code == 200
    url, token = await _prepare(db, owner, download_world.acme)
    transactions: list[str] = []
    statements: list[str] = []

    def began(conn: Any, name: str) -> None:
        transactions.append(name)

    def sent(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        statements.append(" ".join(sql.split()).upper())

    # When it is fetched
    raw = connection.sync_connection
    assert raw is not None
    event.listen(raw, "savepoint", began)
    event.listen(raw, "before_cursor_execute", sent)
    try:
        response = await http.get(url)
    finally:
        event.remove(raw, "savepoint", began)
        event.remove(raw, "before_cursor_execute", sent)

    # Then it took one transaction to find, check and claim the ticket and read what to merge,
    # and one to spend it and write its audit rows (it was five: lookups, claim, access check,
    # spend, audit)
    assert response.status_code == 200
    assert len(transactions) == 2, (transactions, statements)
    # the audit rows, inserted by one statement (the one spending the ticket)
    assert sum("INSERT INTO AUDIT_EVENTS" in sql for sql in statements) == 1, statements
    ticket = await _ticket(db, token)
    assert ticket.used_at is not None
