"""A typed face for aiodataloader, and the batch helper every domain's loaders use."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from typing import Any, Generic, TypeVar

from aiodataloader import DataLoader
from sqlalchemy import any_, literal
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.types import Uuid

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BatchLoader(Generic[K, V]):
    """Collects the keys asked for in one tick of the event loop into one call of ``batch``."""

    def __init__(self, batch: Callable[[Sequence[K]], Awaitable[Sequence[V]]]) -> None:
        async def load_fn(keys: list[K]) -> list[V]:
            return list(await batch(keys))

        self._loader: Any = DataLoader(load_fn)

    async def load(self, key: K) -> V:
        value: V = await self._loader.load(key)
        return value

    async def load_many(self, keys: Iterable[K]) -> list[V]:
        values: list[V] = await self._loader.load_many(list(keys))
        return values


def in_key_order(
    keys: Sequence[uuid.UUID], rows: Iterable[V], key_of: Callable[[V], uuid.UUID]
) -> list[V | None]:
    """Answer one value per key, in the keys' order, None where no row matched."""
    by_key = {key_of(row): row for row in rows}
    return [by_key.get(key) for key in keys]


def equals_any(column: Any, ids: Iterable[uuid.UUID]) -> Any:
    """``column = ANY($1::uuid[])``: one bound array, so the statement text (and its prepared
    plan) is the same whatever the number of ids."""
    return column == any_(literal(list(ids), type_=ARRAY(Uuid())))
