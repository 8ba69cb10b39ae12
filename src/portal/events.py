"""In-process fan-out of domain events to live subscribers (the ``documentPosted`` and
``supportRequestUpdated`` subscriptions).

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


@dataclass(frozen=True, slots=True)
class SupportRequestChanged:
    """A support request was opened, commented on, moved or assigned. ``internal``: the change
    is an internal note, which only staff may hear of."""

    support_request_id: uuid.UUID
    account_id: uuid.UUID
    internal: bool = False


Event = DocumentPosted | SupportRequestChanged


class EventHub:
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[Event]] = set()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, event: Event) -> None:
        for queue in tuple(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                logger.warning("dropped %s for a slow subscriber", type(event).__name__)

    @contextlib.asynccontextmanager
    async def subscribe(self) -> AsyncIterator[asyncio.Queue[Event]]:
        queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=SUBSCRIBER_QUEUE_SIZE)
        self._subscribers.add(queue)
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)
