"""The in-process event hub: every live subscriber gets each event; leaving stops delivery."""

from __future__ import annotations

import asyncio
import uuid

from portal.events import SUBSCRIBER_QUEUE_SIZE, DocumentPosted, EventHub


def _event() -> DocumentPosted:
    return DocumentPosted(document_id=uuid.uuid4(), account_id=uuid.uuid4())


async def test_each_subscriber_receives_published_events_until_it_leaves() -> None:
    hub = EventHub()
    first_event, second_event = _event(), _event()
    async with hub.subscribe() as first, hub.subscribe() as second:
        # when an event is published to two subscribers
        hub.publish(first_event)
        # then both receive it
        assert await asyncio.wait_for(first.get(), 1) == first_event
        assert await asyncio.wait_for(second.get(), 1) == first_event
    # and after leaving, nobody is subscribed and publishing is harmless
    assert hub.subscriber_count == 0
    hub.publish(second_event)
    assert first.empty()


async def test_a_slow_subscriber_loses_events_instead_of_blocking_the_publisher() -> None:
    hub = EventHub()
    async with hub.subscribe() as queue:
        for _ in range(SUBSCRIBER_QUEUE_SIZE + 5):
            hub.publish(_event())
        assert queue.qsize() == SUBSCRIBER_QUEUE_SIZE
