"""The side-by-side benchmark waits for what one server left running in PostgreSQL before the
next server's run (bench/settle.py): a server following PostGraphile no longer pays for the
statements still running from its run."""

from __future__ import annotations

import asyncio

import asyncpg
from bench.settle import settled


async def test_settled_waits_for_a_statement_left_running(database_url: str) -> None:
    # given a statement still running in the database for half a second
    sleeper = await asyncpg.connect(database_url)
    try:
        running = asyncio.create_task(sleeper.execute("SELECT pg_sleep(0.5)"))
        await asyncio.sleep(0.1)

        # when the benchmark waits for the database to settle
        waited = await settled(database_url)

        # then it waited until the statement was over
        assert waited >= 0.3
        await asyncio.wait_for(running, timeout=0.2)
    finally:
        await sleeper.close()


async def test_settled_answers_at_once_when_nothing_runs(database_url: str) -> None:
    # given a database where nothing runs; when the benchmark waits; then it hardly waits
    assert await settled(database_url) < 0.3
