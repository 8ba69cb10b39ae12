"""One merged PDF of many stored documents: checked against their SHA-256, bookmarked, merged in a
separate process.

The merge is pikepdf's (qpdf, in C++): it copies the pages' objects and streams as they are
(nothing is decoded, so nothing inflates), several times faster than pypdf, which still checks
every document at posting. A merge is CPU-bound and parses stored files: it runs outside the
serving process, whose requests it would otherwise slow, and which a crash of the library must not
take down. So the documents are first checked (I/O, in this process), then merged by a worker
process of a ``MergePool`` into a file of a private temporary folder, which is streamed out in
chunks. Documents stored as files of this host (``LocalFiles``) are checked where they lie and
the worker opens those very files, checking them again as it reads them (so what it merges is
what was checked); others are read from storage and checked into the folder. A pool bounds the
merges running at once per process; further ones wait their turn.

Every merged PDF starts with the same header (``PDF_PREFIX``), so a response can send its first
bytes before the merge has even started."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import logging
import os
import threading
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import anyio

from portal.resolvers.worker_processes import forkserver_context
from portal.storage import (
    CorruptDocumentError,
    DocumentNotFoundError,
    DocumentStorage,
    LocalFiles,
)

if TYPE_CHECKING:
    import pikepdf

logger = logging.getLogger(__name__)

STREAM_CHUNK_BYTES = 64 * 1024
PDF_VERSION = "1.7"
# What qpdf writes first: the version line, then a comment of four bytes above 127 (binary file).
PDF_PREFIX = f"%PDF-{PDF_VERSION}".encode() + b"\n%\xbf\xf7\xa2\xfe\n"


@dataclass(frozen=True, slots=True)
class MergePart:
    """One document of a merged PDF, with its bookmark title."""

    document_id: uuid.UUID
    title: str
    storage_key: str
    sha256: str


@dataclass(frozen=True, slots=True)
class StagedPart:
    """A checked document: a copy in the merge folder, or the stored file itself."""

    path: str
    title: str
    # Set when ``path`` is the stored file, not a private copy: the SHA-256 the merge worker
    # checks its bytes against as it opens it (the file could change after the first check).
    sha256: str | None = None


class DocumentIntegrityError(RuntimeError):
    """A stored document is missing or its bytes do not match the SHA-256 recorded at posting."""

    def __init__(self, document_id: uuid.UUID, reason: str) -> None:
        super().__init__(f"document {document_id}: {reason}")
        self.document_id = document_id
        self.reason = reason


class MergeFailedError(RuntimeError):
    """The merge worker could not produce the PDF (or died)."""


# Parts read from storage at once while staging: an object store answers each in tens of
# milliseconds, so they overlap, and at most this many documents are in memory at a time.
STAGE_CONCURRENCY = 4


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _check_and_write(part: MergePart, path: Path, data: bytes) -> None:
    """Runs in a worker thread: hashing a large document would hold up the event loop."""
    # The storage checks bytes against its key; the recorded hash is checked here, so a storage
    # backend that is not content-addressed (or a swapped key) cannot slip other bytes in.
    if hashlib.sha256(data).hexdigest() != part.sha256:
        raise DocumentIntegrityError(part.document_id, "SHA-256 differs from the recorded one")
    _write_private(path, data)


@contextlib.contextmanager
def _read_of(part: MergePart) -> Iterator[None]:
    """A storage read of ``part`` failing as the part's integrity error."""
    try:
        yield
    except DocumentNotFoundError:
        raise DocumentIntegrityError(part.document_id, "not in storage") from None
    except CorruptDocumentError:
        raise DocumentIntegrityError(
            part.document_id, "stored bytes do not match their key"
        ) from None


async def _stage_part(storage: DocumentStorage, part: MergePart, path: Path) -> None:
    with _read_of(part):
        data = await storage.get(part.storage_key)
    await asyncio.to_thread(_check_and_write, part, path, data)


def _check_lane(
    storage: LocalFiles,
    lane: Sequence[tuple[int, MergePart]],
    found: list[str],
    stop: threading.Event,
) -> None:
    """Runs in a worker thread: check the stored files of one lane's parts where they lie, one
    after another, into ``found`` (by index), until done or until another lane failed (``stop``)."""
    for index, part in lane:
        if stop.is_set():
            return
        try:
            with _read_of(part):
                path = storage.checked_file(part.storage_key)
            # The file's bytes hash to its key, so they hash to the recorded SHA-256 only if
            # that is the key: no second hash (a storage key is its bytes' SHA-256).
            if part.sha256 != part.storage_key:
                raise DocumentIntegrityError(
                    part.document_id, "SHA-256 differs from the recorded one"
                )
            found[index] = str(path)
        except BaseException:
            stop.set()
            raise


