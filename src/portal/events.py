"""Fan-out of domain events to live subscribers (the ``documentPosted`` and
``supportRequestUpdated`` subscriptions).

Events are published after the change that causes them has committed. Each subscriber gets its own
bounded queue; a subscriber that cannot keep up loses events rather than slowing the publisher
(clients re-read with ``documents(filter:)`` after a reconnect).

Two implementations of one interface (``EventBus``): ``EventHub`` delivers inside one process;
``RedisEventHub`` (with ``PORTAL_REDIS_URL``) publishes through Redis pub/sub, so an event
published by any process (an app process, ``portal import-documents``, a worker) reaches the
subscribers of every app process. ``publish`` never blocks: the Redis publish runs in the
background, and ``close`` waits for the ones still in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

logger = logging.getLogger(__name__)

SUBSCRIBER_QUEUE_SIZE = 256
RECONNECT_DELAY_SECONDS = (0.5, 1.0, 2.0, 5.0)
READY_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class DocumentPosted:
    document_id: uuid.UUID
    account_id: uuid.UUID

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "type": "DocumentPosted",
                "document": str(self.document_id),
                "account": str(self.account_id),
            }
        )

    @classmethod
    def decode(cls, data: bytes | str) -> DocumentPosted | None:
        try:
            fields: Any = orjson.loads(data)
            if fields.get("type") != "DocumentPosted":
                return None
            return cls(
                document_id=uuid.UUID(fields["document"]), account_id=uuid.UUID(fields["account"])
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


@dataclass(frozen=True, slots=True)
class SupportRequestChanged:
    """A support request was opened, commented on, moved or assigned. ``internal``: the change
    is an internal note, which only staff may hear of."""

    support_request_id: uuid.UUID
    account_id: uuid.UUID
    internal: bool = False

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "type": "SupportRequestChanged",
                "supportRequest": str(self.support_request_id),
                "account": str(self.account_id),
                "internal": self.internal,
            }
        )

    @classmethod
    def decode(cls, data: bytes | str) -> SupportRequestChanged | None:
        try:
            fields: Any = orjson.loads(data)
            if fields.get("type") != "SupportRequestChanged":
                return None
            return cls(
                support_request_id=uuid.UUID(fields["supportRequest"]),
                account_id=uuid.UUID(fields["account"]),
                internal=bool(fields.get("internal", False)),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


Event = DocumentPosted | SupportRequestChanged


def decode_event(data: bytes | str) -> Event | None:
    """The event a Redis message carries, or None for anything else."""
    return DocumentPosted.decode(data) or SupportRequestChanged.decode(data)


class EventBus(Protocol):
    """What publishers and subscribers rely on, whichever implementation carries the events."""

    @property
    def subscriber_count(self) -> int: ...

    def publish(self, event: Event) -> None: ...

    def subscribe(self) -> AbstractAsyncContextManager[asyncio.Queue[Event]]: ...

    async def start(self) -> None: ...

    async def close(self) -> None: ...


class EventHub:
    """Subscribers of this process; events published here reach only them."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[Event]] = set()

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def publish(self, event: Event) -> None:
        self.deliver(event)

    def deliver(self, event: Event) -> None:
        """Hand ``event`` to this process's subscribers."""
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

    async def start(self) -> None:
        """Nothing to connect to."""

    async def close(self) -> None:
        """Nothing to wait for."""


class RedisEventHub(EventHub):
    """Events through Redis pub/sub, for several processes on one or several hosts.

    ``listen=False`` makes a publisher only (a command-line tool has no subscribers)."""

    def __init__(self, url: str, *, prefix: str = "portal", listen: bool = True) -> None:
        super().__init__()
        from redis.asyncio import Redis

        self.redis: Redis = Redis.from_url(url, socket_connect_timeout=5, socket_timeout=None)
        self.channel = f"{prefix}:events"
        self.listen = listen
        self._pending: set[asyncio.Task[None]] = set()
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    def publish(self, event: Event) -> None:
        # Every process's subscribers, this one's included, get it back from Redis.
        task = asyncio.get_running_loop().create_task(self._send(event))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _send(self, event: Event) -> None:
        try:
            await self.redis.publish(self.channel, event.encode())
        except Exception as error:  # Redis away: at least this process's subscribers get it
            logger.warning("could not publish %s to Redis: %s", type(event).__name__, error)
            self.deliver(event)

    async def start(self) -> None:
        """Subscribe to the channel (answers once subscribed, so no event is missed after)."""
        if not self.listen or self._listener is not None:
            return
        self._listener = asyncio.get_running_loop().create_task(
            self._listen(), name="portal-redis-events"
        )
        try:
            await asyncio.wait_for(self._ready.wait(), timeout=READY_TIMEOUT_SECONDS)
        except TimeoutError:
            logger.warning("Redis events: not subscribed yet; retrying in the background")

    async def _listen(self) -> None:
        attempt = 0
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.channel)
                self._ready.set()
                if attempt:
                    logger.info("Redis events: subscribed again")
                attempt = 0
                async for message in pubsub.listen():
                    if message.get("type") != "message":
                        continue
                    event = decode_event(message["data"])
                    if event is not None:
                        self.deliver(event)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # a lost connection: subscribe again after a pause
                delay = RECONNECT_DELAY_SECONDS[min(attempt, len(RECONNECT_DELAY_SECONDS) - 1)]
                attempt += 1
                logger.warning(
                    "Redis events: subscription lost (%s); again in %.1f s",
                    type(error).__name__,
                    delay,
                )
                await asyncio.sleep(delay)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def close(self) -> None:
        if self._pending:
            await asyncio.gather(*tuple(self._pending), return_exceptions=True)
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener
        await self.redis.aclose()


def event_bus(*, redis_url: str | None, prefix: str, listen: bool = True) -> EventHub:
    """The configured bus: through Redis when a URL is given, else inside this process."""
    if redis_url:
        return RedisEventHub(redis_url, prefix=prefix, listen=listen)
    return EventHub()
