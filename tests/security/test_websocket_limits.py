"""The same limits over graphql-transport-ws: a socket's operations are measured, bounded and
checked exactly like HTTP requests (the bomb and bad variables are refused on the socket too)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from websockets.asyncio.client import ClientConnection, connect

from portal.app import create_app
from portal.auth.tokens import SubjectKind, TokenService
from portal.settings import Settings
from tests.security.test_fragment_bomb import fragment_bomb
from tests.support.world import World

PROTOCOL = "graphql-transport-ws"


@pytest.fixture(scope="module")
def socket_url(settings: Settings, world: World) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            ws="websockets-sansio",
        )
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(server.serve(),), daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive(), "the server stopped"
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield f"ws://127.0.0.1:{port}/graphql"
    server.should_exit = True
    thread.join(timeout=10)
    loop.close()


async def _answer(connection: ClientConnection, payload: dict[str, Any]) -> dict[str, Any]:
    await connection.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
    message: dict[str, Any] = json.loads(await asyncio.wait_for(connection.recv(), 10))
    return message


async def test_a_socket_operation_is_measured_and_checked(
    socket_url: str, tokens: TokenService, world: World
) -> None:
    # Given a socket signed in as a User Admin
    token, _ = tokens.mint(kind=SubjectKind.USER, subject_id=world.acme_admin.id)
    async with connect(socket_url, subprotocols=[PROTOCOL]) as connection:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await connection.send(json.dumps(init))
        assert json.loads(await connection.recv()) == {"type": "connection_ack"}
        # When the fragment bomb is sent on it
        started = time.perf_counter()
        bomb = await _answer(connection, {"query": fragment_bomb(20)})
        # Then it is refused at once, as over HTTP
        assert bomb["type"] == "error", bomb
        [error] = bomb["payload"]
        assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
        assert time.perf_counter() - started < 5
        # And a variable holding a NUL character is the caller's error on its field
        bad = await _answer(
            connection,
            {
                "query": "query($n: String) { employees(filter: {name: $n}) { totalCount } }",
                "variables": {"n": "Smi\x00th"},
            },
        )
        assert bad["type"] == "error", bad
        [error] = bad["payload"]
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "filter.name"}
