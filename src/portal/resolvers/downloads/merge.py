"""One merged PDF of many stored documents: checked against their SHA-256, bookmarked, spooled.

pypdf is CPU-bound and synchronous, so every parse and the final write run in a worker thread; the
event loop only awaits them. Documents are read and appended one at a time, and the result goes to
a spooled temporary file (memory up to a limit, then disk) that is streamed out in chunks, so 200
documents are never held in memory twice."""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import tempfile
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import IO

from pypdf import PdfReader, PdfWriter

from portal.storage import CorruptDocumentError, DocumentNotFoundError, DocumentStorage

logger = logging.getLogger(__name__)

# Up to this size the merged PDF stays in memory; beyond it the spool moves to a temporary file.
SPOOL_IN_MEMORY_BYTES = 8 * 1024 * 1024
STREAM_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class MergePart:
    """One document of a merged PDF, with its bookmark title."""

    document_id: uuid.UUID
    title: str
    storage_key: str
    sha256: str


class DocumentIntegrityError(RuntimeError):
    """A stored document is missing or its bytes do not match the SHA-256 recorded at posting."""

    def __init__(self, document_id: uuid.UUID, reason: str) -> None:
        super().__init__(f"document {document_id}: {reason}")
        self.document_id = document_id
        self.reason = reason


@dataclass
class MergedPdf:
    """The merged file, positioned at its start; ``close`` removes it."""

    file: IO[bytes]
    size: int
    page_count: int

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            while chunk := await asyncio.to_thread(self.file.read, STREAM_CHUNK_BYTES):
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        self.file.close()


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


def _append(writer: PdfWriter, data: bytes, title: str) -> None:
    first_page = len(writer.pages)
    # The documents' own outlines are left out: the merged file has one bookmark per document.
    writer.append(PdfReader(io.BytesIO(data)), import_outline=False)
    writer.add_outline_item(title=title, page_number=first_page)


def _write(writer: PdfWriter) -> MergedPdf:
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES)  # noqa: SIM115 - returned open, closed by MergedPdf
    try:
        writer.write(spool)
        size = spool.tell()
        spool.seek(0)
    except BaseException:
        spool.close()
        raise
    return MergedPdf(file=spool, size=size, page_count=len(writer.pages))


async def merge_documents(*, storage: DocumentStorage, parts: Sequence[MergePart]) -> MergedPdf:
    """Merge ``parts`` in order; raises ``DocumentIntegrityError`` before anything is served."""
    if not parts:
        raise ValueError("nothing to merge")
    writer = PdfWriter()
    try:
        for part in parts:
            data = await _verified_bytes(storage, part)
            await asyncio.to_thread(_append, writer, data, part.title)
            del data
        return await asyncio.to_thread(_write, writer)
    finally:
        writer.close()
