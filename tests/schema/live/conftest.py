"""One live server for the package's tests, and a clean slate of subscriptions between them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portal.settings import Settings
from tests.support.live import LiveApp, serve
from tests.support.world import World


@pytest.fixture(scope="package")
def live(settings: Settings, world: World) -> Iterator[LiveApp]:
    with serve(settings) as app:
        yield app


@pytest.fixture(autouse=True)
async def no_subscriptions_left(live: LiveApp) -> None:
    """Each test starts once the previous test's subscriptions have ended on the server."""
    await live.wait_for_subscribers(0)
