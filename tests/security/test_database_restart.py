"""Pooled connections the database dropped (a restart, a failover, an idle-session kill) are
replaced without failing the request that meets them: nothing of it had run yet."""

from __future__ import annotations

import httpx
from sqlalchemy import NullPool, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from portal.auth.tokens import SubjectKind, TokenService
from portal.models.db import to_async_url
from portal.settings import Settings
from tests.security.conftest import serving
from tests.support.world import World

QUERY = "{ viewer { email } documents(first: 1) { totalCount } }"


SERVER_NAME = "portal-restart-test"


async def terminate_app_connections(admin_database_url: str, database: str) -> int:
    engine = create_async_engine(to_async_url(admin_database_url), poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            terminated = await connection.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :database AND application_name = :name"
                ),
                {"database": database, "name": SERVER_NAME},
            )
        return int(terminated or 0)
    finally:
        await engine.dispose()


async def test_requests_survive_the_database_dropping_every_pooled_connection(
    settings: Settings, tokens: TokenService, world: World, admin_database_url: str
) -> None:
    # Given a server that has warmed its pool
    token, _ = tokens.mint(kind=SubjectKind.USER, subject_id=world.acme_admin.id)
    headers = {"Authorization": f"Bearer {token}"}
    database = make_url(str(settings.database_url)).database
    assert database
    with serving(
        settings,
        PORTAL_DB_POOL_SIZE="3",
        PORTAL_DB_MAX_OVERFLOW="0",
        PORTAL_DB_APPLICATION_NAME=SERVER_NAME,
    ) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            for _ in range(3):
                warm = await client.post("/graphql", json={"query": QUERY}, headers=headers)
                assert warm.status_code == 200, warm.text

            # When the database ends every one of its connections
            assert await terminate_app_connections(admin_database_url, database) >= 1

            # Then the next requests are answered on fresh connections
            for _ in range(3):
                response = await client.post("/graphql", json={"query": QUERY}, headers=headers)
                assert response.status_code == 200, response.text
                assert response.json()["data"]["viewer"]["email"] == "admin@acme.example"
