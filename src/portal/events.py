"""In-process fan-out of domain events to live subscribers (the ``documentPosted`` subscription).

Events are published after the change that causes them has committed. Each subscriber gets its own
bounded queue; a subscriber that cannot keep up loses events rather than slowing the publisher
(clients re-read with ``documents(filter:)`` after a reconnect). Several processes need a shared
broker (Redis) in front of this; one process needs nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

logger = logging.getLogger(__name__)

SUBSCRIBER_QUEUE_SIZE = 256


@dataclass(frozen=True, slots=True)
class DocumentPosted:
    document_id: uuid.UUID
    account_id: uuid.UUID


class EventHub:
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[DocumentPosted]] = set()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, event: DocumentPosted) -> None:
        for queue in tuple(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                logger.warning("dropped %s for a slow subscriber", type(event).__name__)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[DocumentPosted]]:
        queue: asyncio.Queue[DocumentPosted] = asyncio.Queue(maxsize=SUBSCRIBER_QUEUE_SIZE)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)
