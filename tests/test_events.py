"""The in-process event hub: every live subscriber gets each event; leaving stops delivery."""

from __future__ import annotations

import asyncio
import uuid

from portal.events import SUBSCRIBER_QUEUE_SIZE, DocumentPosted, EventHub, RedisEventHub


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


async def test_redis_hubs_of_two_processes_share_their_events() -> None:
    # given two hubs on the real Redis, as two processes would have, and a publisher-only one
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    first = RedisEventHub("redis://127.0.0.1:6379/0", prefix=prefix)
    second = RedisEventHub("redis://127.0.0.1:6379/0", prefix=prefix)
    tool = RedisEventHub("redis://127.0.0.1:6379/0", prefix=prefix, listen=False)
    await first.start()
    await second.start()
    try:
        async with first.subscribe() as on_first, second.subscribe() as on_second:
            # when one event is published by the first process and one by the tool
            from_first, from_tool = _event(), _event()
            first.publish(from_first)
            tool.publish(from_tool)
            await tool.close()
            # then both processes' subscribers receive both, once each
            for queue in (on_first, on_second):
                received = {await asyncio.wait_for(queue.get(), 5) for _ in range(2)}
                assert received == {from_first, from_tool}
                await asyncio.sleep(0.2)
                assert queue.empty()
    finally:
        await first.close()
        await second.close()


async def test_a_redis_hub_without_redis_still_tells_its_own_subscribers() -> None:
    # given a hub whose Redis does not answer (nothing listens on port 1)
    hub = RedisEventHub("redis://127.0.0.1:1/0", prefix="unreachable", listen=False)
    try:
        async with hub.subscribe() as queue:
            # when an event is published
            event = _event()
            hub.publish(event)
            # then this process's subscriber still gets it
            assert await asyncio.wait_for(queue.get(), 10) == event
    finally:
        await hub.close()
