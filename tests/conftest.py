"""Shared fixtures: a real PostgreSQL migrated once per run, one rolled-back transaction per test,
the app over HTTP, and GraphQL clients named by role."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.app import create_app
from portal.auth.rejections import REJECTED_TOKENS
from portal.auth.tokens import SubjectKind, TokenService
from portal.migrations import upgrade_async
from portal.models import ApiClient
from portal.models.db import AccountScope, create_engine, set_scope
from portal.models.session import RequestSession
from portal.settings import Settings
from portal.storage import LocalDocumentStorage
from tests.support.database import admin_url, create_app_role, create_database, drop, drop_role
from tests.support.graphql import GraphQLClient
from tests.support.network import free_port
from tests.support.world import World, build_world


@pytest.fixture(scope="session")
def admin_database_url() -> str:
    return admin_url()


@pytest.fixture(scope="session")
async def app_role(admin_database_url: str) -> AsyncIterator[str]:
    role = await create_app_role(admin_database_url)
    yield role
    await drop_role(admin_database_url, role)


@pytest.fixture(scope="session")
async def database_url(admin_database_url: str, app_role: str) -> AsyncIterator[str]:
    url = await create_database(admin_database_url, app_role)
    try:
        await upgrade_async(url)
        yield url
    finally:
        await drop(admin_database_url, url)


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url, pool_size=2, max_overflow=2)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
async def world(engine: AsyncEngine, settings: Settings) -> World:
    # The world's document PDFs live where the app's document storage reads them.
    storage = LocalDocumentStorage(root=settings.resolved_data_dir / "documents")
    async with AsyncSession(engine, expire_on_commit=False) as session:
        set_scope(session, AccountScope.everything())
        built = await build_world(session, storage)
        await session.commit()
    return built


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("portal-data"),
        graphiql_enabled=True,
        # Tests deliver outbox email by calling `deliver_due` themselves (tests/mail/).
        mail_worker_enabled=False,
        # Likewise webhooks (tests/webhooks/), to receivers on loopback over plain http: the
        # only place these two safety settings are relaxed.
        webhook_worker_enabled=False,
        webhook_allow_http=True,
        webhook_allowed_networks=["127.0.0.0/8"],
    )


@pytest.fixture(scope="session")
def app(settings: Settings) -> Starlette:
    return create_app(settings)


@pytest.fixture(scope="session")
def tokens(app: Starlette) -> TokenService:
    service: TokenService = app.state.tokens
    return service


@pytest.fixture(autouse=True)
def logging_left_as_found() -> Iterator[None]:
    """A test that configures logging the way the `portal` commands do (one handler on the stderr
    of that moment, which pytest later closes) must not leave it behind: records of later tests,
    and of background threads such as the SMTP server's, would go to a closed stream."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if not type(h).__module__.startswith("_pytest")]
    level = root.level
    yield
    for handler in list(root.handlers):
        if handler not in ours and not type(handler).__module__.startswith("_pytest"):
            root.removeHandler(handler)
    for handler in ours:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


@pytest.fixture(autouse=True)
def fresh_rejection_ledger() -> None:
    """Each test's first rejected token from an address is recorded (the ledger is per process)."""
    REJECTED_TOKENS.forget()


@pytest.fixture
async def connection(engine: AsyncEngine, world: World) -> AsyncIterator[AsyncConnection]:
    """Every test runs inside one transaction that is rolled back at the end."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
def sessionmaker(connection: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        bind=connection,
        class_=RequestSession,
        expire_on_commit=False,
        autoflush=False,
        join_transaction_mode="create_savepoint",
    )


@pytest.fixture
async def db(sessionmaker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for arranging data, seeing every account, inside the test's transaction."""
    async with sessionmaker() as session:
        set_scope(session, AccountScope.everything())
        yield session


