"""The request's first statement (the principal lookup) goes straight to the asyncpg connection
(portal.models.driver), in the transaction SQLAlchemy then carries on, which it has scoped."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from portal.auth.principal import Principal, PrincipalKind
from portal.auth.resolve import USER
from portal.models.db import (
    ACCOUNT_IDS_SETTING,
    AccountScope,
    create_engine,
    execute_self_scoped,
    request_sessionmaker,
    set_scope,
)
from portal.models.driver import PRESCOPED_KEY, end_unjoined, fetch_all, fetch_alone, fetch_row
from portal.models.enums import AuditResult
from portal.resolvers.audit import AuditEntry, RequestMeta, append_events
from tests.support.graphql import GraphQLClient
from tests.support.world import World

CURRENT_SCOPE = sa.text(f"SELECT current_setting('{ACCOUNT_IDS_SETTING}', true)")


@contextlib.contextmanager
def watched_statements(connection: AsyncConnection) -> Iterator[None]:
    """While the block runs, a listener watches ``connection``'s statements: the driver path
    steps aside and everything goes through SQLAlchemy."""
    sync_connection = connection.sync_connection
    assert sync_connection is not None

    def watch(*args: Any) -> None:
        return None

    event.listen(sync_connection, "before_cursor_execute", watch)
    try:
        yield
    finally:
        event.remove(sync_connection, "before_cursor_execute", watch)


@pytest.fixture
async def request_connection(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection as a request checks it out of the pool: in no transaction yet."""
    async with engine.connect() as connection:
        yield connection


@pytest.fixture
async def driver(request_connection: AsyncConnection) -> Any:
    """The asyncpg connection under ``request_connection``."""
    return (await request_connection.get_raw_connection()).driver_connection


def ran_on_driver(monkeypatch: pytest.MonkeyPatch, target: str, original: Any) -> list[bool]:
    """Whether each call of the driver function ``original``, as ``target`` names it where it
    is used, ran on the driver (its answer's first item), in call order."""
    ran: list[bool] = []

    async def watched(*args: Any) -> Any:
        answer = await original(*args)
        ran.append(answer[0])
        return answer

    monkeypatch.setattr(target, watched)
    return ran


async def look_up_admin(session: AsyncSession, world: World) -> Any:
    """Acme's User Admin looked up as a request's first statement (on the driver when it may)."""
    return await execute_self_scoped(
        session, USER, {"user_id": world.acme_admin.id, "session_id": None}
    )


async def test_the_principal_is_read_on_the_driver_and_scopes_the_transaction(
    request_connection: AsyncConnection, world: World
) -> None:
    async with request_sessionmaker(request_connection)() as session:
        # given a new session on the request's connection
        # when the principal lookup runs as its first statement
        row = await look_up_admin(session, world)

        # then it ran on the driver (the session knows its transaction is scoped)
        assert row is not None
        assert row.email == "admin@acme.example"
        assert session.sync_session.info.get(PRESCOPED_KEY) is not None
        # and the session carries on in that transaction, in the caller's scope
        scope = await session.scalar(CURRENT_SCOPE)
        assert scope == ",".join(sorted(str(account) for account in row.family))


async def test_the_session_sends_no_scope_of_its_own_in_the_transaction_the_driver_scoped(
    request_connection: AsyncConnection, driver: Any, world: World
) -> None:
    async with request_sessionmaker(request_connection)() as session:
        # given the principal read on the driver
        await look_up_admin(session, world)
        # and the transaction's scope setting then changed behind SQLAlchemy's back
        await driver.execute(f"SELECT set_config('{ACCOUNT_IDS_SETTING}', 'marker', true)")

        # when the session runs its first statement
        seen = await session.scalar(CURRENT_SCOPE)

        # then it sent no set_config first: the transaction is the one the lookup scoped
        assert seen == "marker"


