"""A serving process frees the cyclic garbage requests leave soon, not after the interpreter's
rare full collections: every GraphQL request leaves some (graphql-core's execution context
refers to itself), alive long enough to reach the oldest generation, and piled up under
concurrent requests it raised the process's peak resident size by about 10 MB."""

from __future__ import annotations

import pytest

from portal.settings import Settings
from tests.support.fresh_process import run_with_app_settings

# In a fresh interpreter (the collector's state is the process's): the app created and started,
# then what a request leaves: objects in cycles that lived through two collections while it ran
# (so they sit in the oldest generation), garbage once it ends. Then the next requests' work:
# 20,000 new objects, kept (requests in flight keep theirs). The interpreter's defaults collect
# the oldest generation after about 85,000 (and once a quarter of what start-up left is pending).
_REQUESTS = """
import asyncio, gc, json, weakref
from portal.app import create_app
from portal.settings import Settings
from tests.support.fresh_process import run_with_app_settings


class Node:
    pass


def request_garbage(requests):
    alive = []
    for _ in range(requests):
        node = Node()
        node.itself = node
        node.rows = [Node() for _ in range(50)]
        alive.append(node)
    gc.collect(1)  # what lived through two collections is moved to the oldest generation
    return [weakref.ref(node) for node in alive]


async def main():
    app = create_app(Settings())
    async with app.router.lifespan_context(app):
        left = request_garbage(16)
        work = [Node() for _ in range(20_000)]
        uncollected = sum(ref() is not None for ref in left)
        serving = {"thresholds": gc.get_threshold(), "frozen": gc.get_freeze_count() > 0}
    print(json.dumps({
        "uncollected": uncollected,
        "serving": serving,
        "after": {"thresholds": gc.get_threshold(), "frozen": gc.get_freeze_count() > 0},
        "work": len(work),
    }))

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def served(settings: Settings) -> dict[str, object]:
    return run_with_app_settings(settings, _REQUESTS)


def test_garbage_requests_left_in_the_oldest_generation_is_freed_by_the_next_requests_work(
    served: dict[str, object],
) -> None:
    # given a started app (default settings), and 16 requests' cyclic garbage in the oldest
    # generation
    # when the next requests allocate 20,000 objects: ``served``

    # then it is freed by then
    assert served["uncollected"] == 0


def test_the_collector_is_as_it_was_once_the_app_stops(served: dict[str, object]) -> None:
    # given a started app: start-up's objects frozen, the oldest generation collected often
    serving = served["serving"]
    assert isinstance(serving, dict)
    assert serving["frozen"] is True
    # when it stops: ``served``

    # then the interpreter's thresholds are back and nothing stays frozen
    assert served["after"] == {"thresholds": [700, 10, 10], "frozen": False}
