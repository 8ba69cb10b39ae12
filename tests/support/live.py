"""The whole app on a real loopback port (uvicorn, the real engine, the committed test world),
and a raw graphql-transport-ws client for it."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
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

PROTOCOL = "graphql-transport-ws"
SUBSCRIBE = "subscription { documentPosted { id name reportType { code } employee { lastName } } }"
RECEIVE_TIMEOUT = 10.0


@dataclass
class LiveApp:
    """The app on a real port, with a handle on its event hub, engine and event loop."""

    url: str
    http_url: str
    app: Starlette
    loop: asyncio.AbstractEventLoop

    @property
    def hub(self) -> EventHub:
        hub: EventHub = self.app.state.events
        return hub

    @property
    def engine(self) -> AsyncEngine:
        engine: AsyncEngine = self.app.state.engine
        return engine

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

    async def wait_for_idle_pool(self) -> None:
        """Until no database connection is checked out of the app's pool."""
        deadline = time.monotonic() + RECEIVE_TIMEOUT
        while self.engine.pool.checkedout() != 0:  # type: ignore[attr-defined]
            assert time.monotonic() < deadline, "a database connection stays checked out"
            await asyncio.sleep(0.01)


@contextmanager
def serve(settings: Settings) -> Iterator[LiveApp]:
    """``create_app(settings)`` served by uvicorn in a thread of its own, until the block ends."""
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
    try:
        yield LiveApp(
            url=f"ws://127.0.0.1:{port}/graphql",
            http_url=f"http://127.0.0.1:{port}",
            app=app,
            loop=loop,
        )
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        loop.close()


def mint(
    tokens: TokenService,
    kind: SubjectKind,
    subject_id: uuid.UUID,
    *scopes: str,
    session_id: uuid.UUID | None = None,
) -> str:
    token, _ = tokens.mint(
        kind=kind, subject_id=subject_id, scopes=frozenset(scopes), session_id=session_id
    )
    return token


def bearer(token: str) -> dict[str, Any]:
    return {"Authorization": f"Bearer {token}"}


async def receive(connection: ClientConnection) -> dict[str, Any]:
    """The next message, which must arrive as a text frame (graphql-transport-ws)."""
    frame = await asyncio.wait_for(connection.recv(), RECEIVE_TIMEOUT)
    assert isinstance(frame, str), f"a binary frame: {frame!r}"
    message: dict[str, Any] = json.loads(frame)
    return message


async def send(connection: ClientConnection, message: dict[str, Any]) -> None:
    await connection.send(json.dumps(message))


async def start(
    connection: ClientConnection,
    operation_id: str,
    query: str,
    variables: dict[str, Any] | None = None,
) -> None:
    payload: dict[str, Any] = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    await send(connection, {"id": operation_id, "type": "subscribe", "payload": payload})


@asynccontextmanager
async def initialised(
    live: LiveApp, payload: dict[str, Any], headers: dict[str, str] | None = None
) -> AsyncIterator[ClientConnection]:
    async with connect(
        live.url,
        subprotocols=[PROTOCOL],  # type: ignore[list-item]
        additional_headers=headers,
    ) as connection:
        await send(connection, {"type": "connection_init", "payload": payload})
        yield connection


@asynccontextmanager
async def acknowledged(
    live: LiveApp, payload: dict[str, Any], headers: dict[str, str] | None = None
) -> AsyncIterator[ClientConnection]:
    async with initialised(live, payload, headers) as connection:
        assert await receive(connection) == {"type": "connection_ack"}
        yield connection


@asynccontextmanager
async def subscribed(
    live: LiveApp, payload: dict[str, Any], headers: dict[str, str] | None = None
) -> AsyncIterator[ClientConnection]:
    async with acknowledged(live, payload, headers) as connection:
        await start(connection, "1", SUBSCRIBE)
        yield connection


async def delivered(connection: ClientConnection) -> dict[str, Any]:
    message = await receive(connection)
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    document: dict[str, Any] = message["payload"]["data"]["documentPosted"]
    return document


async def answer(connection: ClientConnection, operation_id: str) -> dict[str, Any]:
    """The single result of a query or mutation, followed by its ``complete``; its top-level
    ``extensions`` (the caller's query budget, ``cost``) left out, as ``GraphQLResponse`` does."""
    message = await receive(connection)
    assert message["type"] == "next", message
    assert message["id"] == operation_id, message
    assert await receive(connection) == {"id": operation_id, "type": "complete"}
    result: dict[str, Any] = message["payload"]
    assert "cost" in result.pop("extensions", {}), message
    return result


def gid(document: Document) -> str:
    return str(global_id(DocumentNode, document.id))


async def close_code(connection: ClientConnection) -> int | None:
    """How the server closes the socket; fails on any message it sends first."""
    try:
        message = await receive(connection)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None
    pytest.fail(f"a message before the close: {message}")
