"""The cyclic garbage collector of a serving process: what start-up made is kept out of it, the
oldest generation is collected as often as the middle one, and the youngest less often.

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

# The youngest generation is collected once 5,000 more objects were made than freed, not 700:
# most of a request's objects are freed by their reference counts before then, so each
# collection has less to walk per object made (and fewer survivors to promote). Collecting the
# middle generation (and with it the oldest) every second time keeps the oldest collected about as
# often as before (every 15,000 objects instead of 7,700): a page of 50 documents spent 0.65 ms
# of CPU in the collector, 0.32 ms now.
YOUNGEST_GENERATION_THRESHOLD = 5_000
MIDDLE_GENERATION_THRESHOLD = 2
# Collected with each collection of the middle generation.
OLDEST_GENERATION_THRESHOLD = 0


@contextlib.contextmanager
def serving_collector() -> Iterator[None]:
    """While the block runs: start-up's objects frozen (collected garbage first), the thresholds
    above. Afterwards the collector is as it was."""
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    # Again, over what is left (nothing much): the interpreter sizes the oldest generation by its
    # last full collection, which counted start-up's objects, and would wait for a quarter of
    # those (about 46,000 objects of requests) before the next.
    gc.collect()
    gc.set_threshold(
        YOUNGEST_GENERATION_THRESHOLD, MIDDLE_GENERATION_THRESHOLD, OLDEST_GENERATION_THRESHOLD
    )
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
