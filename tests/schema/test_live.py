"""documentPosted over graphql-transport-ws: authenticated in connection_init, delivered only to
subscribers who may see the document."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from portal.app import create_app
from portal.auth.tokens import SubjectKind, TokenService
from portal.events import DocumentPosted, EventHub
from portal.models import Document
from portal.schema.documents import Document as DocumentNode
from portal.schema.relay import global_id
from portal.settings import Settings
from tests.support.world import World

PROTOCOL = "graphql-transport-ws"
SUBSCRIBE = "subscription { documentPosted { id name reportType { code } employee { lastName } } }"
VIEWER_QUERY = "{ viewer { email account { name } } }"
RECEIVE_TIMEOUT = 10.0


@dataclass
class LiveApp:
    """The whole app on a real port, with a handle on its event hub and its event loop."""

    url: str
    app: Starlette
    loop: asyncio.AbstractEventLoop

    @property
    def hub(self) -> EventHub:
        hub: EventHub = self.app.state.events
        return hub

    def publish(self, document: Document) -> None:
        event = DocumentPosted(document_id=document.id, account_id=document.account_id)
        # The hub's queues belong to the server's event loop, which runs in another thread.
        self.loop.call_soon_threadsafe(self.hub.publish, event)

    async def wait_for_subscribers(self, count: int) -> None:
        """Until exactly ``count`` subscriptions run (earlier tests' may still be ending)."""
        deadline = time.monotonic() + RECEIVE_TIMEOUT
        while self.hub.subscriber_count != count:
            assert time.monotonic() < deadline, f"{self.hub.subscriber_count} subscriptions run"
            await asyncio.sleep(0.01)


@pytest.fixture(scope="module")
def live(settings: Settings, world: World) -> Iterator[LiveApp]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio"
        )
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "the live server stopped"
        assert time.monotonic() < deadline, "the live server did not start"
        time.sleep(0.05)
    yield LiveApp(url=f"ws://127.0.0.1:{port}/graphql", app=app, loop=loop)
    server.should_exit = True
    thread.join(timeout=10)
    loop.close()


@pytest.fixture(autouse=True)
async def no_subscriptions_left(live: LiveApp) -> None:
    """Each test starts once the previous test's subscriptions have ended on the server."""
    await live.wait_for_subscribers(0)


def _token(tokens: TokenService, kind: SubjectKind, subject_id: uuid.UUID, *scopes: str) -> str:
    token, _ = tokens.mint(kind=kind, subject_id=subject_id, scopes=frozenset(scopes))
    return token


async def _receive(connection: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(connection.recv(), RECEIVE_TIMEOUT))
    return message


@asynccontextmanager
async def _initialised(live: LiveApp, payload: dict[str, Any]) -> AsyncIterator[ClientConnection]:
    async with connect(live.url, subprotocols=[PROTOCOL]) as connection:  # type: ignore[list-item]
        await connection.send(json.dumps({"type": "connection_init", "payload": payload}))
        yield connection


@asynccontextmanager
async def _subscribed(live: LiveApp, payload: dict[str, Any]) -> AsyncIterator[ClientConnection]:
    async with _initialised(live, payload) as connection:
        assert await _receive(connection) == {"type": "connection_ack"}
        await connection.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}})
        )
        yield connection


async def _delivered(connection: ClientConnection) -> dict[str, Any]:
    message = await _receive(connection)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    document: dict[str, Any] = message["payload"]["data"]["documentPosted"]
    return document


def _gid(document: Document) -> str:
    return str(global_id(DocumentNode, document.id))


