"""Two createAuthorization calls with one idempotency key at the same moment, each on its own
database connection (as in production): one authorization, both answers name it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col
from starlette.applications import Starlette

from portal.app import create_app
from portal.auth.tokens import SubjectKind, TokenService
from portal.models import Authorization, IdempotencyKey, OutboxMessage
from portal.models.db import AccountScope, set_scope
from portal.settings import Settings
from tests.schema.authorizations.conftest import CREATE, base_input
from tests.support.graphql import GraphQLClient
from tests.support.world import World


@pytest.fixture
async def separate_app(settings: Settings) -> AsyncIterator[Starlette]:
    """The app with its own engine: every request gets its own pooled connection."""
    app = create_app(settings)
    yield app
    await app.state.engine.dispose()


@pytest.fixture
async def race_key(engine: AsyncEngine, world: World) -> AsyncIterator[tuple[str, datetime]]:
    """A fresh key and the moment the test starts; what the committed requests wrote (after that
    moment) is removed afterwards."""
    key = "race-" + uuid.uuid4().hex
    started = datetime.now(UTC)
    yield key, started
    async with AsyncSession(engine) as session:
        set_scope(session, AccountScope.everything())
        ids = list(
            await session.scalars(
                sa.select(col(Authorization.id)).where(
                    col(Authorization.created_by_user_id) == world.acme_admin.id,
                    col(Authorization.created_at) >= started,
                )
            )
        )
        for authorization_id in ids:
            await session.execute(
                sa.delete(OutboxMessage).where(
                    sa.cast(col(OutboxMessage.payload), sa.Text).contains(str(authorization_id))
                )
            )
        await session.execute(sa.delete(Authorization).where(col(Authorization.id).in_(ids)))
        await session.execute(sa.delete(IdempotencyKey).where(col(IdempotencyKey.key) == key))
        await session.commit()


async def test_two_concurrent_calls_with_one_key_create_one_authorization(
    separate_app: Starlette, engine: AsyncEngine, world: World, race_key: tuple[str, datetime]
) -> None:
    key, started = race_key
    tokens: TokenService = separate_app.state.tokens
    token = tokens.mint(kind=SubjectKind.USER, subject_id=world.acme_admin.id)[0]
    transport = httpx.ASGITransport(app=separate_app)
    given = {"input": base_input(world, idempotencyKey=key)}
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        client = GraphQLClient(http, token)
        # When the same call is made twice at the same moment
        answers = await asyncio.gather(client(CREATE, given), client(CREATE, given))
    payloads = [answer.ok()["createAuthorization"] for answer in answers]
    # Then both succeed with the same authorization
    assert [p["userErrors"] for p in payloads] == [[], []]
    ids = {p["authorization"]["id"] for p in payloads}
    assert len(ids) == 1
    # And only one was written
    async with AsyncSession(engine) as session:
        set_scope(session, AccountScope.everything())
        written = await session.scalar(
            sa.select(sa.func.count())
            .select_from(Authorization)
            .where(
                col(Authorization.created_by_user_id) == world.acme_admin.id,
                col(Authorization.created_at) >= started,
            )
        )
    assert written == 1
