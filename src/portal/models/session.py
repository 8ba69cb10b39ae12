"""An AsyncSession that serialises its own use.

GraphQL resolves sibling fields concurrently, and an AsyncSession (one connection) must never be
used by two tasks at once. Every entry point that reaches the connection takes the session's lock,
so resolvers can share the request's session safely."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


class RequestSession(AsyncSession):
    _request_lock: asyncio.Lock | None = None

    @property
    def _lock(self) -> asyncio.Lock:
        if self._request_lock is None:
            self._request_lock = asyncio.Lock()
        return self._request_lock

    # The overloads of AsyncSession only refine return types; one passthrough serves them all.
    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        async with self._lock:
            return await super().execute(*args, **kwargs)

    async def scalar(self, *args: Any, **kwargs: Any) -> Any:
        async with self._lock:
            return await super().scalar(*args, **kwargs)

    async def get(self, *args: Any, **kwargs: Any) -> Any:
        async with self._lock:
            return await super().get(*args, **kwargs)

    async def stream(self, *args: Any, **kwargs: Any) -> Any:
        async with self._lock:
            return await super().stream(*args, **kwargs)

    async def flush(self, objects: Any = None) -> None:
        async with self._lock:
            await super().flush(objects)

    async def refresh(self, *args: Any, **kwargs: Any) -> None:
        async with self._lock:
            await super().refresh(*args, **kwargs)

    async def commit(self) -> None:
        async with self._lock:
            await super().commit()

    async def rollback(self) -> None:
        async with self._lock:
            await super().rollback()

    async def run_sync(self, *args: Any, **kwargs: Any) -> Any:
        async with self._lock:
            return await super().run_sync(*args, **kwargs)

    async def __aexit__(self, kind: Any, error: Any, trace: Any) -> None:
        sync = self.sync_session
        if (
            sync._transaction is None
            and not sync.identity_map
            and not sync._new
            and not sync._deleted
        ):
            # Nothing to close (a request that read on the driver alone): no close(), which
            # runs in a task of its own, shielded, and a greenlet.
            return
        await super().__aexit__(kind, error, trace)