async def _close_code(connection: ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        await _receive(connection)
    return closed.value.rcvd.code if closed.value.rcvd else None


async def test_each_subscriber_receives_only_the_documents_they_may_see(
    live: LiveApp, tokens: TokenService, world: World
) -> None:
    results = world.results
    admin = _token(tokens, SubjectKind.USER, world.acme_admin.id)
    basic = _token(tokens, SubjectKind.USER, world.acme_basic.id)
    globex = _token(tokens, SubjectKind.USER, world.globex_admin.id)
    # given Acme's admin, Acme's Basic user and Globex's admin subscribed (each way of sending
    # the token in connection_init)
    async with (
        _subscribed(live, {"Authorization": f"Bearer {admin}"}) as admin_socket,
        _subscribed(live, {"token": basic}) as basic_socket,
        _subscribed(live, {"authorization": f"bearer {globex}"}) as globex_socket,
    ):
        await live.wait_for_subscribers(3)

        # when an Acme document outside the Basic user's subscriptions, a Globex document and a
        # subscribed Acme document are posted, in that order
        for document in (results.other_type, results.globex, results.subscribed):
            live.publish(document)

        # then the admin gets both Acme documents and not Globex's (it would come between)
        assert (await _delivered(admin_socket))["id"] == _gid(results.other_type)
        assert (await _delivered(admin_socket))["id"] == _gid(results.subscribed)
        # the Basic user only the subscribed one, Globex's admin only its own
        assert (await _delivered(basic_socket))["id"] == _gid(results.subscribed)
        assert (await _delivered(globex_socket))["id"] == _gid(results.globex)


async def test_a_delivered_document_carries_its_nested_fields(
    live: LiveApp, tokens: TokenService, world: World
) -> None:
    admin = _token(tokens, SubjectKind.USER, world.acme_admin.id)
    # given a subscribed admin
    async with _subscribed(live, {"Authorization": f"Bearer {admin}"}) as connection:
        await live.wait_for_subscribers(1)

        # when one of the account's documents is posted, twice
        live.publish(world.results.subscribed)
        live.publish(world.results.subscribed)

        # then each arrives with its report type and employee (read afresh for each event)
        for _ in range(2):
            delivered = await _delivered(connection)
            assert delivered["id"] == _gid(world.results.subscribed)
            assert delivered["name"] == world.results.subscribed.name
            assert delivered["reportType"]["code"] == "INJURY_ACTIVITY_STATUS_REPORT"
            assert delivered["employee"]["lastName"]


@pytest.mark.parametrize(
    "payload",
    [{}, {"Authorization": "Bearer not-a-jwt"}, {"Authorization": "Basic abc"}, {"token": 42}],
    ids=["no token", "invalid token", "not bearer", "not a string"],
)
async def test_a_connection_without_a_valid_token_is_refused(
    live: LiveApp, payload: dict[str, Any]
) -> None:
    # when a socket initialises without a valid access token
    async with _initialised(live, payload) as connection:
        # then the server closes it as the protocol says: 4403 Forbidden
        assert await _close_code(connection) == 4403


async def test_subscribing_before_connection_init_is_refused(live: LiveApp) -> None:
    # when a socket subscribes without initialising
    async with connect(live.url, subprotocols=[PROTOCOL]) as connection:  # type: ignore[list-item]
        await connection.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}})
        )
        # then it is closed as unauthorized
        assert await _close_code(connection) == 4401


async def test_a_client_without_documents_read_cannot_subscribe(
    live: LiveApp, tokens: TokenService, world: World
) -> None:
    # given an API client token without documents:read
    token = _token(tokens, SubjectKind.CLIENT, world.acme_client.id, "account:read")
    async with _subscribed(live, {"Authorization": f"Bearer {token}"}) as connection:
        # when it subscribes, then the subscription answers FORBIDDEN
        message = await _receive(connection)
        assert message["type"] in {"next", "error"}, message
        errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
        assert [error.get("extensions", {}).get("code") for error in errors] == ["FORBIDDEN"], (
            errors
        )
    # and nothing stays subscribed
    await live.wait_for_subscribers(0)


async def test_an_open_socket_holds_no_database_connection_between_operations(
    live: LiveApp, tokens: TokenService, world: World
) -> None:
    admin = _token(tokens, SubjectKind.USER, world.acme_admin.id)
    engine: AsyncEngine = live.app.state.engine
    # given an authenticated socket that ran a query and received a delivered document
    async with _subscribed(live, {"Authorization": f"Bearer {admin}"}) as connection:
        await live.wait_for_subscribers(1)
        live.publish(world.results.subscribed)
        await _delivered(connection)
        await connection.send(
            json.dumps({"id": "2", "type": "subscribe", "payload": {"query": VIEWER_QUERY}})
        )
        answer = await _receive(connection)
        assert answer["payload"]["data"]["viewer"]["account"]["name"] == world.acme.name
        assert (await _receive(connection)) == {"id": "2", "type": "complete"}

        # when the socket stays open and idle, then no database connection is checked out
        deadline = time.monotonic() + RECEIVE_TIMEOUT
        while engine.pool.checkedout() != 0:  # type: ignore[attr-defined]
            assert time.monotonic() < deadline, "the socket keeps a database connection"
            await asyncio.sleep(0.01)
