"""Rejected tokens on the audit trail without flooding it.

Every request carrying a junk, forged or expired token is refused, but an anonymous client could
otherwise add a permanent audit row per request. Rejections are recorded at most once per client
address and minute: the first rejection of each minute is written (with its reason), the others
of that minute are counted, and the next row written for that address says how many were
counted since the last one. The counts live in this process's memory, bounded in size."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_SECONDS = 60.0
# Addresses remembered at most; the least recently seen are forgotten first.
MAX_ADDRESSES = 10_000


@dataclass(slots=True)
class _Window:
    started: float
    suppressed: int = 0


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether to write this rejection, and how many were left unwritten before it."""

    record: bool
    suppressed_before: int = 0


class RejectedTokens:
    def __init__(
        self,
        *,
        window_seconds: float = WINDOW_SECONDS,
        max_addresses: int = MAX_ADDRESSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window_seconds = window_seconds
        self.max_addresses = max_addresses
        self.clock = clock
        self._windows: OrderedDict[str, _Window] = OrderedDict()

    def forget(self) -> None:
        """Start over (a test that must see each rejection recorded)."""
        self._windows.clear()

    def note(self, address: str | None) -> Verdict:
        key = address or "unknown"
        now = self.clock()
        window = self._windows.get(key)
        if window is not None:
            self._windows.move_to_end(key)
            if now - window.started < self.window_seconds:
                window.suppressed += 1
                return Verdict(record=False)
            carried = window.suppressed
            window.started, window.suppressed = now, 0
            return Verdict(record=True, suppressed_before=carried)
        self._windows[key] = _Window(started=now)
        while len(self._windows) > self.max_addresses:
            self._windows.popitem(last=False)
        return Verdict(record=True)


# The process's one ledger (every entry point that checks bearer tokens shares it).
REJECTED_TOKENS = RejectedTokens()
