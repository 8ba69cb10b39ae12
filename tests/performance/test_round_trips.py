"""Database round trips per request, counted on the wire between the app's own pool and
PostgreSQL (as in production: BEGIN, every statement, COMMIT or ROLLBACK, whether SQLAlchemy or
the driver sends it), so they cannot creep back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from bench.pgcount import RoundTripCounter
from sqlalchemy.engine import make_url
from starlette.applications import Starlette

from portal.auth.tokens import SubjectKind, TokenService
from portal.ids import global_id
from portal.settings import Settings
from tests.security.conftest import production_like_app
from tests.support.world import World

PAGE = """{ documents(first: 50) { totalCount edges { cursor node { id name postedAt pageCount
    reportType { code name category } employee { id firstName lastName dateOfBirth }
    visit { id visitType claimNumber status } medicalCenter { id name state }
    location { id name state } } } } }"""

ONE = """query One($id: ID!) { node(id: $id) { ... on Document { id name postedAt
    reportType { code } employee { firstName } visit { status } medicalCenter { name }
    location { name } } } }"""

# Where the counts stand (they were 23 and 22 with a pre-ping per checkout and three
# transactions per request, and the page's totalCount was a statement of its own; 12 and 12
# with one statement per nested type and the scope set apart from the principal). Now: BEGIN,
# the principal with its scope, the page, its nested objects, the audit row, COMMIT; for one
# document the document and its nested objects are one statement. The targets were 8 and 5.
MAX_PAGE_ROUND_TRIPS = 6
MAX_NODE_ROUND_TRIPS = 5


@pytest.fixture
async def counted_app(settings: Settings) -> AsyncIterator[tuple[Starlette, RoundTripCounter]]:
    """The app with a pool of its own, connected through a proxy counting what it sends to
    PostgreSQL: every message it then waits on (a Sync or a simple Query) is a round trip,
    whatever sends it (SQLAlchemy or the driver directly)."""
    database = make_url(str(settings.database_url))
    counter = RoundTripCounter(database.host or "127.0.0.1", database.port or 5432, record=True)
    port = await counter.start()
    proxied = database.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    app = production_like_app(settings, database_url=proxied, db_pool_size=1, db_max_overflow=0)
    try:
        yield app, counter
    finally:
        await app.state.engine.dispose()
        await counter.close()


async def round_trips(
    counted: tuple[Starlette, RoundTripCounter],
    token: str,
    query: str,
    variables: dict[str, Any] | None = None,
) -> tuple[int, list[str], dict[str, Any]]:
    """The round trips of one request (after a first one prepared its statements), the
    statements it parsed or sent as simple queries (BEGIN, COMMIT...), and its answer."""
    app, counter = counted
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {token}"}
    payload: dict[str, Any] = {"query": query, "variables": variables or {}}
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        warm = await client.post("/graphql", json=payload, headers=headers)  # prepares statements
        assert warm.status_code == 200, warm.text
        counter.count = 0
        counter.statements.clear()
        response = await client.post("/graphql", json=payload, headers=headers)
    print(f"{counter.count} round trips; sent as text: {counter.statements}")
    body: dict[str, Any] = response.json()
    assert "errors" not in body, body
    return counter.count, counter.statements, body


def begins(statements: list[str]) -> int:
    return sum(1 for statement in statements if statement.strip().upper().startswith("BEGIN"))


async def test_a_page_of_50_documents_costs_a_fixed_few_round_trips(
    counted_app: tuple[Starlette, RoundTripCounter], tokens: TokenService, world: World
) -> None:
    # Given a User Admin asking for a page of documents with every nested object
    token, _ = tokens.mint(kind=SubjectKind.USER, subject_id=world.acme_admin.id)

    # When the page is read
    sent, statements, body = await round_trips(counted_app, token, PAGE)

    # Then the whole request (principal, page, nested objects, audit) stays within the bound
    assert body["data"]["documents"]["edges"]
    assert sent <= MAX_PAGE_ROUND_TRIPS, statements
    assert begins(statements) == 1, statements


async def test_one_document_by_node_costs_a_fixed_few_round_trips(
    counted_app: tuple[Starlette, RoundTripCounter], tokens: TokenService, world: World
) -> None:
    # Given a User Admin asking for one document by its global id
    token, _ = tokens.mint(kind=SubjectKind.USER, subject_id=world.acme_admin.id)
    document = world.results.subscribed

    # When it is read
    sent, statements, body = await round_trips(
        counted_app, token, ONE, {"id": global_id("Document", document.id)}
    )

    # Then the request stays within the bound, in one transaction
    assert body["data"]["node"]["id"]
    assert sent <= MAX_NODE_ROUND_TRIPS, statements
    assert begins(statements) == 1, statements
