"""A websocket whose caller cannot be checked (the database is unreachable) is closed inside the
error contract: 1013 "try again later" with the service-unavailable message, never left open."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed

from portal.auth.tokens import SubjectKind, TokenService
from portal.failures import UNAVAILABLE_MESSAGE
from portal.settings import Settings
from tests.support.live import LiveApp, bearer, initialised, mint, receive, serve
from tests.support.world import World

TRY_AGAIN_LATER = 1013


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def no_database(settings: Settings) -> Iterator[LiveApp]:
    """The app with a database URL nothing listens on."""
    url = f"postgresql://portal@127.0.0.1:{_closed_port()}/portal"
    with serve(settings.model_copy(update={"database_url": url})) as app:
        yield app


async def test_a_socket_whose_caller_cannot_be_checked_is_closed_as_unavailable(
    no_database: LiveApp, tokens: TokenService, world: World
) -> None:
    admin = mint(tokens, SubjectKind.USER, world.acme_admin.id)
    # when a socket initialises while the database cannot be reached
    async with initialised(no_database, bearer(admin)) as connection:
        # then it is closed with "try again later" and the contract's message, unacknowledged
        with pytest.raises(ConnectionClosed) as closed:
            await receive(connection)
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
        TRY_AGAIN_LATER,
        UNAVAILABLE_MESSAGE,
    )
