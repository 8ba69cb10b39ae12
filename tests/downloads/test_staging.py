"""Staging a download's documents from local storage: a few worker threads check them where they
lie (one thread hop per lane, not two per document; nothing copied), a failure names its
document, and the merge worker checks each file again as it opens it."""

from __future__ import annotations

import asyncio
import hashlib
import io
import threading
import uuid
from pathlib import Path

import pytest
from pypdf import PdfWriter

from portal.resolvers.downloads import DocumentIntegrityError, MergePart, stage_parts
from portal.resolvers.downloads.merge import STAGE_CONCURRENCY, PartChangedError, merge_files
from portal.storage import LocalDocumentStorage


class RecordingStorage(LocalDocumentStorage):
    """Local storage that notes which of its reads ran, and in which thread."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.async_reads = 0
        self.threads: list[int] = []

    async def get(self, key: str) -> bytes:
        self.async_reads += 1
        return await super().get(key)

    def checked_file(self, key: str) -> Path:
        self.threads.append(threading.get_ident())
        return super().checked_file(key)


def _sha256_of(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


async def _parts(storage: LocalDocumentStorage, count: int) -> list[MergePart]:
    parts = []
    for index in range(count):
        data = b"%PDF-1.4\n% part " + str(index).encode() + b"\n%%EOF\n"
        key = await storage.put(data)
        parts.append(
            MergePart(uuid.uuid4(), f"Part {index}", key, hashlib.sha256(data).hexdigest())
        )
    return parts


async def test_local_documents_are_checked_in_place_by_a_few_worker_threads(
    tmp_path: Path,
) -> None:
    # Given 20 stored documents
    storage = RecordingStorage(tmp_path / "documents")
    parts = await _parts(storage, 20)
    folder = tmp_path / "staged"
    folder.mkdir()

    # When they are staged
    staged = await stage_parts(storage=storage, parts=parts, folder=folder)

    # Then each is its stored file, checked, in order (none copied into the folder), with the
    # SHA-256 the merge worker checks it against again
    for part, target in zip(parts, staged, strict=True):
        assert target.path == str(storage.path_for(part.storage_key))
        assert _sha256_of(target.path) == part.sha256 == target.sha256
        assert target.title == part.title
    assert list(folder.iterdir()) == []
    # by at most STAGE_CONCURRENCY worker threads, none of them the event loop's
    assert storage.async_reads == 0
    assert len(storage.threads) == 20
    assert 1 <= len(set(storage.threads)) <= STAGE_CONCURRENCY
    assert threading.get_ident() not in storage.threads


async def test_a_document_missing_from_storage_fails_staging_and_is_named(tmp_path: Path) -> None:
    # Given stored documents and one whose bytes are gone
    storage = RecordingStorage(tmp_path / "documents")
    parts = await _parts(storage, 8)
    storage.path_for(parts[5].storage_key).unlink()
    folder = tmp_path / "staged"
    folder.mkdir()

    # When they are staged, then the missing one is named
    with pytest.raises(DocumentIntegrityError) as raised:
        await stage_parts(storage=storage, parts=parts, folder=folder)
    assert raised.value.document_id == parts[5].document_id
    assert raised.value.reason == "not in storage"


async def test_a_stored_file_changed_after_its_check_is_not_merged(tmp_path: Path) -> None:
    # Given a document checked where it lies
    storage = LocalDocumentStorage(tmp_path / "documents")
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    body = io.BytesIO()
    writer.write(body)
    key = await storage.put(body.getvalue())
    part = MergePart(uuid.uuid4(), "Checked", key, key)
    (staged,) = await stage_parts(storage=storage, parts=[part], folder=tmp_path)
    # whose file is then replaced by another valid PDF
    other = PdfWriter()
    other.add_blank_page(width=300, height=300)
    replacement = io.BytesIO()
    other.write(replacement)
    await asyncio.to_thread(Path(staged.path).write_bytes, replacement.getvalue())

    # When the merge worker opens it, then it refuses it and writes nothing
    output = tmp_path / "merged.pdf"
    with pytest.raises(PartChangedError):
        merge_files(str(output), [staged])
    assert not output.exists()
