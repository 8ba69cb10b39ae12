"""The default pool keeps every connection it opens: a burst of concurrent requests within the
pool's size opens PostgreSQL backends once, and the next burst reuses them (an overflow
connection would be closed on return and opened again, a new backend each time)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from starlette.applications import Starlette

from portal.auth.tokens import SubjectKind, TokenService
from portal.settings import Settings
from tests.security.conftest import production_like_app
from tests.support.world import World

BURST = 16


@pytest.fixture
async def default_pool_app(settings: Settings) -> AsyncIterator[Starlette]:
    defaults = Settings.model_fields
    app = production_like_app(
        settings,
        db_pool_size=defaults["db_pool_size"].default,
        db_max_overflow=defaults["db_max_overflow"].default,
    )
    yield app
    await app.state.engine.dispose()


async def _burst(client: httpx.AsyncClient, token: str) -> None:
    answers = await asyncio.gather(
        *(
            client.post(
                "/graphql",
                json={"query": "{ documents(first: 5) { edges { node { id name } } } }"},
                headers={"Authorization": f"Bearer {token}"},
            )
            for _ in range(BURST)
        )
    )
    assert all(answer.status_code == 200 for answer in answers), answers


async def test_a_second_burst_of_concurrent_requests_opens_no_new_connection(
    default_pool_app: Starlette, tokens: TokenService, world: World
) -> None:
    # given the app with the default pool, and a count of the connections it opens
    opened: list[Any] = []
    pool = default_pool_app.state.engine.sync_engine.pool
    event.listen(pool, "connect", lambda *args: opened.append(args))
    token, _ = tokens.mint(kind=SubjectKind.USER, subject_id=world.acme_admin.id)
    transport = httpx.ASGITransport(app=default_pool_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        # when 16 requests arrive at once, twice
        await _burst(client, token)
        first = len(opened)
        await _burst(client, token)

    # then the second burst reused the first one's connections
    assert first >= 1
    assert len(opened) == first, f"{len(opened) - first} connections opened again"
