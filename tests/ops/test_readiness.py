"""/readyz checks the database on a connection of its own; /healthz is liveness only."""

from __future__ import annotations

import time

import httpx
from starlette.applications import Starlette

from portal.app import create_app
from portal.settings import Settings
from tests.support.network import silent_server


async def _get(app: Starlette, path: str) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        return await client.get(path)


async def test_readyz_stays_ready_while_every_pooled_connection_is_busy(settings: Settings) -> None:
    # given an instance whose whole request pool (one connection, no overflow) is in use
    app = create_app(settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0}))
    engine = app.state.engine
    try:
        async with engine.connect() as busy:
            await busy.exec_driver_sql("SELECT 1")

            # when the load balancer asks whether it is ready
            started = time.monotonic()
            response = await _get(app, "/readyz")
            elapsed = time.monotonic() - started

        # then it is: the check used a connection of its own, and answered at once
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "ok", "database": "ok"}
        assert elapsed < settings.readiness_timeout_seconds
    finally:
        await engine.dispose()


async def test_readyz_fails_fast_when_the_database_accepts_but_never_answers(
    settings: Settings,
) -> None:
    # given a database that accepts connections and never answers
    with silent_server() as port:
        app = create_app(
            settings.model_copy(
                update={
                    "database_url": f"postgresql://postgres@127.0.0.1:{port}/portal",
                    "readiness_timeout_seconds": 0.5,
                }
            )
        )
        # when readiness is asked
        started = time.monotonic()
        response = await _get(app, "/readyz")
        elapsed = time.monotonic() - started
        # then it is not ready, said within the short timeout
        assert response.status_code == 503
        assert response.json() == {"status": "unavailable", "database": "unreachable"}
        assert elapsed < 3
        # and liveness does not depend on the database at all
        assert (await _get(app, "/healthz")).status_code == 200
        await app.state.engine.dispose()
