"""The S3-compatible document storage against a real S3 server on loopback (moto's server,
installed with the test extras), beside the local-folder default."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.app import create_app
from portal.models.enums import StorageClass
from portal.schema.relay import global_id
from portal.schema.visits import Visit as VisitNode
from portal.settings import Settings
from portal.storage import (
    CorruptDocumentError,
    DocumentNotFoundError,
    S3DocumentStorage,
    document_storage,
)
from tests.schema.ingestion.conftest import make_pdf, post_upload
from tests.support.network import free_port
from tests.support.world import World

MOTO_SERVER = Path(sys.executable).parent / "moto_server"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """A local S3-compatible server for this module."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - the test extras' own server
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the S3 server stopped"
            assert time.monotonic() < deadline, "the S3 server did not start"
            try:
                httpx.get(endpoint, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def s3_settings(settings: Settings, s3_endpoint: str) -> Settings:
    bucket = f"portal-{uuid.uuid4().hex[:12]}"
    configured = settings.model_copy(
        update={
            "storage_backend": "s3",
            "s3_bucket": bucket,
            "s3_endpoint_url": s3_endpoint,
            "s3_access_key_id": "test-key",
            "s3_secret_access_key": SecretStr("test-secret"),
            "s3_cold_storage_class": "GLACIER_IR",
        }
    )
    storage = document_storage(configured)
    assert isinstance(storage, S3DocumentStorage)
    storage.client.create_bucket(Bucket=bucket)
    return configured


@pytest.fixture
def s3(s3_settings: Settings) -> S3DocumentStorage:
    storage = document_storage(s3_settings)
    assert isinstance(storage, S3DocumentStorage)
    return storage


async def test_documents_round_trip_content_addressed(s3: S3DocumentStorage) -> None:
    # given a PDF
    data = make_pdf(1)

    # when it is stored twice
    key = await s3.put(data)
    again = await s3.put(data)

    # then it is stored once under its SHA-256, and reads back intact
    assert key == again == hashlib.sha256(data).hexdigest()
    assert await s3.get(key) == data
    assert await s3.exists(key)
    listed = s3.client.list_objects_v2(Bucket=s3.bucket)["Contents"]
    assert [item["Key"] for item in listed] == [f"documents/{key}"]


async def test_each_upload_carries_its_sha256_which_the_store_keeps(s3: S3DocumentStorage) -> None:
    # given a stored document
    data = make_pdf(1)
    key = await s3.put(data)

    # then the store recorded the SHA-256 checksum sent with the upload (a store that verifies
    # checksums, as AWS S3 and MinIO do, refuses an upload whose bytes differ from it), and it
    # equals the document's content address
    head = s3.client.head_object(Bucket=s3.bucket, Key=f"documents/{key}", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == base64.b64encode(bytes.fromhex(key)).decode()
    assert head["ContentType"] == "application/pdf"


async def test_altered_or_missing_objects_are_reported(s3: S3DocumentStorage) -> None:
    # given a stored document whose object is then replaced by other bytes
    data = make_pdf(1)
    key = await s3.put(data)
    s3.client.put_object(Bucket=s3.bucket, Key=f"documents/{key}", Body=b"other bytes")

    # then reading it says it is corrupt, and an unknown key says it is missing
    with pytest.raises(CorruptDocumentError):
        await s3.get(key)
    unknown = hashlib.sha256(b"never stored").hexdigest()
    with pytest.raises(DocumentNotFoundError):
        await s3.get(unknown)
    assert not await s3.exists(unknown)
    assert await s3.storage_class(unknown) is None


async def test_archived_documents_move_to_the_cold_storage_class(s3: S3DocumentStorage) -> None:
    # given a stored document
    data = make_pdf(1)
    key = await s3.put(data)
    assert await s3.storage_class(key) is StorageClass.STANDARD

    # when it is moved to the cold class, twice
    assert await s3.move_to_cold(key) is StorageClass.COLD
    assert await s3.move_to_cold(key) is StorageClass.COLD

    # then the object is in that class and still reads back intact
    head = s3.client.head_object(Bucket=s3.bucket, Key=f"documents/{key}")
    assert head["StorageClass"] == "GLACIER_IR"
    assert await s3.get(key) == data


@pytest.fixture
async def s3_http(
    s3_settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(s3_settings, sessionmaker=sessionmaker)
    app.state.downloads.sessionmaker = sessionmaker
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client
    await app.state.engine.dispose()


async def test_a_posted_document_is_stored_in_the_bucket_and_downloads_from_it(
    s3_http: httpx.AsyncClient, s3: S3DocumentStorage, world: World, admin_token: str
) -> None:
    from portal.auth.tokens import SubjectKind

    tokens = s3_http._transport.app.state.tokens  # type: ignore[attr-defined]
    staff, _ = tokens.mint(kind=SubjectKind.STAFF, subject_id=world.staff.id)
    pdf = make_pdf(2)

    # when staff post a result through the API of an app configured for S3
    posted = await post_upload(
        s3_http,
        staff,
        {
            "visitId": str(global_id(VisitNode, world.results.alice_injury.id)),
            "reportType": "INJURY_ACTIVITY_STATUS_REPORT",
            "name": "Stored in S3",
        },
        pdf,
    )
    document: dict[str, Any] = posted.ok()["postDocument"]["document"]

    # then its bytes are an object of the bucket
    key = hashlib.sha256(pdf).hexdigest()
    assert document["sha256"] == key
    assert await s3.get(key) == pdf

    # and the merged download of it is read back from the bucket
    prepared = await s3_http.post(
        "/graphql",
        json={
            "query": "mutation($ids: [ID!]!) { prepareDocumentDownload(input: {documentIds: "
            "$ids}) { url userErrors { code } } }",
            "variables": {"ids": [document["id"]]},
        },
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    url = prepared.json()["data"]["prepareDocumentDownload"]["url"]
    response = await s3_http.get(httpx.URL(url).path)
    assert response.status_code == 200, response.text
    assert response.content.startswith(b"%PDF")
