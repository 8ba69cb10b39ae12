"""The cyclic garbage collector of a serving process: what start-up made is kept out of it, and
the youngest generation is collected less often than the interpreter's default.

A request's objects are freed by their reference counts as it ends: none is left in a reference
cycle (tests/schema/test_request_garbage.py holds it). Two cycles used to hold every request's
objects, rows included, until a full collection: graphql-core's execution context referring to
itself through the helpers it hands resolvers, and the loaders' batch functions referring back
to the loaders that hold them; a denied field's traceback was a third. The collector is then a
safety net for the rare cycle left (an unexpected error's traceback), and the full collections,
each walking every object alive (tens of milliseconds under load), stay as rare as the
interpreter's defaults make them. Start-up's objects (modules, schema, mappers: about 185,000)
are frozen out of it."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# The youngest generation is collected once 5,000 more objects were made than freed, not 700:
# most of a request's objects are freed by their reference counts before then, so each
# collection has less to walk per object made (and fewer survivors to promote). The older
# generations keep the interpreter's thresholds: the middle one is collected once the youngest
# was collected more than ten times, the oldest once the middle one was (and a quarter more
# objects than it held are pending): about every 600,000 objects (5,001 x 11 x 11).
YOUNGEST_GENERATION_THRESHOLD = 5_000
MIDDLE_GENERATION_THRESHOLD = 10
OLDEST_GENERATION_THRESHOLD = 10


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
