"""Support-request changes are audited, by whom and for which account. These requests run on
their own connections, as in production (the audit trail commits in its own transaction, which
the usual test transaction would undo), so the test removes what it created."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from starlette.applications import Starlette

from portal.auth.tokens import SubjectKind, TokenService
from portal.models import AuditEvent
from portal.models.db import AccountScope, create_sessionmaker, scoped_session
from portal.schema.relay import decode_global_id
from tests.schema.support.conftest import create, move
from tests.support.graphql import GraphQLClient
from tests.support.world import World


@pytest.fixture
async def committing(
    app: Starlette, engine: AsyncEngine, tokens: TokenService, world: World
) -> AsyncIterator[dict[str, GraphQLClient]]:
    graphql = app.state.graphql
    previous = graphql.sessionmaker
    graphql.sessionmaker = create_sessionmaker(engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield {
            "basic": GraphQLClient(
                client, tokens.mint(kind=SubjectKind.USER, subject_id=world.acme_basic.id)[0]
            ),
            "staff": GraphQLClient(
                client, tokens.mint(kind=SubjectKind.STAFF, subject_id=world.staff.id)[0]
            ),
        }
    graphql.sessionmaker = previous


async def test_opening_and_moving_a_request_are_audited(
    committing: dict[str, GraphQLClient], engine: AsyncEngine, world: World
) -> None:
    sessionmaker = create_sessionmaker(engine)
    request = await create(committing["basic"])
    row_id = decode_global_id(request["id"])
    try:
        # When the requester opens it and staff take it
        assert (await move(committing["staff"], request["id"], "IN_PROGRESS"))["userErrors"] == []
        # Then both are in the audit trail, with the actor and the account
        async with scoped_session(sessionmaker, AccountScope.everything()) as session:
            events = (
                await session.execute(
                    sa.select(
                        col(AuditEvent.action), col(AuditEvent.actor_id), col(AuditEvent.account_id)
                    ).where(sa.literal(str(row_id)) == sa.any_(col(AuditEvent.object_ids)))
                )
            ).all()
        actions = {tuple(event) for event in events}
        assert ("support_request.created", world.acme_basic.id, world.acme.id) in actions
        assert ("support_request.status_changed", world.staff.id, world.acme.id) in actions
    finally:
        async with scoped_session(sessionmaker, AccountScope.everything()) as session:
            await session.execute(
                sa.text("DELETE FROM support_requests WHERE id = :id"), {"id": row_id}
            )
            await session.execute(
                sa.text("DELETE FROM outbox_messages WHERE payload::text LIKE '%' || :gid || '%'"),
                {"gid": request["id"]},
            )
            await session.commit()
