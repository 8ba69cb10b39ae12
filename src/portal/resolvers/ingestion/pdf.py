"""Checking an uploaded file before anything is written: a real, readable, unencrypted PDF.

The file name and the declared content type are never trusted: the bytes must start like a PDF
and pypdf must parse the document and every page's content. The size limit is applied while the
bytes are read, so an oversized upload is refused after ``limit + 1`` bytes, never after buffering
it whole. Parsing is CPU-bound and runs in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass

from pypdf import PdfReader

from portal.resolvers.errors import ErrorCode, PortalError

# The PDF specification lets a header follow a little leading junk; readers look in the first KiB.
_HEADER_WINDOW = 1024
_PDF_MAGIC = b"%PDF-"
READ_CHUNK_BYTES = 64 * 1024


class UploadRejected(PortalError):
    """The file is not an acceptable document; ``code`` says why."""

    def __init__(self, code: ErrorCode, message: str, *, field: str | None = "file") -> None:
        super().__init__(message, code=code, field=field)


@dataclass(frozen=True, slots=True)
class PdfFacts:
    """What is recorded about an accepted PDF."""

    page_count: int
    size_bytes: int
    sha256: str


def too_large(limit: int) -> UploadRejected:
    megabytes = limit / (1024 * 1024)
    size = f"{megabytes:g} MB" if megabytes >= 1 else f"{limit} bytes"
    return UploadRejected(ErrorCode.FILE_TOO_LARGE, f"The file is larger than the {size} limit.")


async def read_limited(read: Callable[[int], Awaitable[bytes]], *, limit: int) -> bytes:
    """Read a stream through ``read(n)`` until it ends, refusing it once it passes ``limit``."""
    buffer = bytearray()
    while True:
        chunk = await read(READ_CHUNK_BYTES)
        if not chunk:
            return bytes(buffer)
        buffer += chunk
        if len(buffer) > limit:
            raise too_large(limit)


async def collect_limited(chunks: AsyncIterable[bytes], *, limit: int) -> bytes:
    """Like ``read_limited`` for a stream that yields chunks."""
    buffer = bytearray()
    async for chunk in chunks:
        buffer += chunk
        if len(buffer) > limit:
            raise too_large(limit)
    return bytes(buffer)


def read_file_limited(path: str, *, limit: int) -> bytes:
    """Read a local file, refusing it once it passes ``limit`` (blocking: call in a thread)."""
    with open(path, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise too_large(limit)
    return data


def inspect_pdf(data: bytes, *, limit: int) -> PdfFacts:
    """The facts of an acceptable PDF, or ``UploadRejected`` (blocking: call in a thread)."""
    if not data:
        raise UploadRejected(ErrorCode.EMPTY_FILE, "The file is empty.")
    if len(data) > limit:
        raise too_large(limit)
    if _PDF_MAGIC not in data[:_HEADER_WINDOW]:
        raise UploadRejected(ErrorCode.NOT_A_PDF, "The file is not a PDF document.")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        encrypted = reader.is_encrypted
        if not encrypted:
            page_count = len(reader.pages)
            for page in reader.pages:
                # Reading the page box and decoding its content streams proves every page is whole.
                _ = page.mediabox
                contents = page.get_contents()
                if contents is not None:
                    contents.get_data()
    # pypdf raises many exception types on damaged input (PdfReadError, ValueError, KeyError,
    # struct and zlib errors, ...); every one of them means the same thing here.
    except Exception as error:
        raise UploadRejected(
            ErrorCode.PDF_CORRUPT, "The PDF is damaged and cannot be read."
        ) from error
    if encrypted:
        raise UploadRejected(
            ErrorCode.PDF_ENCRYPTED,
            "The PDF is encrypted or password-protected; upload an unprotected copy.",
        )
    if page_count < 1:
        raise UploadRejected(ErrorCode.PDF_CORRUPT, "The PDF has no pages.")
    return PdfFacts(
        page_count=page_count, size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest()
    )


async def validate_pdf(data: bytes, *, limit: int) -> PdfFacts:
    """``inspect_pdf`` in a worker thread."""
    return await asyncio.to_thread(inspect_pdf, data, limit=limit)
