"""Helpers for the documents, employees and visits tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette

from portal.auth.tokens import SubjectKind, TokenService
from portal.models.db import create_sessionmaker
from tests.support.graphql import GraphQLClient
from tests.support.world import World


@pytest.fixture
def account_only_client(
    http: httpx.AsyncClient, tokens: TokenService, world: World
) -> GraphQLClient:
    """Acme's API client with a token carrying `account:read` only (no documents, no visits)."""
    token, _ = tokens.mint(
        kind=SubjectKind.CLIENT, subject_id=world.acme_client.id, scopes=frozenset({"account:read"})
    )
    return GraphQLClient(http, token)


@pytest.fixture
async def committing_clients(
    app: Starlette, engine: AsyncEngine, tokens: TokenService, world: World
) -> AsyncIterator[dict[str, GraphQLClient]]:
    """Clients whose requests run on their own connections, as in production.

    The usual ``http`` fixture runs every request inside the test's one transaction; the audit
    trail is written (in its own session) while the request's savepoint is still open, so the
    request's rollback would undo it. These requests read only committed world data and their
    audit events are really committed (append-only: nothing else asserts on these actions)."""
    graphql = app.state.graphql
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
            "admin": GraphQLClient(
                client, tokens.mint(kind=SubjectKind.USER, subject_id=world.acme_admin.id)[0]
            ),
        }
