"""One pooled database connection per websocket operation: with a pool of exactly one
connection, a delivered event (caller check, reads, audit) and a query on the same socket both
complete; an operation that needed a second connection would wait for itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portal.auth.tokens import SubjectKind, TokenService
from portal.settings import Settings
from tests.support.live import (
    LiveApp,
    answer,
    bearer,
    delivered,
    gid,
    mint,
    serve,
    start,
    subscribed,
)
from tests.support.world import World

DOCUMENT = """
query($id: ID!) { node(id: $id) { ... on Document { name employee { lastName } } } }
"""


@pytest.fixture(scope="module")
def one_connection(settings: Settings, world: World) -> Iterator[LiveApp]:
    """The app with a database pool of one connection and no overflow."""
    with serve(settings.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0})) as app:
        yield app


async def test_an_event_and_a_query_each_need_only_one_connection(
    one_connection: LiveApp, tokens: TokenService, world: World
) -> None:
    live = one_connection
    admin = mint(tokens, SubjectKind.USER, world.acme_admin.id)
    document = world.results.subscribed
    # given a subscribed admin on an app whose pool holds one connection
    async with subscribed(live, bearer(admin)) as connection:
        await live.wait_for_subscribers(1)

        # when a document is delivered, and then queried (both audited PHI reads)
        live.publish(document)
        last_name = (await delivered(connection))["employee"]["lastName"]
        await start(connection, "2", DOCUMENT, {"id": gid(document)})
        result = await answer(connection, "2")

        # then both complete, and the idle socket gives the connection back
        assert result == {
            "data": {"node": {"name": document.name, "employee": {"lastName": last_name}}}
        }
        await live.wait_for_idle_pool()
    await live.wait_for_subscribers(0)
