"""Database round trips of a merged download: preparing it (``prepareDocumentDownload``) and
fetching its URL, counted on the connection the requests use, so they cannot creep back."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine.interfaces import CacheStats
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.download_app import DownloadEndpoint
from portal.ids import global_id
from tests.support.graphql import GraphQLClient
from tests.support.world import World

PREPARE = """
mutation Prepare($ids: [ID!]!) {
  prepareDocumentDownload(input: {documentIds: $ids}) {
    url expiresAt documentCount userErrors { field code message }
  }
}
"""

# Where the counts stand. Preparing was 9: BEGIN, the principal, the access check, the ticket,
# COMMIT, then the audit entry in a transaction of its own (BEGIN, its scope, the row, COMMIT);
# now the ticket and its audit row are one statement, in the one transaction. Fetching was 15;
# now the ticket is found and claimed by one statement, the access check and what to merge are
# one, the preparer's lookup leaves the transaction in their scope (no set_config after it), and
# the ticket is spent and the delivery audited by one statement: 11. Then 9: a ticket is no
# tenant row, so neither the claim (after the bearer's lookup) nor the spend (beginning its
# transaction) is preceded by a set_config. Then 8: a bearer who is the preparer, in the sign-in
# session the ticket was prepared in, is not looked up a second time.
MAX_PREPARE_ROUND_TRIPS = 5
MAX_FETCH_ROUND_TRIPS = 8


@dataclass
class Sent:
    """The statements sent on a connection, and those SQLAlchemy compiled afresh (not from its
    compiled cache: milliseconds of CPU each time)."""

    statements: list[str] = field(default_factory=list)
    compiled: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.statements)


@contextlib.contextmanager
def sent_on(connection: AsyncConnection) -> Iterator[Sent]:
    """The statements sent on ``connection`` while the block runs. The test runs inside one
    transaction, so a request's BEGIN and COMMIT are a SAVEPOINT and a RELEASE here: statements
    like the others, one round trip each."""
    raw = connection.sync_connection
    assert raw is not None
    sent = Sent()

    def statement(conn: Any, cursor: Any, sql: str, parameters: Any, context: Any, *_: Any) -> None:
        text = " ".join(sql.split())[:100]
        sent.statements.append(text)
        if not text.startswith(("SAVEPOINT", "RELEASE")) and context.cache_hit is not (
            CacheStats.CACHE_HIT
        ):
            sent.compiled.append(text)

    event.listen(raw, "before_cursor_execute", statement)
    try:
        yield sent
    finally:
        event.remove(raw, "before_cursor_execute", statement)


@pytest.fixture(autouse=True)
def download_route_in_test_transaction(
    app: Starlette, sessionmaker: async_sessionmaker[AsyncSession]
) -> Iterator[None]:
    """The download route inside the test's transaction (as ``http`` does for /graphql)."""
    endpoint: DownloadEndpoint = app.state.downloads
    saved = endpoint.sessionmaker
    endpoint.sessionmaker = sessionmaker
    yield
    endpoint.sessionmaker = saved


async def _prepare(admin_client: GraphQLClient, world: World) -> str:
    ids = [global_id("Document", document.id) for document in world.results.acme_documents]
    answer = await admin_client(PREPARE, {"ids": ids})
    url: str = answer.ok()["prepareDocumentDownload"]["url"]
    return urlsplit(url).path


async def _fetch(http: httpx.AsyncClient, path: str, token: str | None) -> httpx.Response:
    return await http.get(path, headers={"Authorization": f"Bearer {token}"})


async def test_preparing_a_download_costs_a_fixed_few_round_trips(
    connection: AsyncConnection, admin_client: GraphQLClient, world: World
) -> None:
    # Given a User Admin whose statements were prepared by one download already
    await _prepare(admin_client, world)

    # When they prepare a download of their account's documents
    with sent_on(connection) as sent:
        await _prepare(admin_client, world)

    # Then the ticket and its audit row took one transaction and few statements
    print(f"{len(sent)} round trips: {sent.statements}")
    assert len(sent) <= MAX_PREPARE_ROUND_TRIPS, sent
    assert sum(s.startswith("SAVEPOINT") for s in sent.statements) == 1, sent
    # the statement writing them compiled once, not each time
    (written,) = [s for s in sent.statements if "INSERT INTO audit_events" in s]
    assert written not in sent.compiled, sent


async def test_fetching_a_download_costs_a_fixed_few_round_trips(
    http: httpx.AsyncClient,
    connection: AsyncConnection,
    admin_client: GraphQLClient,
    world: World,
) -> None:
    # Given a prepared download (the route's statements prepared by one fetch already)
    warm = await _prepare(admin_client, world)
    assert (await _fetch(http, warm, admin_client.token)).status_code == 200
    path = await _prepare(admin_client, world)

    # When its preparer fetches it, with their access token
    with sent_on(connection) as sent:
        response = await _fetch(http, path, admin_client.token)

    # Then it was delivered in two transactions and few statements, none compiled afresh
    print(f"{len(sent)} round trips: {sent.statements}")
    assert response.status_code == 200
    assert len(sent) <= MAX_FETCH_ROUND_TRIPS, sent
    assert sum(s.startswith("SAVEPOINT") for s in sent.statements) == 2, sent
    assert sent.compiled == [], sent
