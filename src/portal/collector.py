"""The cyclic garbage collector of a serving process: what start-up made is kept out of it, and
the oldest generation is collected as often as the middle one.

Every GraphQL request leaves cyclic garbage (graphql-core's execution context refers to itself,
and through it the request's context, loaders, rows and errors; a field error's traceback refers
back to the frames that hold it). Its objects live as long as the request, long enough to be
promoted to the oldest generation, which the interpreter collects only after ten collections of
the middle one and once a quarter more objects than it held are pending: every request's garbage
then waited, and piled up under concurrent requests, raising the process's peak resident size.

Collecting the oldest generation that often costs little once start-up's objects (modules,
schema, mappers: about 185,000) are frozen out of the collector: each collection then walks the
requests' objects only, fewer in all than the rare full walks over everything it replaces."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# Collected with each collection of the middle generation (that generation's own threshold, 10
# collections of the youngest, stays).
OLDEST_GENERATION_THRESHOLD = 0


@contextlib.contextmanager
def serving_collector() -> Iterator[None]:
    """While the block runs: start-up's objects frozen (collected garbage first), the oldest
    generation collected with the middle one. Afterwards the collector is as it was."""
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    # Again, over what is left (nothing much): the interpreter sizes the oldest generation by its
    # last full collection, which counted start-up's objects, and would wait for a quarter of
    # those (about 46,000 objects of requests) before the next.
    gc.collect()
    gc.set_threshold(thresholds[0], thresholds[1], OLDEST_GENERATION_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
