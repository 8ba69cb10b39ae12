"""A started app keeps what it built at start-up out of the garbage collector's generations."""

from __future__ import annotations

import gc

from portal.app import create_app
from portal.settings import Settings


async def test_the_objects_built_at_start_up_are_frozen_while_the_app_serves(
    settings: Settings,
) -> None:
    # given an app, and nothing frozen in this process yet
    app = create_app(settings)
    assert gc.get_freeze_count() == 0

    # when it starts
    async with app.router.lifespan_context(app):
        # then what it built (its schema among them) is out of the collector's generations
        frozen = gc.get_freeze_count()
        assert frozen > 10_000, frozen

    # and once it stops they are collectable again
    assert gc.get_freeze_count() == 0