async def _check_in_lanes(storage: LocalFiles, parts: Sequence[MergePart]) -> list[str]:
    """The checked stored files of ``parts``, in order: ``STAGE_CONCURRENCY`` worker threads,
    each checking every ``STAGE_CONCURRENCY``-th part (one thread hop per lane, not per part).
    Returns (or raises the first failure) only once every lane has stopped."""
    numbered = list(enumerate(parts))
    found = [""] * len(numbered)
    stop = threading.Event()
    lanes = asyncio.gather(
        *(
            asyncio.to_thread(_check_lane, storage, numbered[start::STAGE_CONCURRENCY], found, stop)
            for start in range(min(STAGE_CONCURRENCY, len(numbered)))
        ),
        return_exceptions=True,
    )
    try:
        outcomes = await asyncio.shield(lanes)
    except BaseException:
        # Cancelled: the lanes stop after the part each is on, and are waited for.
        stop.set()
        with anyio.CancelScope(shield=True):
            await lanes
        raise
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return found


async def stage_parts(
    *, storage: DocumentStorage, parts: Sequence[MergePart], folder: Path
) -> list[StagedPart]:
    """Check every part, ``STAGE_CONCURRENCY`` at a time (never all in memory); raises
    ``DocumentIntegrityError`` before anything is merged or served. Files of this host
    (``LocalFiles``) are checked where they lie by ``STAGE_CONCURRENCY`` worker threads, each
    checking its share in turn, and merged from there (nothing is copied); other storages' bytes
    are read and checked into ``folder``."""
    if not parts:
        raise ValueError("nothing to merge")
    if isinstance(storage, LocalFiles):
        paths = await _check_in_lanes(storage, parts)
        return [
            StagedPart(path=path, title=part.title, sha256=part.sha256)
            for path, part in zip(paths, parts, strict=True)
        ]
    staged = [
        StagedPart(path=str(folder / f"part-{index:03d}.pdf"), title=part.title)
        for index, part in enumerate(parts)
    ]
    slots = asyncio.Semaphore(STAGE_CONCURRENCY)

    async def stage(part: MergePart, path: str) -> None:
        async with slots:
            await _stage_part(storage, part, Path(path))

    tasks = [
        asyncio.create_task(stage(part, target.path))
        for part, target in zip(parts, staged, strict=True)
    ]
    try:
        await asyncio.gather(*tasks)
    except BaseException:
        # The first failure (or a cancellation) stops the others before it is raised.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    return staged


class EmptyPartError(ValueError):
    """A part has no page (a stored document always has one: it was checked at posting)."""


class PartChangedError(RuntimeError):
    """A stored file no longer had the checked bytes when the merge worker opened it."""


def _open_part(part: StagedPart, handles: list[BinaryIO]) -> pikepdf.Pdf:
    """The part opened by qpdf. A stored file (``sha256`` set) is checked again through a handle
    of its own (added to ``handles``, which the caller closes), and qpdf maps that very handle's
    file: a file put in its place after the check is not read. Mapped, qpdf reads as fast as
    from a file it opens itself; through Python reads of a handle it is several times slower."""
    import pikepdf

    if part.sha256 is None:
        return pikepdf.open(part.path)  # a private copy, checked as it was made
    handle = open(part.path, "rb")  # noqa: SIM115 - closed by the caller, after the merge
    handles.append(handle)
    if hashlib.file_digest(handle, "sha256").hexdigest() != part.sha256:
        raise PartChangedError(f"part {len(handles)} changed since it was checked")
    handle.seek(0)
    return pikepdf.open(handle, access_mode=pikepdf.AccessMode.mmap)


