"""Untrusted PDFs are parsed in a process of their own, under memory and CPU limits.

Parsing a hostile PDF can take gigabytes of memory or minutes of CPU. The server never does it
on its event loop, nor in its own memory: each upload is checked by a fresh process forked from
a small server process that has pypdf loaded already (``forkserver``), with an address-space
limit (``RLIMIT_AS``) and a CPU-time limit (``RLIMIT_CPU``). A check that hits either limit, or
outlasts the wall-clock bound, is refused as ``PDF_TOO_COMPLEX``; the server carries on."""

from __future__ import annotations

import asyncio
import multiprocessing
import resource
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from portal.resolvers.errors import ErrorCode
from portal.resolvers.ingestion.pdf import (
    DEFAULT_MAX_INFLATED_BYTES,
    CheckedPdf,
    UploadRejected,
    inspect_pdf,
)


@dataclass(frozen=True, slots=True)
class PdfCheckLimits:
    memory_bytes: int = 1024 * 1024 * 1024
    cpu_seconds: int = 30
    max_inflated_bytes: int = DEFAULT_MAX_INFLATED_BYTES


DEFAULT_LIMITS = PdfCheckLimits()


@dataclass(frozen=True)
class _Outcome:
    """What the worker process answers (plain values: no exception crosses processes)."""

    kind: str  # "accepted", "rejected" or "too complex"
    code: str = ""
    message: str = ""
    checked: CheckedPdf | None = None


def _limit_resources(memory_bytes: int, cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))


def _check_in_child(data: bytes, limit: int, max_inflated: int) -> _Outcome:
    """Runs in the worker process."""
    try:
        checked = inspect_pdf(data, limit=limit, max_inflated=max_inflated)
    except UploadRejected as error:
        return _Outcome("rejected", code=error.code.value, message=error.message)
    except MemoryError:
        return _Outcome("too complex")
    return _Outcome("accepted", checked=checked)


class PdfChecker:
    """One per server process; each check runs in a fresh, limited worker process."""

    def __init__(self, limits: PdfCheckLimits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context("forkserver")
            # The checking module imports pypdf only when it parses: preload both.
            context.set_forkserver_preload(["pypdf", "portal.resolvers.ingestion.pdf"])
            self._executor = ProcessPoolExecutor(
                max_workers=2,
                mp_context=context,
                initializer=_limit_resources,
                initargs=(self.limits.memory_bytes, self.limits.cpu_seconds),
                # A fresh process per file: the CPU limit counts one check, and nothing of one
                # hostile file outlives its check.
                max_tasks_per_child=1,
            )
        return self._executor

    async def check(self, data: bytes, *, limit: int) -> CheckedPdf:
        loop = asyncio.get_running_loop()
        try:
            outcome = await asyncio.wait_for(
                loop.run_in_executor(
                    self._pool(),
                    _check_in_child,
                    data,
                    limit,
                    self.limits.max_inflated_bytes,
                ),
                timeout=self.limits.cpu_seconds * 2,
            )
        except (BrokenProcessPool, TimeoutError):
            # The worker died on a limit (or hangs until its CPU limit ends it): start afresh.
            self.close()
            raise _too_complex() from None
        if outcome.kind == "rejected":
            raise UploadRejected(ErrorCode(outcome.code), outcome.message)
        if outcome.checked is None:
            raise _too_complex()
        return outcome.checked

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


def _too_complex() -> UploadRejected:
    return UploadRejected(
        ErrorCode.PDF_TOO_COMPLEX,
        "The PDF needs more memory or time to check than a result may take; upload a simpler copy.",
    )


# The process's checker (the app configures its limits at start and closes it at shutdown).
PDF_CHECKER = PdfChecker()


async def validate_pdf(data: bytes, *, limit: int) -> CheckedPdf:
    """Check (and clean) an uploaded PDF in a separate, limited process."""
    return await PDF_CHECKER.check(data, limit=limit)