@pytest.fixture
async def http(
    app: Starlette, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    graphql = app.state.graphql
    graphql.sessionmaker = sessionmaker
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def _token(
    tokens: TokenService, kind: SubjectKind, subject_id: Any, scopes: frozenset[str] = frozenset()
) -> str:
    token, _ = tokens.mint(kind=kind, subject_id=subject_id, scopes=scopes)
    return token


@pytest.fixture
def anonymous_client(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)


@pytest.fixture
def admin_client(http: httpx.AsyncClient, tokens: TokenService, world: World) -> GraphQLClient:
    return GraphQLClient(http, _token(tokens, SubjectKind.USER, world.acme_admin.id))


@pytest.fixture
def basic_client(http: httpx.AsyncClient, tokens: TokenService, world: World) -> GraphQLClient:
    return GraphQLClient(http, _token(tokens, SubjectKind.USER, world.acme_basic.id))


@pytest.fixture
def visits_client(http: httpx.AsyncClient, tokens: TokenService, world: World) -> GraphQLClient:
    return GraphQLClient(http, _token(tokens, SubjectKind.USER, world.acme_visits.id))


@pytest.fixture
def globex_client(http: httpx.AsyncClient, tokens: TokenService, world: World) -> GraphQLClient:
    return GraphQLClient(http, _token(tokens, SubjectKind.USER, world.globex_admin.id))


@pytest.fixture
def tpa_client(http: httpx.AsyncClient, tokens: TokenService, world: World) -> GraphQLClient:
    return GraphQLClient(http, _token(tokens, SubjectKind.USER, world.northwind_admin.id))


@pytest.fixture
def staff_client(http: httpx.AsyncClient, tokens: TokenService, world: World) -> GraphQLClient:
    return GraphQLClient(http, _token(tokens, SubjectKind.STAFF, world.staff.id))


@pytest.fixture
def api_client(http: httpx.AsyncClient, tokens: TokenService, world: World) -> GraphQLClient:
    scopes = frozenset(world.acme_client.scopes)
    return GraphQLClient(http, _token(tokens, SubjectKind.CLIENT, world.acme_client.id, scopes))


@pytest.fixture
async def webhooks_api_client(
    db: AsyncSession, http: httpx.AsyncClient, tokens: TokenService, world: World
) -> GraphQLClient:
    """An Acme HR system holding `webhooks:manage` (and `account:read`, `visits:read`)."""
    client = ApiClient(
        account_id=world.acme.id,
        client_id="acme-hooks-" + uuid.uuid4().hex[:8],
        secret_hash="unused",
        name="Acme webhooks",
        scopes=["account:read", "visits:read", "webhooks:manage"],
        created_by_user_id=world.acme_admin.id,
    )
    db.add(client)
    await db.commit()
    scopes = frozenset(client.scopes)
    return GraphQLClient(http, _token(tokens, SubjectKind.CLIENT, client.id, scopes))


@pytest.fixture
def provider_client(http: httpx.AsyncClient, tokens: TokenService, world: World) -> GraphQLClient:
    """One of the provider's own systems (a clinic EHR), holding `ingestion:write`."""
    scopes = frozenset(world.lab_system.scopes)
    token = _token(tokens, SubjectKind.PROVIDER_CLIENT, world.lab_system.id, scopes)
    return GraphQLClient(http, token)


@dataclass
class StatementCounter:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def reset(self) -> None:
        self.statements.clear()


@pytest.fixture
def count_queries(connection: AsyncConnection) -> Iterator[StatementCounter]:
    """Counts the SQL statements the test's requests send (savepoint bookkeeping excluded)."""
    counter = StatementCounter()
    sync_connection = connection.sync_connection
    assert sync_connection is not None

    def before_cursor_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if (
            not statement.lstrip()
            .upper()
            .startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO"))
        ):
            counter.statements.append(statement)

    event.listen(sync_connection, "before_cursor_execute", before_cursor_execute)
    yield counter
    event.remove(sync_connection, "before_cursor_execute", before_cursor_execute)


@pytest.fixture(scope="session")
def live_app(settings: Settings) -> Starlette:
    """The app ``live_server`` serves (its event hub, its settings)."""
    return create_app(settings)


@pytest.fixture(scope="session")
def live_server(live_app: Starlette, world: World) -> Iterator[str]:
    """The whole app on a real port, over the committed test world (for browser tests)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            live_app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the live server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def admin_token(tokens: TokenService, world: World) -> str:
    return _token(tokens, SubjectKind.USER, world.acme_admin.id)
