"""Where the app's time goes under load: a summary of py-spy's collapsed stacks."""

from __future__ import annotations

import re
from collections import Counter

# Frames every sample passes through (the server's loop) or that only hand a request on.
_CARRIERS = re.compile(
    r"^(<module>|run|Server\.run|asyncio_run|Runner\.run) |\((uvicorn|starlette)/"
)
_IDLE = re.compile(r"^(_worker \(concurrent/futures|Condition\.wait \(threading)")


def _library(frame: str) -> str:
    found = re.search(r"\(([^/:)]+)[/:]", frame)
    return found.group(1) if found else frame


def top_frames(collapsed: str, *, count: int = 15) -> list[str]:
    """A summary of py-spy's collapsed stacks ('a;b;c N' lines): self time by library, the top
    frames by self time, and the top frames by inclusive time below the server's loop. Samples of
    idle worker threads are left out; the event loop's own C code (uvloop) shows as
    ``Runner.run``."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    libraries: Counter[str] = Counter()
    total = 0
    for line in collapsed.splitlines():
        stack, _, samples = line.rpartition(" ")
        if not samples.isdigit() or not stack:
            continue
        frames = stack.split(";")
        if _IDLE.match(frames[-1]):
            continue
        n = int(samples)
        total += n
        own[frames[-1]] += n
        libraries[_library(frames[-1])] += n
        for frame in set(frames):
            if not _CARRIERS.search(frame):
                inclusive[frame] += n
    if total == 0:
        return ["no samples"]

    def shown(counter: Counter[str]) -> list[str]:
        return [f"{100 * n / total:5.1f}%  {frame}" for frame, n in counter.most_common(count)]

    return [
        f"{total} samples (idle worker threads left out)",
        "",
        "self time by library:",
        *shown(libraries),
        "",
        "self time:",
        *shown(own),
        "",
        "inclusive (below the server loop and the middleware):",
        *shown(inclusive),
    ]
