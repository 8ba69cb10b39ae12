"""supportRequestUpdated over graphql-transport-ws against the whole app on a real port: changes
made over HTTP reach the subscribers who may see the request; internal notes reach staff only."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from websockets.asyncio.client import ClientConnection, connect

from portal.app import create_app
from portal.auth.tokens import SubjectKind, TokenService
from portal.events import EventHub
from portal.models.db import AccountScope, create_sessionmaker, scoped_session
from portal.schema.relay import decode_global_id
from portal.settings import Settings
from tests.schema.support.conftest import COMMENT, CREATE, request_input
from tests.support.world import World

PROTOCOL = "graphql-transport-ws"
SUBSCRIBE = """
subscription ($id: ID) { supportRequestUpdated(id: $id) {
  id number commentCount comments { body internal } } }
"""
TIMEOUT = 10.0
QUIET = 0.5


class Live:
    def __init__(self, port: int, app: Starlette) -> None:
        self.http_url = f"http://127.0.0.1:{port}/graphql"
        self.ws_url = f"ws://127.0.0.1:{port}/graphql"
        self.app = app

    @property
    def hub(self) -> EventHub:
        hub: EventHub = self.app.state.events
        return hub

    async def wait_for_subscribers(self, count: int) -> None:
        deadline = time.monotonic() + TIMEOUT
        while self.hub.subscriber_count != count:
            assert time.monotonic() < deadline, f"{self.hub.subscriber_count} subscriptions run"
            await asyncio.sleep(0.01)


@pytest.fixture(scope="module")
def live(settings: Settings, world: World) -> Iterator[Live]:
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
    yield Live(port, app)
    server.should_exit = True
    thread.join(timeout=10)
    loop.close()


def _token(tokens: TokenService, kind: SubjectKind, subject_id: uuid.UUID) -> str:
    token, _ = tokens.mint(kind=kind, subject_id=subject_id)
    return token


@asynccontextmanager
async def _subscribed(
    live: Live, token: str, request_id: str | None = None
) -> AsyncIterator[ClientConnection]:
    async with connect(live.ws_url, subprotocols=[PROTOCOL]) as connection:  # type: ignore[list-item]
        await connection.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        assert json.loads(await asyncio.wait_for(connection.recv(), TIMEOUT)) == {
            "type": "connection_ack"
        }
        await connection.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": SUBSCRIBE, "variables": {"id": request_id}},
                }
            )
        )
        yield connection


async def _next(connection: ClientConnection) -> dict[str, Any]:
    message = json.loads(await asyncio.wait_for(connection.recv(), TIMEOUT))
    assert message["type"] == "next", message
    assert "errors" not in message["payload"], message
    request: dict[str, Any] = message["payload"]["data"]["supportRequestUpdated"]
    return request


async def _nothing_more(connection: ClientConnection) -> None:
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(connection.recv(), QUIET)


@pytest.fixture
async def cleanup(engine: AsyncEngine) -> AsyncIterator[list[str]]:
    """The live server commits for real: remove the requests a test opened through it."""
    opened: list[str] = []
    yield opened
    sessionmaker = create_sessionmaker(engine)
    async with scoped_session(sessionmaker, AccountScope.everything()) as session:
        for global_id in opened:
            await session.execute(
                sa.text("DELETE FROM support_requests WHERE id = :id"),
                {"id": decode_global_id(global_id)},
            )
        await session.commit()


async def test_changes_reach_who_may_see_them_and_internal_notes_only_staff(
    live: Live, tokens: TokenService, world: World, cleanup: list[str]
) -> None:
    basic = _token(tokens, SubjectKind.USER, world.acme_basic.id)
    admin = _token(tokens, SubjectKind.USER, world.acme_admin.id)
    globex = _token(tokens, SubjectKind.USER, world.globex_admin.id)
    staff = _token(tokens, SubjectKind.STAFF, world.staff.id)
    await live.wait_for_subscribers(0)
    async with (
        _subscribed(live, basic) as basic_socket,
        _subscribed(live, admin) as admin_socket,
        _subscribed(live, globex) as globex_socket,
        _subscribed(live, staff) as staff_socket,
        httpx.AsyncClient() as http,
    ):
        await live.wait_for_subscribers(4)

        async def call(token: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
            response = await http.post(
                live.http_url,
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
            body: dict[str, Any] = response.json()
            assert "errors" not in body, body
            data: dict[str, Any] = body["data"]
            return data

        # Given the Basic user opens a request over HTTP
        created = await call(basic, CREATE, {"input": request_input()})
        request = created["createSupportRequest"]["supportRequest"]
        cleanup.append(request["id"])
        # Then the requester, their admin and staff hear of it; Globex does not
        for socket_ in (basic_socket, admin_socket, staff_socket):
            assert (await _next(socket_))["id"] == request["id"]

        async def staff_comment(body: str, *, internal: bool) -> None:
            done = await call(
                staff, COMMENT, {"input": {"id": request["id"], "body": body, "internal": internal}}
            )
            assert done["addSupportRequestComment"]["userErrors"] == []

        # When staff write an internal note, Then staff hear of it (each event is read when it
        # is delivered, so each step waits for the last before the next change)
        await staff_comment("Call the account owner.", internal=True)
        assert (await _next(staff_socket))["comments"] == [
            {"body": "Call the account owner.", "internal": True}
        ]
        # When staff then write a public reply, Then staff hear of it too
        await staff_comment("We are on it.", internal=False)
        assert (await _next(staff_socket))["commentCount"] == 2
        # And employers hear only of the reply, and see no note in it
        for socket_ in (basic_socket, admin_socket):
            delivered = await _next(socket_)
            assert delivered["commentCount"] == 1
            assert delivered["comments"] == [{"body": "We are on it.", "internal": False}]
            await _nothing_more(socket_)
        # And another tenant heard nothing at all
        await _nothing_more(globex_socket)


async def test_a_subscriber_may_follow_one_request(
    live: Live, tokens: TokenService, world: World, cleanup: list[str]
) -> None:
    admin = _token(tokens, SubjectKind.USER, world.acme_admin.id)
    await live.wait_for_subscribers(0)
    async with httpx.AsyncClient() as http:

        async def open_request(subject: str) -> str:
            response = await http.post(
                live.http_url,
                json={"query": CREATE, "variables": {"input": request_input(subject=subject)}},
                headers={"Authorization": f"Bearer {admin}"},
            )
            request_id: str = response.json()["data"]["createSupportRequest"]["supportRequest"][
                "id"
            ]
            cleanup.append(request_id)
            return request_id

        followed = await open_request("Followed")
        other = await open_request("Other")
        async with _subscribed(live, admin, followed) as socket_:
            await live.wait_for_subscribers(1)
            # When both requests get a reply
            for request_id in (other, followed):
                response = await http.post(
                    live.http_url,
                    json={
                        "query": COMMENT,
                        "variables": {"input": {"id": request_id, "body": "Any news?"}},
                    },
                    headers={"Authorization": f"Bearer {admin}"},
                )
                assert response.json()["data"]["addSupportRequestComment"]["userErrors"] == []
            # Then only the followed one is delivered
            assert (await _next(socket_))["id"] == followed
            await _nothing_more(socket_)
