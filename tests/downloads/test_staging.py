"""Staging a download's documents from local storage: a few worker threads read, check and copy
them (one thread hop per lane, not two per document), and a failure names its document."""

from __future__ import annotations

import hashlib
import threading
import uuid
from pathlib import Path

import pytest

from portal.resolvers.downloads import DocumentIntegrityError, MergePart, stage_parts
from portal.resolvers.downloads.merge import STAGE_CONCURRENCY
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

    def get_blocking(self, key: str) -> bytes:
        self.threads.append(threading.get_ident())
        return super().get_blocking(key)


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


async def test_local_documents_are_staged_by_a_few_worker_threads(tmp_path: Path) -> None:
    # Given 20 stored documents
    storage = RecordingStorage(tmp_path / "documents")
    parts = await _parts(storage, 20)
    folder = tmp_path / "staged"
    folder.mkdir()

    # When they are staged
    staged = await stage_parts(storage=storage, parts=parts, folder=folder)

    # Then each was copied intact, in order
    for part, target in zip(parts, staged, strict=True):
        assert _sha256_of(target.path) == part.sha256
        assert target.title == part.title
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
