"""One merged PDF of many stored documents: checked against their SHA-256, bookmarked, merged in a
separate process.

pypdf is CPU-bound and holds the GIL: merging in a thread of the serving process halves everyone
else's throughput. So the documents are first read from storage and checked (I/O, in this process)
into a private temporary folder, then merged by a worker process of a ``MergePool`` into a file
of that folder, which is streamed out in chunks. A pool bounds the merges running at once per
process; further ones wait their turn.

Every merged PDF starts with the same header (``PDF_PREFIX``), so a response can send its first
bytes before the merge has even started."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import logging
import multiprocessing
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from portal.storage import CorruptDocumentError, DocumentNotFoundError, DocumentStorage

logger = logging.getLogger(__name__)

STREAM_CHUNK_BYTES = 64 * 1024
PDF_VERSION = "%PDF-1.7"
# What pypdf writes first: the version line, then a comment of four bytes above 127 (binary file).
PDF_PREFIX = PDF_VERSION.encode() + b"\n%\xe2\xe3\xcf\xd3\n"


@dataclass(frozen=True, slots=True)
class MergePart:
    """One document of a merged PDF, with its bookmark title."""

    document_id: uuid.UUID
    title: str
    storage_key: str
    sha256: str


@dataclass(frozen=True, slots=True)
class StagedPart:
    """A checked document copied into the merge folder."""

    path: str
    title: str


class DocumentIntegrityError(RuntimeError):
    """A stored document is missing or its bytes do not match the SHA-256 recorded at posting."""

    def __init__(self, document_id: uuid.UUID, reason: str) -> None:
        super().__init__(f"document {document_id}: {reason}")
        self.document_id = document_id
        self.reason = reason


class MergeFailedError(RuntimeError):
    """The merge worker could not produce the PDF (or died)."""


async def _verified_bytes(storage: DocumentStorage, part: MergePart) -> bytes:
    try:
        data = await storage.get(part.storage_key)
    except DocumentNotFoundError:
        raise DocumentIntegrityError(part.document_id, "not in storage") from None
    except CorruptDocumentError:
        raise DocumentIntegrityError(
            part.document_id, "stored bytes do not match their key"
        ) from None
    # The storage checks bytes against its key; the recorded hash is checked here, so a storage
    # backend that is not content-addressed (or a swapped key) cannot slip other bytes in.
    if hashlib.sha256(data).hexdigest() != part.sha256:
        raise DocumentIntegrityError(part.document_id, "SHA-256 differs from the recorded one")
    return data


def _write_private(path: Path, data: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


async def stage_parts(
    *, storage: DocumentStorage, parts: Sequence[MergePart], folder: Path
) -> list[StagedPart]:
    """Read and check every part into ``folder``, one at a time (never all in memory); raises
    ``DocumentIntegrityError`` before anything is merged or served."""
    if not parts:
        raise ValueError("nothing to merge")
    staged: list[StagedPart] = []
    for index, part in enumerate(parts):
        data = await _verified_bytes(storage, part)
        path = folder / f"part-{index:03d}.pdf"
        await asyncio.to_thread(_write_private, path, data)
        del data
        staged.append(StagedPart(path=str(path), title=part.title))
    return staged


def merge_files(output: str, parts: Sequence[StagedPart]) -> int:
    """Merge ``parts`` in order into ``output`` with one bookmark each; answers the page count.

    Runs in a merge worker process: plain arguments in, a number out. pypdf is imported here,
    in the worker, never by the serving process (about 20 MB it would hold for nothing)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    try:
        for part in parts:
            first_page = len(writer.pages)
            # The documents' own outlines are left out: one bookmark per document.
            writer.append(PdfReader(part.path), import_outline=False)
            writer.add_outline_item(title=part.title, page_number=first_page)
        writer.pdf_header = PDF_VERSION
        descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            writer.write(handle)
        return len(writer.pages)
    finally:
        writer.close()


# Merge workers run at a lower CPU priority than the serving process: when cores are scarce, the
# requests of everyone else go first and the merge takes a little longer.
MERGE_WORKER_NICENESS = 10


def _lower_priority() -> None:
    """Runs once in each new merge worker process."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(MERGE_WORKER_NICENESS)


class MergePool:
    """Merge worker processes of one serving process, at most ``max_merges`` merges at once.

    Workers are spawned (never forked from a process running an event loop and threads) on first
    use, and replaced if one dies."""

    def __init__(self, max_merges: int) -> None:
        self.max_merges = max_merges
        self._slots = asyncio.Semaphore(max_merges)
        self._executor: concurrent.futures.ProcessPoolExecutor | None = None
        self.running = 0
        self.waiting = 0

    def _pool(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._executor is None:
            self._executor = concurrent.futures.ProcessPoolExecutor(
                max_workers=self.max_merges,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_lower_priority,
            )
        return self._executor

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
            try:
                return await loop.run_in_executor(
                    self._pool(), merge_files, str(output), list(parts)
                )
            except concurrent.futures.process.BrokenProcessPool:
                logger.error("a merge worker process died; starting new ones")
                broken, self._executor = self._executor, None
                if broken is not None:
                    broken.shutdown(wait=False, cancel_futures=True)
                raise MergeFailedError("the merge worker process died") from None
        finally:
            self.running -= 1
            self._slots.release()

    def shutdown(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
