"""Document storage: PDFs stored content-addressed by their SHA-256.

The storage key of a document is the lowercase hex SHA-256 of its bytes, so storing the same bytes
twice stores them once, and a key can never name a path outside the storage root.

Two backends: a local folder (the default; one host) and an S3-compatible object store
(``PORTAL_STORAGE_BACKEND=s3``; several hosts share it), where the store itself checks each upload
against its SHA-256 checksum.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from portal.models.enums import StorageClass
from portal.settings import Settings

_KEY_PATTERN = re.compile(r"[0-9a-f]{64}")


class InvalidStorageKeyError(ValueError):
    """The key is not a lowercase hex SHA-256 (and so names no document)."""


class DocumentNotFoundError(LookupError):
    """No document is stored under this key."""


class CorruptDocumentError(RuntimeError):
    """The stored bytes no longer hash to their key."""


@runtime_checkable
class DocumentStorage(Protocol):
    """Where document bytes live. Keys are opaque to callers and returned by ``put``."""

    async def put(self, data: bytes) -> str:
        """Store ``data`` and return its storage key (idempotent for the same bytes)."""
        ...

    async def get(self, key: str) -> bytes:
        """The bytes stored under ``key``; ``DocumentNotFoundError`` when there are none."""
        ...

    async def exists(self, key: str) -> bool:
        """Whether bytes are stored under ``key``."""
        ...


@runtime_checkable
class TieredDocumentStorage(DocumentStorage, Protocol):
    """A backend with a colder, cheaper storage class for archived documents (optional).

    Moving bytes never changes their key, and ``get`` reads them from whichever class holds them.
    """

    async def storage_class(self, key: str) -> StorageClass | None:
        """The class holding ``key`` (STANDARD when in both), None when it is not stored."""
        ...

    async def move_to_cold(self, key: str) -> StorageClass:
        """Move the bytes of ``key`` to the COLD class (idempotent); returns their class after."""
        ...


@runtime_checkable
class LocalFiles(Protocol):
    """A backend whose documents are files of this host (optional): a caller already off the
    event loop checks many documents in one worker thread, and another process of this host (a
    merge worker) opens a document where it lies instead of a copy of it."""

    def checked_file(self, key: str) -> Path:
        """The file holding the bytes of ``key``, once they were checked against the key, in the
        calling thread (blocking: never call it on the event loop). ``DocumentNotFoundError``
        when no file holds them, ``CorruptDocumentError`` when its bytes differ."""
        ...


def storage_key_for(data: bytes) -> str:
    """The content address of ``data``: its lowercase hex SHA-256."""
    return hashlib.sha256(data).hexdigest()


def validate_key(key: str) -> str:
    if not isinstance(key, str) or _KEY_PATTERN.fullmatch(key) is None:
        raise InvalidStorageKeyError("a storage key is a lowercase hex SHA-256 (64 characters)")
    return key


class LocalDocumentStorage:
    """Documents as files under ``root``: ``<root>/ab/cd/<sha256>.pdf``.

    Writes are atomic (a temporary file in the target folder, then ``os.replace``), so a reader
    never sees half a file; files are created readable by the owner only (they hold PHI). All file
    I/O runs in a worker thread, off the event loop.
    """

    def __init__(
        self, root: str | os.PathLike[str], *, cold_root: str | os.PathLike[str] | None = None
    ) -> None:
        self.root = Path(root)
        # With a cold folder the backend is tiered: ``portal archive`` moves archived bytes there.
        self.cold_root = Path(cold_root) if cold_root is not None else None

    def __repr__(self) -> str:
        return f"LocalDocumentStorage(root={str(self.root)!r}, cold_root={self.cold_root!r})"

    @property
    def has_cold_tier(self) -> bool:
        return self.cold_root is not None

    def path_for(self, key: str) -> Path:
        """The file a key is stored in (the key is validated first)."""
        validate_key(key)
        return self.root / key[0:2] / key[2:4] / f"{key}.pdf"

    def cold_path_for(self, key: str) -> Path | None:
        """The file a key occupies in the cold folder (None without one)."""
        validate_key(key)
        if self.cold_root is None:
            return None
        return self.cold_root / key[0:2] / key[2:4] / f"{key}.pdf"

    async def put(self, data: bytes) -> str:
        return await asyncio.to_thread(self._put, bytes(data))

    async def get(self, key: str) -> bytes:
        path = self.path_for(key)
        cold = self.cold_path_for(key)
        return await asyncio.to_thread(self._get_any, key, path, cold)

    def checked_file(self, key: str) -> Path:
        path = self.path_for(key)
        cold = self.cold_path_for(key)
        for candidate in (path, cold):
            if candidate is None:
                continue
            try:
                with candidate.open("rb") as handle:
                    # Read in chunks: a large document is never held in memory whole.
                    digest = hashlib.file_digest(handle, "sha256").hexdigest()
            except FileNotFoundError:
                continue
            if digest != key:
                raise CorruptDocumentError(key)
            return candidate
        raise DocumentNotFoundError(key)

    async def exists(self, key: str) -> bool:
        return await self.storage_class(key) is not None

    async def storage_class(self, key: str) -> StorageClass | None:
        path = self.path_for(key)
        cold = self.cold_path_for(key)
        return await asyncio.to_thread(self._storage_class, path, cold)

    async def move_to_cold(self, key: str) -> StorageClass:
        path = self.path_for(key)
        cold = self.cold_path_for(key)
        if cold is None:
            raise NotImplementedError("this storage has no cold folder")
        return await asyncio.to_thread(self._move_to_cold, key, path, cold)

    @staticmethod
    def _storage_class(path: Path, cold: Path | None) -> StorageClass | None:
        if path.is_file():
            return StorageClass.STANDARD
        if cold is not None and cold.is_file():
            return StorageClass.COLD
        return None

    def _move_to_cold(self, key: str, path: Path, cold: Path) -> StorageClass:
        if not path.is_file():
            if cold.is_file():
                return StorageClass.COLD  # moved already
            raise DocumentNotFoundError(key)
        if not cold.is_file():
            # Copy, check and fsync under a temporary name, then rename: a crash leaves either
            # the old copy or both, never a half-written cold file.
            cold.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(
                dir=cold.parent, prefix=f".{key}.", suffix=".tmp"
            )
            try:
                with os.fdopen(descriptor, "wb") as target, path.open("rb") as source:
                    shutil.copyfileobj(source, target)
                    target.flush()
                    os.fsync(target.fileno())
                if storage_key_for(Path(temporary).read_bytes()) != key:
                    raise CorruptDocumentError(key)
                os.replace(temporary, cold)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        path.unlink(missing_ok=True)
        return StorageClass.COLD

    @classmethod
    def _get_any(cls, key: str, path: Path, cold: Path | None) -> bytes:
        try:
            return cls._get(key, path)
        except DocumentNotFoundError:
            if cold is None:
                raise
        return cls._get(key, cold)

    def _put(self, data: bytes) -> str:
        key = storage_key_for(data)
        path = self.path_for(key)
        try:
            if path.stat().st_size == len(data):
                return key  # content-addressed: the same bytes are already there
        except FileNotFoundError:
            pass
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{key}.", suffix=".tmp")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return key

    @staticmethod
    def _get(key: str, path: Path) -> bytes:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise DocumentNotFoundError(key) from None
        if storage_key_for(data) != key:
            raise CorruptDocumentError(key)
        return data


class S3DocumentStorage:
    """Documents as objects ``<prefix><sha256>`` of one bucket of an S3-compatible store.

    Uploads carry their SHA-256 checksum, which the store verifies before accepting them, and
    downloads are checked again against the key. With a cold storage class (``GLACIER_IR``,
    ``STANDARD_IA``, ...), archived bytes move there by an in-place copy. boto3's client is
    synchronous and thread-safe: every call runs in a worker thread, off the event loop."""

    def __init__(
        self,
        *,
        client: Any,
        bucket: str,
        prefix: str = "documents/",
        cold_storage_class: str | None = None,
        server_side_encryption: str | None = None,
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.prefix = prefix
        self.cold_storage_class = cold_storage_class
        self.server_side_encryption = server_side_encryption

    def __repr__(self) -> str:
        return f"S3DocumentStorage(bucket={self.bucket!r}, prefix={self.prefix!r})"

    @property
    def has_cold_tier(self) -> bool:
        return self.cold_storage_class is not None

    def object_key(self, key: str) -> str:
        return f"{self.prefix}{validate_key(key)}"

    async def put(self, data: bytes) -> str:
        return await asyncio.to_thread(self._put, bytes(data))

    async def get(self, key: str) -> bytes:
        return await asyncio.to_thread(self._get, key)

    async def exists(self, key: str) -> bool:
        return await self.storage_class(key) is not None

    async def storage_class(self, key: str) -> StorageClass | None:
        head = await asyncio.to_thread(self._head, key)
        if head is None:
            return None
        stored = head.get("StorageClass") or "STANDARD"
        if self.cold_storage_class is not None and stored == self.cold_storage_class:
            return StorageClass.COLD
        return StorageClass.STANDARD

    async def move_to_cold(self, key: str) -> StorageClass:
        if self.cold_storage_class is None:
            raise NotImplementedError("this storage has no cold storage class")
        current = await self.storage_class(key)
        if current is None:
            raise DocumentNotFoundError(key)
        if current is StorageClass.COLD:
            return current
        await asyncio.to_thread(self._copy_to_cold, key)
        return StorageClass.COLD

    def _is_missing(self, error: Exception) -> bool:
        response = getattr(error, "response", None) or {}
        code = str(response.get("Error", {}).get("Code", ""))
        return code in {"404", "NoSuchKey", "NotFound"}

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            head: dict[str, Any] = self.client.head_object(
                Bucket=self.bucket, Key=self.object_key(key)
            )
        except Exception as error:
            if self._is_missing(error):
                return None
            raise
        return head

    def _put(self, data: bytes) -> str:
        key = storage_key_for(data)
        if self._head(key) is not None:
            return key  # content-addressed: the same bytes are already there
        extra: dict[str, Any] = {}
        if self.server_side_encryption:
            extra["ServerSideEncryption"] = self.server_side_encryption
        self.client.put_object(
            Bucket=self.bucket,
            Key=self.object_key(key),
            Body=data,
            ContentType="application/pdf",
            # The store recomputes both and refuses an upload that differs (AWS S3, MinIO, Ceph);
            # it keeps the SHA-256, which a later HEAD or GET with checksums enabled returns.
            ContentMD5=base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode(),
            ChecksumAlgorithm="SHA256",
            ChecksumSHA256=base64.b64encode(bytes.fromhex(key)).decode("ascii"),
            **extra,
        )
        return key

    def _get(self, key: str) -> bytes:
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=self.object_key(key), ChecksumMode="ENABLED"
            )
        except Exception as error:
            if self._is_missing(error):
                raise DocumentNotFoundError(key) from None
            raise
        with contextlib.closing(response["Body"]) as body:
            data: bytes = body.read()
        if storage_key_for(data) != key:
            raise CorruptDocumentError(key)
        return data

    def _copy_to_cold(self, key: str) -> None:
        extra: dict[str, Any] = {}
        if self.server_side_encryption:
            extra["ServerSideEncryption"] = self.server_side_encryption
        self.client.copy_object(
            Bucket=self.bucket,
            Key=self.object_key(key),
            CopySource={"Bucket": self.bucket, "Key": self.object_key(key)},
            StorageClass=self.cold_storage_class,
            MetadataDirective="COPY",
            **extra,
        )


@functools.lru_cache(maxsize=8)
def _s3_client(
    endpoint_url: str | None,
    region: str,
    access_key_id: str | None,
    secret_access_key: str | None,
    timeout: float,
) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        config=Config(
            connect_timeout=timeout,
            read_timeout=max(timeout, 30.0),
            retries={"max_attempts": 5, "mode": "standard"},
            # Path-style works with every S3-compatible server (MinIO, Ceph, moto, ...).
            s3={"addressing_style": "path"} if endpoint_url else {},
        ),
    )


def document_storage(settings: Settings) -> DocumentStorage:
    """The configured document store: a local folder (with a cold folder for archived bytes),
    or a bucket of an S3-compatible store."""
    if settings.storage_backend == "s3":
        if not settings.s3_bucket:
            raise ValueError("PORTAL_STORAGE_BACKEND=s3 needs PORTAL_S3_BUCKET")
        secret = settings.s3_secret_access_key
        client = _s3_client(
            settings.s3_endpoint_url,
            settings.s3_region,
            settings.s3_access_key_id,
            secret.get_secret_value() if secret is not None else None,
            settings.s3_timeout_seconds,
        )
        return S3DocumentStorage(
            client=client,
            bucket=settings.s3_bucket,
            prefix=settings.s3_prefix,
            cold_storage_class=settings.s3_cold_storage_class,
            server_side_encryption=settings.s3_server_side_encryption,
        )
    data_dir = settings.resolved_data_dir
    return LocalDocumentStorage(root=data_dir / "documents", cold_root=data_dir / "documents-cold")
