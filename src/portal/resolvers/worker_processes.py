"""The one forkserver every worker process of a server process starts from (PDF checks, merges).

A forkserver is a small process started once, from a clean interpreter (never forked from a
process running an event loop and threads), that imports the workers' modules and then forks a
new worker in milliseconds instead of the seconds a freshly spawned interpreter takes to import
them. ``multiprocessing`` keeps one forkserver per process whatever the pool asking for it, so its
preload list is set here, once, for every pool."""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import ForkServerContext

# What the forkserver imports before forking workers: pypdf (the PDF checks) and pikepdf (the
# merges), which the serving process never imports, and the functions the pools run.
FORKSERVER_PRELOAD = (
    "pypdf",
    "pikepdf",
    "portal.resolvers.ingestion.pdf",
    "portal.resolvers.downloads.merge",
)


def forkserver_context() -> ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(list(FORKSERVER_PRELOAD))
    return context
