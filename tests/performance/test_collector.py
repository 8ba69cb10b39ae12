"""A serving process keeps start-up's objects out of the cyclic collector, and still frees the rare
cyclic garbage left in its oldest generation (an unexpected error's traceback, say) once the next
requests have made about 600,000 objects. Requests themselves leave none
(tests/schema/test_request_garbage.py)."""

from __future__ import annotations

import pytest

from portal.settings import Settings
from tests.support.fresh_process import run_with_app_settings

# In a fresh interpreter (the collector's state is the process's): the app created and started,
# then cyclic garbage: objects in cycles that lived through two collections (so they sit in the
# oldest generation), garbage since. Then the next requests' work: 700,000 new objects, kept
# (requests in flight keep theirs). Without start-up's objects frozen the oldest generation would
# wait for a quarter of them (about 46,000 objects) to be pending as well.
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
        work = [Node() for _ in range(700_000)]
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


def test_cyclic_garbage_left_in_the_oldest_generation_is_freed_by_the_next_requests_work(
    served: dict[str, object],
) -> None:
    # given a started app (default settings), and cyclic garbage in the oldest generation
    # when the next requests allocate 700,000 objects: ``served``

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
