"""Checking an uploaded file before anything is written: a real, readable, unencrypted PDF.

The file name and the declared content type are never trusted: the bytes must start like a PDF
and pypdf must parse the document and every page's content. The size limit is applied while the
bytes are read, so an oversized upload is refused after ``limit + 1`` bytes, never after buffering
it whole.

Untrusted PDFs are parsed in a separate process (``portal.resolvers.ingestion.isolation``),
never on the event loop nor in the server's own memory: a decompression bomb (a small file whose
streams inflate to gigabytes) is refused once its pages inflate past ``max_inflated`` bytes, and
the worker process runs under memory and CPU limits besides. Active content (JavaScript, launch,
URI and form-submitting actions, embedded files, multimedia) is stripped before the file is
stored, so no employer ever downloads it.

pypdf is imported where a PDF is parsed, not with this module: the serving process only reads
uploads and hands them to the checker, and pypdf would cost it about 20 MB of memory for nothing.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from portal.resolvers.errors import ErrorCode, PortalError

if TYPE_CHECKING:
    from pypdf import PdfReader

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


@dataclass(frozen=True, slots=True)
class CheckedPdf:
    """An accepted PDF: the bytes to store (active content stripped) and their facts."""

    facts: PdfFacts
    data: bytes
    # What was stripped ("javascript", "embedded files", ...); empty for a clean file.
    stripped: tuple[str, ...] = ()


# Pages of a result may not inflate past this many bytes in all (a decompression bomb).
DEFAULT_MAX_INFLATED_BYTES = 256 * 1024 * 1024
# Actions that run code, leave the document or send data somewhere.
_ACTIVE_ACTIONS = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/URI",
        "/SubmitForm",
        "/ImportData",
        "/GoToR",
        "/GoToE",
        "/Rendition",
        "/Movie",
        "/Sound",
        "/RichMediaExecute",
    }
)
_ACTIVE_ANNOTATIONS = frozenset(
    {"/FileAttachment", "/Screen", "/Movie", "/Sound", "/RichMedia", "/3D"}
)


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


def inspect_pdf(
    data: bytes, *, limit: int, max_inflated: int = DEFAULT_MAX_INFLATED_BYTES
) -> CheckedPdf:
    """The checked, cleaned PDF, or ``UploadRejected`` (blocking and memory-hungry on hostile
    input: call it through ``isolation.check_pdf``, in a process of its own)."""
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError

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
            inflated = 0
            for page in reader.pages:
                # Reading the page box and decoding its content streams proves every page is whole.
                _ = page.mediabox
                contents = page.get_contents()
                if contents is not None:
                    inflated += len(contents.get_data())
                    if inflated > max_inflated:
                        raise _inflates_too_much(max_inflated)
            found = active_content(reader)
    except UploadRejected:
        raise
    except LimitReachedError as error:  # one stream alone past pypdf's own bound
        raise _inflates_too_much(max_inflated) from error
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
    if found:
        data = without_active_content(reader)
    return CheckedPdf(
        facts=PdfFacts(
            page_count=page_count, size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest()
        ),
        data=data,
        stripped=tuple(sorted(found)),
    )


def _inflates_too_much(max_inflated: int) -> UploadRejected:
    return UploadRejected(
        ErrorCode.PDF_TOO_COMPLEX,
        f"The PDF's pages inflate to more than {max_inflated // (1024 * 1024)} MB; "
        "upload a simpler copy.",
    )


def _action_types(action: Any) -> set[str]:
    """The types of an action and of the actions it chains (``/Next``)."""
    from pypdf.generic import ArrayObject, DictionaryObject

    found: set[str] = set()
    pending = [action]
    while pending and len(found) < 64:
        item = pending.pop()
        item = item.get_object() if hasattr(item, "get_object") else item
        if isinstance(item, ArrayObject):
            pending.extend(item)
        elif isinstance(item, DictionaryObject):
            kind = item.get("/S")
            if kind is not None:
                found.add(str(kind))
            if "/Next" in item:
                pending.append(item["/Next"])
    return found


def active_content(reader: PdfReader) -> set[str]:
    """Which kinds of active content the document holds."""
    found: set[str] = set()
    root = reader.root_object
    names = root.get("/Names")
    names = names.get_object() if names is not None else {}
    if "/JavaScript" in names:
        found.add("javascript")
    if "/EmbeddedFiles" in names:
        found.add("embedded files")
    for holder in [root, *(page for page in reader.pages)]:
        for key in ("/OpenAction", "/AA"):
            if key in holder and _actions_in(holder[key]) & _ACTIVE_ACTIONS:
                found.add("actions")
    acroform = root.get("/AcroForm")
    if acroform is not None and "/XFA" in acroform.get_object():
        found.add("forms (XFA)")
    for page in reader.pages:
        for annotation in page.get("/Annots") or []:
            annotation = annotation.get_object()
            if annotation.get("/Subtype") in _ACTIVE_ANNOTATIONS:
                found.add("embedded files or multimedia")
            for key in ("/A", "/AA"):
                if key in annotation and _actions_in(annotation[key]) & _ACTIVE_ACTIONS:
                    found.add("actions")
    return found


def _actions_in(value: Any) -> set[str]:
    from pypdf.generic import DictionaryObject

    value = value.get_object() if hasattr(value, "get_object") else value
    if isinstance(value, DictionaryObject) and "/S" not in value:
        # An additional-actions dictionary: one action per trigger.
        kinds: set[str] = set()
        for trigger in value.values():
            kinds |= _action_types(trigger)
        return kinds
    return _action_types(value)


def without_active_content(reader: PdfReader) -> bytes:
    """The document rebuilt from its pages alone, each without active content.

    Page by page into a new file: document-level JavaScript, embedded files, open actions and
    XFA forms are left behind with the old catalog, and page-level actions and active
    annotations are cut before the pages are copied, so no object of theirs is carried over."""
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, NameObject

    for page in reader.pages:
        if "/AA" in page:
            del page["/AA"]
        annotations = page.get("/Annots")
        if annotations is None:
            continue
        kept = ArrayObject()
        for reference in annotations.get_object():
            annotation = reference.get_object()
            if annotation.get("/Subtype") in _ACTIVE_ANNOTATIONS:
                continue
            if "/A" in annotation and _actions_in(annotation["/A"]) & _ACTIVE_ACTIONS:
                continue
            if "/AA" in annotation:
                del annotation["/AA"]
            kept.append(reference)
        page[NameObject("/Annots")] = kept
    writer = PdfWriter()
    for page in reader.pages:
        writer.add_page(page)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()