def merge_files(output: str, parts: Sequence[StagedPart]) -> int:
    """Merge ``parts`` in order into ``output`` with one bookmark each; answers the page count.

    Runs in a merge worker process: plain arguments in, a number out. pikepdf is imported here,
    in the worker, never by the serving process (megabytes it would hold for nothing). The
    streams are copied as stored, neither decoded nor compressed again."""
    import pikepdf

    merged = pikepdf.new()
    # Open until the merged file is written: qpdf reads the copied streams from them then.
    sources: list[pikepdf.Pdf] = []
    handles: list[BinaryIO] = []
    try:
        starts: list[int] = []
        for part in parts:
            source = _open_part(part, handles)
            sources.append(source)
            if not source.pages:
                raise EmptyPartError(f"part {len(sources)} has no page")
            starts.append(len(merged.pages))
            # Pages only: the documents' own outlines stay behind (one bookmark per document).
            merged.pages.extend(source.pages)
        with merged.open_outline() as outline:
            outline.root.extend(
                pikepdf.OutlineItem(part.title, start)
                for part, start in zip(parts, starts, strict=True)
            )
        descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            merged.save(
                handle,
                force_version=PDF_VERSION,
                compress_streams=False,
                stream_decode_level=pikepdf.StreamDecodeLevel.none,
            )
        return len(merged.pages)
    finally:
        merged.close()
        for source in sources:
            source.close()
        for opened in handles:
            opened.close()


# Merge workers run at a lower CPU priority than the serving process: when cores are scarce, the
# requests of everyone else go first and the merge takes a little longer.
MERGE_WORKER_NICENESS = 10


def _lower_priority() -> None:
    """Runs once in each new merge worker process."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(MERGE_WORKER_NICENESS)


def _ready() -> int:
    """A worker's first task: it is up (its process id)."""
    return os.getpid()


class MergePool:
    """Merge worker processes of one serving process, at most ``max_merges`` merges at once.

    The ``max_merges`` workers are forked from the forkserver (``portal.resolvers.
    worker_processes``) by ``start`` (at the app's start, or before the first merge), and stay
    up between merges: a download never waits for a worker to start. A worker that dies (killed,
    out of memory) fails its merge with ``MergeFailedError``, and the next merge gets a new set."""

    def __init__(self, max_merges: int) -> None:
        self.max_merges = max_merges
        self._slots = asyncio.Semaphore(max_merges)
        self._starting = asyncio.Lock()
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self.running = 0
        self.waiting = 0

    def _start_workers(self) -> concurrent.futures.ProcessPoolExecutor:
        """Blocking: the forkserver's first start waits for its imports (a second or two)."""
        executor = concurrent.futures.ProcessPoolExecutor(
            max_workers=self.max_merges,
            mp_context=forkserver_context(),
            initializer=_lower_priority,
        )
        try:
            # Submitted at once, before any can finish: each needs a worker of its own.
            for future in [executor.submit(_ready) for _ in range(self.max_merges)]:
                future.result()
        except BaseException:
            executor.shutdown(wait=False, cancel_futures=True)
            raise
        return executor

    async def _workers(self) -> concurrent.futures.ProcessPoolExecutor:
        async with self._starting:
            if self._executor is None:
                self._executor = await asyncio.to_thread(self._start_workers)
            return self._executor

    async def start(self) -> None:
        """Start the worker processes now, off the event loop (idempotent)."""
        await self._workers()

    def _discard(self, broken: concurrent.futures.ProcessPoolExecutor) -> None:
        if self._executor is broken:
            self._executor = None
        broken.shutdown(wait=False, cancel_futures=True)

    def worker_pids(self) -> list[int]:
        """The worker processes' ids (none before ``start``)."""
        processes = getattr(self._executor, "_processes", None) or {}
        return sorted(processes)

    async def merge(self, output: Path, parts: Sequence[StagedPart]) -> int:
        """Merge ``parts`` into ``output`` in a worker process; answers the page count."""
        self.waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
        self.running += 1
        try:
            loop = asyncio.get_running_loop()
            executor = await self._workers()
            try:
                merged = loop.run_in_executor(executor, merge_files, str(output), list(parts))
            except concurrent.futures.process.BrokenProcessPool:
                # A worker died while idle: this merge had not begun. New workers take it.
                logger.warning("a merge worker process had died; starting new ones")
                self._discard(executor)
                executor = await self._workers()
                merged = loop.run_in_executor(executor, merge_files, str(output), list(parts))
            try:
                return await merged
            except concurrent.futures.process.BrokenProcessPool:
                logger.error("a merge worker process died; starting new ones")
                self._discard(executor)
                raise MergeFailedError("the merge worker process died") from None
        finally:
            self.running -= 1
            self._slots.release()

    def shutdown(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
