"""Waiting for the database to finish what a server left running before the next server's run.

wrk stops at its deadline with requests still in flight: their statements go on in PostgreSQL
(PostGraphile's page of (a) takes about half a second each). Without the wait, their CPU is spent
during the first second of the next server's run, and only that server's figures pay for it."""

from __future__ import annotations

import asyncio
import time

import asyncpg

_ACTIVE = """SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()"""
# Looked at every 50 ms, for at most 30 s (then the run goes on regardless).
_POLL_SECONDS = 0.05
_POLLS = 600


async def settled(admin_database_url: str) -> float:
    """Wait until no statement runs in the database of ``admin_database_url`` (but this one),
    at most 30 s; answer the seconds waited."""
    began = time.monotonic()
    connection = await asyncpg.connect(admin_database_url)
    try:
        for _ in range(_POLLS):
            if not await connection.fetchval(_ACTIVE):
                break
            await asyncio.sleep(_POLL_SECONDS)
    finally:
        await connection.close()
    return time.monotonic() - began
