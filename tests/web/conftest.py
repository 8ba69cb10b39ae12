"""TEMPORARY fixtures for developing the browser test; to be deleted (tests/conftest.py has the real ones)."""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from portal.web.graphiql import graphiql_routes

if TYPE_CHECKING:
    from collections.abc import Iterator

    from starlette.requests import Request


async def _fake_graphql(request: Request) -> JSONResponse:
    if request.headers.get("authorization") != "Bearer test-token":
        return JSONResponse({"errors": [{"message": "not authenticated"}]}, status_code=401)
    await request.body()
    return JSONResponse({"data": {"viewer": {"email": "admin@acme.example"}}})


@pytest.fixture
def live_server() -> Iterator[str]:
    app = Starlette(routes=[*graphiql_routes(), Route("/graphql", _fake_graphql, methods=["POST"])])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def admin_token() -> str:
    return "test-token"
