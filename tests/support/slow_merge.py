"""A merge that begins only after a moment, for tests that must catch a merge worker in the
middle of one (a merge of a few small files can end between two turns of the event loop). A
module of its own, importable by a merge worker process without the rest of the tests."""

from __future__ import annotations

import time
from collections.abc import Sequence

from portal.resolvers.downloads.merge import StagedPart, merge_files

DELAY_SECONDS = 0.5


def slow_merge(output: str, parts: Sequence[StagedPart]) -> int:
    time.sleep(DELAY_SECONDS)
    return merge_files(output, parts)