async def test_a_connection_in_a_transaction_of_its_own_takes_sqlalchemys_path(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    # given a session on a connection already in a transaction (as every test request is)
    async with sessionmaker() as session:
        # when the principal is read
        row = await look_up_admin(session, world)
        # then it ran in the session's own (nested) transaction, through SQLAlchemy
        assert row is not None
        assert PRESCOPED_KEY not in session.sync_session.info
        assert session.in_transaction()


async def test_a_watched_connection_takes_sqlalchemys_path(
    sessionmaker: async_sessionmaker[AsyncSession], connection: AsyncConnection, world: World
) -> None:
    # given something listening to every statement on the connection (tracing, say)
    sent: list[str] = []

    def watch(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    sync_connection = connection.sync_connection
    assert sync_connection is not None
    event.listen(sync_connection, "before_cursor_execute", watch)
    try:
        async with sessionmaker() as session:
            # when the principal is read
            row = await look_up_admin(session, world)
            # then it went through SQLAlchemy, where the listener saw it
            assert row is not None
            assert PRESCOPED_KEY not in session.sync_session.info
            assert any("portal_user_principal" in statement for statement in sent)
    finally:
        event.remove(sync_connection, "before_cursor_execute", watch)


@pytest.mark.parametrize(
    "nested",
    ["employee { firstName } visit { status }", "employee { firstName }"],
    ids=["two types", "one type"],
)
async def test_a_pages_nested_objects_are_read_on_the_driver(
    admin_client: GraphQLClient, monkeypatch: pytest.MonkeyPatch, nested: str
) -> None:
    # given a page asking for nested objects (of one type or more), loaded ahead in one
    # statement per level
    ran = ran_on_driver(monkeypatch, "portal.resolvers.loading.fetch_row", fetch_row)

    # when it is asked
    data = (
        await admin_client(f"{{ documents(first: 5) {{ edges {{ node {{ id {nested} }} }} }} }}")
    ).ok()

    # then the nested objects were read on the driver, in the request's scoped transaction
    assert ran == [True]
    assert all(edge["node"]["employee"] for edge in data["documents"]["edges"])


async def test_a_page_is_read_on_the_driver_as_sqlalchemy_reads_it(
    admin_client: GraphQLClient, connection: AsyncConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a page of documents with every kind of value a record holds (enums, dates, flags)
    query = (
        "{ documents(first: 10) { totalCount edges { cursor node { id name postedAt pageCount "
        "sizeBytes sha256 archived archivesAt reportType { code category } } } } }"
    )
    ran = ran_on_driver(monkeypatch, "portal.resolvers.pagination.fetch_all", fetch_all)

    # when it is read on the driver, and through SQLAlchemy (a listener forces it)
    on_driver = (await admin_client(query)).ok()
    with watched_statements(connection):
        through_sqlalchemy = (await admin_client(query)).ok()

    # then the first went to the driver, the second did not, and the answers are the same
    assert ran == [True, False]
    assert on_driver["documents"]["edges"]
    assert on_driver == through_sqlalchemy


@pytest.mark.parametrize(
    ("caller", "name"),
    [("admin", "smi"), ("admin", "alice smith"), ("tpa", "meyer"), ("admin", "al")],
    ids=["one piece", "several pieces", "a family of accounts", "no piece"],
)
async def test_a_name_searchs_page_is_read_on_the_driver_as_sqlalchemy_reads_it(
    admin_client: GraphQLClient,
    tpa_client: GraphQLClient,
    connection: AsyncConnection,
    monkeypatch: pytest.MonkeyPatch,
    caller: str,
    name: str,
) -> None:
    # given the employee-name search, whose statement holds lists given per request (the
    # caller's accounts, the name's pieces), rendered for the lengths of those lists
    client = tpa_client if caller == "tpa" else admin_client
    query = (
        f'{{ documents(first: 10, filter: {{ employeeName: "{name}" }}) {{ totalCount '
        "edges { cursor node { id name postedAt archived employee { firstName lastName } } } } }"
    )
    ran = ran_on_driver(monkeypatch, "portal.resolvers.pagination.fetch_all", fetch_all)

    # when it is read on the driver, and through SQLAlchemy (a listener forces it)
    on_driver = (await client(query)).ok()
    with watched_statements(connection):
        through_sqlalchemy = (await client(query)).ok()

    # then the first went to the driver, the second did not, and the answers are the same
    assert ran == [True, False]
    assert on_driver["documents"]["totalCount"] > 0
    assert on_driver == through_sqlalchemy


async def test_the_driver_is_found_without_asking_sqlalchemy_for_the_connection_again(
    admin_client: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a request whose statements go to the driver, and SQLAlchemy's way to the pooled
    # connection watched (a greenlet per call, a round trip when it must revalidate)
    asked: list[object] = []
    original = AsyncConnection.get_raw_connection

    async def watched(self: AsyncConnection) -> Any:
        asked.append(self)
        return await original(self)

    monkeypatch.setattr(AsyncConnection, "get_raw_connection", watched)
    ran = ran_on_driver(monkeypatch, "portal.resolvers.pagination.fetch_all", fetch_all)

    # when a page is read
    data = (await admin_client("{ documents(first: 3) { edges { node { id } } } }")).ok()

    # then it went to the driver, which the connection the request holds led to directly
    assert ran == [True]
    assert data["documents"]["edges"]
    assert asked == []


async def test_audit_rows_written_on_the_driver_are_those_sqlalchemy_writes(
    sessionmaker: async_sessionmaker[AsyncSession], connection: AsyncConnection, world: World
) -> None:
    # given the same two audit entries, with every kind of value the trail holds
    principal = Principal(
        kind=PrincipalKind.USER, id=world.acme_admin.id, email="admin@acme.example"
    )
    entries = [
        AuditEntry(
            action="driver.test",
            result=AuditResult.ALLOWED,
            object_ids=("a", "b"),
            details={"path": "documents", "n": 2, "nested": {"ok": True}},
        ),
        AuditEntry(action="driver.test", result=AuditResult.DENIED, account_id=world.acme.id),
    ]

    async def written(request_id: str) -> list[tuple[Any, ...]]:
        async with sessionmaker() as session:
            set_scope(session, AccountScope.everything())
            meta = RequestMeta(ip_address="10.1.2.3", request_id=request_id, operation_name="Op")
            await append_events(session=session, principal=principal, meta=meta, entries=entries)
            await session.commit()
            rows = await session.execute(
                sa.text(
                    "SELECT actor_type, actor_id, actor_label, account_id, action, object_ids, "
                    "result, host(ip_address), operation_name, details, occurred_at IS NOT NULL "
                    "FROM audit_events WHERE request_id = :r ORDER BY result"
                ),
                {"r": request_id},
            )
            return [tuple(row) for row in rows]

    # when they are written on the driver, and through SQLAlchemy (a listener forces it)
    on_driver = await written("driver-path-0001")
    with watched_statements(connection):
        through_sqlalchemy = await written("sqlalchemy-path-01")

    # then the rows are the same
    assert len(on_driver) == 2
    assert on_driver == through_sqlalchemy


async def test_a_reads_audit_rows_and_commit_go_on_the_driver(
    request_connection: AsyncConnection, engine: AsyncEngine, world: World
) -> None:
    commits: list[object] = []
    sync_connection = request_connection.sync_connection
    assert sync_connection is not None
    event.listen(sync_connection, "commit", commits.append)
    principal = Principal(
        kind=PrincipalKind.USER, id=world.acme_admin.id, email="admin@acme.example"
    )
    meta = RequestMeta(ip_address=None, request_id="driver-commit-0001", operation_name=None)
    entries = [AuditEntry(action="driver.commit-test", result=AuditResult.ALLOWED)]
    async with request_sessionmaker(request_connection)() as session:
        # given a read whose only statement so far is the principal lookup on the driver
        await look_up_admin(session, world)

        # when its audit entries are added and committed
        await append_events(
            session=session, principal=principal, meta=meta, entries=entries, commit=True
        )

        # then SQLAlchemy committed nothing: the rows and the commit went on the driver
        assert commits == []
        assert PRESCOPED_KEY not in session.sync_session.info
        assert not session.in_transaction()

    # and another connection sees the rows committed
    async with engine.connect() as other, request_sessionmaker(other)() as reader:
        set_scope(reader, AccountScope.everything())
        found = await reader.scalar(
            sa.text("SELECT count(*) FROM audit_events WHERE request_id = 'driver-commit-0001'")
        )
    assert found == 1


# A statement run alone: built once, as ``fetch_alone`` needs (its compiled form is kept).
LONE = sa.select(sa.bindparam("value", type_=sa.Integer).label("value"))


async def test_a_lone_statement_is_the_only_thing_sent_no_begin_nor_commit(
    database_url: str,
) -> None:
    # given an engine of one pooled connection, whose driver notes every query it sends
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    sent: list[str] = []
    try:
        async with engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver: Any = raw.driver_connection
            driver.add_query_logger(lambda record: sent.append(record.query))

        # when a statement runs alone on it
        ran, row = await fetch_alone(engine, LONE, {"value": 7})

        # then it ran on the driver, and was all that was sent (PostgreSQL committed it itself)
        assert ran
        assert row.value == 7
        assert len(sent) == 1, sent
        assert "BEGIN" not in sent[0].upper()
    finally:
        await engine.dispose()


async def test_a_lone_statement_on_a_watched_engine_or_a_connection_takes_sqlalchemys_path(
    database_url: str, request_connection: AsyncConnection
) -> None:
    # given an engine whose statements something watches (tracing, a test counting them)
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    seen: list[str] = []

    def watch(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", watch)
    try:
        # when a statement is to run alone on it, or on a connection (a test's transaction)
        watched = await fetch_alone(engine, LONE, {"value": 7})
        bound = await fetch_alone(request_connection, LONE, {"value": 7})

        # then neither sent anything: the caller takes SQLAlchemy's path
        assert watched == (False, None)
        assert bound == (False, None)
        assert seen == []
    finally:
        await engine.dispose()


async def test_a_transaction_only_the_driver_used_is_rolled_back_there(
    request_connection: AsyncConnection, driver: Any, world: World
) -> None:
    async with request_sessionmaker(request_connection)() as session:
        # given a request that only looked its caller up, on the driver
        await look_up_admin(session, world)
        assert driver.is_in_transaction()

        # when it ends
        await end_unjoined(session)

        # then its transaction was rolled back on the driver, and the session knows it
        assert not driver.is_in_transaction()
        assert PRESCOPED_KEY not in session.sync_session.info
        assert await session.scalar(sa.text("SELECT 1")) == 1


async def test_a_transaction_sqlalchemy_joined_is_left_to_it(
    request_connection: AsyncConnection, driver: Any, world: World
) -> None:
    async with request_sessionmaker(request_connection)() as session:
        # given a request whose session went on in the transaction the lookup began
        await look_up_admin(session, world)
        await session.scalar(CURRENT_SCOPE)

        # when it ends
        await end_unjoined(session)

        # then the transaction is still SQLAlchemy's to end
        assert driver.is_in_transaction()
        assert session.in_transaction()
