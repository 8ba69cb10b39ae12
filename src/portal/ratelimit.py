"""Query budgets: a leaky bucket of cost points per caller (a principal, or an IP address for
anonymous callers).

A bucket holds at most ``capacity`` points and drains ``leak_per_second`` points every second.
An operation of cost C is admitted when the bucket's level plus C fits the capacity (the level
then rises by C); otherwise it is refused and the level stays. ``remaining`` is what still fits,
``reset_at`` when the bucket will be empty again.

``MemoryBuckets`` keeps the levels in this process; ``RedisBuckets`` keeps them in Redis
(``PORTAL_REDIS_URL``) with one atomic script per decision, timed by the Redis server's clock, so
every process behind a load balancer shares one budget per caller."""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

logger = logging.getLogger(__name__)

# Callers remembered by one process (least recently seen forgotten first: an empty bucket).
MEMORY_BUCKETS = 100_000
REDIS_KEY_PREFIX = "portal:ratelimit:"


@dataclass(frozen=True, slots=True)
class BucketPolicy:
    capacity: int
    leak_per_second: float


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of charging ``requested`` points to one caller's bucket."""

    allowed: bool
    requested: int
    limit: int
    remaining: int
    reset_at: datetime

    @property
    def retry_after_seconds(self) -> int:
        """When enough will have drained for the refused request (0 when it was admitted)."""
        if self.allowed:
            return 0
        return max(1, math.ceil((self.reset_at - datetime.now(UTC)).total_seconds()))


def _decision(
    policy: BucketPolicy, level: float, requested: int, allowed: bool, now: float
) -> Decision:
    # (a level read back from text may carry float dust: 31.000000000000004 is 31)
    remaining = max(0, math.floor(policy.capacity - level + 1e-6))
    seconds_to_empty = level / policy.leak_per_second if policy.leak_per_second > 0 else 0.0
    return Decision(
        allowed=allowed,
        requested=requested,
        limit=policy.capacity,
        remaining=remaining,
        reset_at=datetime.fromtimestamp(now, UTC) + timedelta(seconds=seconds_to_empty),
    )


class Buckets(Protocol):
    async def charge(self, key: str, cost: int, policy: BucketPolicy) -> Decision:
        """Admit ``cost`` points into ``key``'s bucket if they fit (0 only reads the level)."""
        ...

    async def close(self) -> None: ...


class MemoryBuckets:
    """One process's buckets (no await inside a decision, so no lock is needed)."""

    def __init__(self, *, clock: Any = time.time, max_keys: int = MEMORY_BUCKETS) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._levels: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def charge(self, key: str, cost: int, policy: BucketPolicy) -> Decision:
        now = float(self._clock())
        level, updated = self._levels.pop(key, (0.0, now))
        level = max(0.0, level - max(0.0, now - updated) * policy.leak_per_second)
        allowed = level + cost <= policy.capacity
        if allowed:
            level += cost
        if level > 0:
            self._levels[key] = (level, now)
            while len(self._levels) > self._max_keys:
                self._levels.popitem(last=False)
        return _decision(policy, level, cost, allowed, now)

    async def close(self) -> None:
        self._levels.clear()


# KEYS[1] bucket; ARGV capacity, leak per second, cost. Returns {allowed, level, now} as strings.
_CHARGE = """
local capacity = tonumber(ARGV[1])
local leak = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local stored = redis.call('HMGET', KEYS[1], 'level', 'updated')
local level = tonumber(stored[1]) or 0
local updated = tonumber(stored[2]) or now
level = math.max(0, level - math.max(0, now - updated) * leak)
local allowed = 0
if level + cost <= capacity then
  level = level + cost
  allowed = 1
end
local level_text = string.format('%.17g', level)
local now_text = string.format('%.6f', now)
if level > 0 then
  redis.call('HSET', KEYS[1], 'level', level_text, 'updated', now_text)
  local ttl = 1000
  if leak > 0 then ttl = math.ceil(level / leak * 1000) + 1000 end
  redis.call('PEXPIRE', KEYS[1], ttl)
else
  redis.call('DEL', KEYS[1])
end
return {tostring(allowed), level_text, now_text}
"""


class RedisBuckets:
    """Buckets shared by every process using the same Redis. When Redis cannot be reached the
    request is admitted (and logged): the budget protects the service, it must not stop it."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self._script = self._redis.register_script(_CHARGE)

    async def charge(self, key: str, cost: int, policy: BucketPolicy) -> Decision:
        from redis.exceptions import RedisError

        try:
            allowed, level, now = await self._script(
                keys=[REDIS_KEY_PREFIX + key],
                args=[policy.capacity, policy.leak_per_second, cost],
            )
        except (RedisError, OSError) as error:
            logger.warning("rate limit store unavailable, admitting: %s", type(error).__name__)
            return _decision(policy, 0.0, cost, True, time.time())
        return _decision(policy, float(level), cost, allowed in (b"1", "1"), float(now))

    async def close(self) -> None:
        await self._redis.aclose()


def buckets_for(redis_url: str | None) -> Buckets:
    return RedisBuckets(redis_url) if redis_url else MemoryBuckets()
