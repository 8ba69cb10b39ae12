"""``postDocument`` over the GraphQL multipart request spec: a good PDF is recorded, stored,
announced by email (no PHI) and to live subscribers; every bad upload and every denied actor leaves
nothing behind."""

from __future__ import annotations

import hashlib
import json
import uuid

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.applications import Starlette

from portal.events import DocumentPosted, EventHub
from portal.models import Document as DocumentRow
from portal.models import OutboxMessage
from portal.models.enums import OutboxChannel
from portal.schema.documents import Document
from portal.schema.relay import global_id
from portal.schema.visits import Visit
from portal.settings import Settings
from portal.storage import LocalDocumentStorage
from tests.schema.ingestion.conftest import (
    corrupt_pdf,
    encrypted_pdf,
    make_pdf,
    post_upload,
    text_named_pdf,
)
from tests.support.graphql import GraphQLClient
from tests.support.world import SUBSCRIBED_REPORT_TYPE, World


def _input(world: World, name: str = "Work Status Report") -> dict[str, str]:
    return {
        "visitId": global_id(Visit, world.results.alice_injury.id),
        "reportType": SUBSCRIBED_REPORT_TYPE,
        "name": name,
    }


async def _documents_of_visit(db: AsyncSession, world: World) -> int:
    count = await db.scalar(
        sa.select(sa.func.count())
        .select_from(DocumentRow)
        .where(col(DocumentRow.visit_id) == world.results.alice_injury.id)
    )
    return int(count or 0)


async def _outbox(db: AsyncSession, channel: OutboxChannel, topic: str) -> list[OutboxMessage]:
    rows = await db.scalars(
        sa.select(OutboxMessage).where(
            col(OutboxMessage.channel) == channel, col(OutboxMessage.topic) == topic
        )
    )
    return list(rows)


async def _emails(db: AsyncSession) -> list[OutboxMessage]:
    return await _outbox(db, OutboxChannel.EMAIL, "new_results")


async def _posted_events(db: AsyncSession) -> list[OutboxMessage]:
    return await _outbox(db, OutboxChannel.WEBHOOK, "document.posted")


async def test_a_good_pdf_is_recorded_stored_emailed_and_published(
    staff_client: GraphQLClient,
    world: World,
    db: AsyncSession,
    storage: LocalDocumentStorage,
    email_subscribers: dict[str, str],
    app: Starlette,
    settings: Settings,
) -> None:
    # Given a fresh three-page PDF, contacts with various subscriptions, and a live listener
    pdf = make_pdf(3)
    sha256 = hashlib.sha256(pdf).hexdigest()
    assert not storage.path_for(sha256).exists()
    events: EventHub = app.state.events
    async with events.subscribe() as queue:
        # When staff upload it for Alice's injury visit
        response = await post_upload(
            staff_client.http, staff_client.token, _input(world, "Alice  Work Status"), pdf
        )
        payload = response.ok()["postDocument"]
        # Then the live subscriber hears of the committed document
        event = queue.get_nowait()
    assert payload["userErrors"] == []
    document = payload["document"]
    assert document["name"] == "Alice Work Status"
    assert document["pageCount"] == 3
    assert document["sizeBytes"] == len(pdf)
    assert document["sha256"] == sha256
    assert document["reportType"] == {"code": SUBSCRIBED_REPORT_TYPE}
    assert document["visit"]["id"] == global_id(Visit, world.results.alice_injury.id)
    # And the row takes account, employee and location from the visit, the bytes are stored
    row = await db.scalar(sa.select(DocumentRow).where(col(DocumentRow.sha256) == sha256))
    assert row is not None
    assert global_id(Document, row.id) == document["id"]
    visit = world.results.alice_injury
    assert (row.account_id, row.employee_id, row.location_id) == (
        visit.account_id,
        visit.employee_id,
        visit.location_id,
    )
    assert row.storage_key == sha256
    assert await storage.get(sha256) == pdf
    assert event == DocumentPosted(document_id=row.id, account_id=world.acme.id)
    # And exactly the subscribed contact who asked for email is told, without PHI
    emails = await _emails(db)
    assert [message.payload["to"] for message in emails] == [email_subscribers["emailed"]]
    message = emails[0].payload
    assert settings.public_url in message["text"]
    for phi in ("Alice", "Smith", "Work Status", "Injury"):
        assert phi not in message["subject"]
        assert phi not in message["text"]
    # And webhook subscribers get `document.posted`, ids only
    [webhook] = await _posted_events(db)
    assert webhook.account_id == world.acme.id
    assert webhook.payload == {
        "event": "document.posted",
        "data": {
            "documentId": str(row.id),
            "visitId": str(visit.id),
            "reportType": SUBSCRIBED_REPORT_TYPE,
            "postedAt": row.posted_at.isoformat(),
        },
    }


@pytest.mark.parametrize(
    ("content", "filename", "code"),
    [
        (corrupt_pdf(), "report.pdf", "PDF_CORRUPT"),
        (encrypted_pdf(), "report.pdf", "PDF_ENCRYPTED"),
        (text_named_pdf(), "report.pdf", "NOT_A_PDF"),
        (b"", "report.pdf", "EMPTY_FILE"),
    ],
    ids=["corrupt", "encrypted", "text-named-pdf", "empty"],
)
async def test_a_bad_file_is_refused_and_leaves_nothing_behind(
    staff_client: GraphQLClient,
    world: World,
    db: AsyncSession,
    storage: LocalDocumentStorage,
    email_subscribers: dict[str, str],
    content: bytes,
    filename: str,
    code: str,
) -> None:
    # Given the documents of the visit before the upload
    before = await _documents_of_visit(db, world)
    # When staff upload a file that is not an acceptable PDF
    response = await post_upload(
        staff_client.http, staff_client.token, _input(world), content, filename=filename
    )
    # Then a user error names the reason, and no row, email, webhook event or stored bytes remain
    payload = response.ok()["postDocument"]
    assert payload["document"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("file", code)]
    assert await _documents_of_visit(db, world) == before
    assert await _emails(db) == []
    assert await _posted_events(db) == []
    assert not storage.path_for(hashlib.sha256(content).hexdigest()).exists()


async def test_a_file_over_the_limit_is_refused_as_a_user_error(
    staff_client: GraphQLClient,
    world: World,
    db: AsyncSession,
    storage: LocalDocumentStorage,
    small_upload_limit: int,
) -> None:
    # Given a valid PDF a little larger than the configured limit
    pdf = make_pdf(40)
    assert small_upload_limit < len(pdf)
    before = await _documents_of_visit(db, world)
    # When staff upload it
    response = await post_upload(staff_client.http, staff_client.token, _input(world), pdf)
    # Then it is refused while read, with FILE_TOO_LARGE, and nothing is written
    payload = response.ok()["postDocument"]
    assert [e["code"] for e in payload["userErrors"]] == ["FILE_TOO_LARGE"]
    assert await _documents_of_visit(db, world) == before
    assert not storage.path_for(hashlib.sha256(pdf).hexdigest()).exists()


async def test_a_body_far_over_the_limit_is_cut_off_while_it_streams(
    staff_client: GraphQLClient, world: World, db: AsyncSession, small_upload_limit: int
) -> None:
    # Given a body far larger than the limit, sent in chunks without a Content-Length
    boundary = "portal-test-boundary"
    operations = json.dumps(
        {
            "query": "mutation($input: PostDocumentInput!) { postDocument(input: $input) "
            "{ userErrors { code } } }",
            "variables": {"input": {**_input(world), "file": None}},
        }
    )
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
        f'{operations}\r\n--{boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n'
        f'{{"0": ["variables.input.file"]}}\r\n--{boundary}\r\n'
        'Content-Disposition: form-data; name="0"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.4\n"
    ).encode()
    chunks_sent = 0

    async def body() -> object:
        nonlocal chunks_sent
        yield head
        for _ in range(200):  # 200 x 64 KiB = 12.5 MiB, far beyond 20 KB + overhead
            chunks_sent += 1
            yield b"0" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    before = await _documents_of_visit(db, world)
    # When staff send it
    response = await staff_client.http.post(
        "/graphql",
        content=body(),  # type: ignore[arg-type]
        headers={
            "Authorization": f"Bearer {staff_client.token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    # Then the server answers 413 FILE_TOO_LARGE and wrote nothing
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "FILE_TOO_LARGE"
    assert await _documents_of_visit(db, world) == before


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    staff_client: GraphQLClient, world: World, small_upload_limit: int
) -> None:
    # Given an upload whose Content-Length is beyond the limit and its overhead
    pdf = make_pdf(1) + b"%" * (small_upload_limit + 70_000)
    # When staff send it
    response = await post_upload(staff_client.http, staff_client.token, _input(world), pdf)
    # Then the answer is 413 without running the mutation
    assert response.status_code == 413
    assert response.body["errors"][0]["extensions"]["code"] == "FILE_TOO_LARGE"


@pytest.mark.parametrize("client_fixture", ["admin_client", "basic_client", "api_client"])
async def test_only_staff_may_post(
    request: pytest.FixtureRequest,
    http: httpx.AsyncClient,
    client_fixture: str,
    world: World,
    db: AsyncSession,
    storage: LocalDocumentStorage,
) -> None:
    # Given a signed-in caller who is not staff (``http`` is set up first, so the synchronous
    # client fixtures can be looked up by name)
    client: GraphQLClient = request.getfixturevalue(client_fixture)
    pdf = make_pdf(1)
    before = await _documents_of_visit(db, world)
    # When they upload a good PDF
    response = await post_upload(client.http, client.token, _input(world), pdf)
    # Then the mutation is forbidden and writes nothing
    assert response.status_code == 200
    assert "FORBIDDEN" in response.error_codes()
    assert response.data is None or response.data.get("postDocument") is None
    assert await _documents_of_visit(db, world) == before
    assert not storage.path_for(hashlib.sha256(pdf).hexdigest()).exists()


async def test_anonymous_uploads_are_refused_before_the_body_is_read(
    anonymous_client: GraphQLClient, world: World, db: AsyncSession
) -> None:
    # Given no Authorization header (what a cross-site form post looks like)
    before = await _documents_of_visit(db, world)
    # When an upload arrives
    response = await post_upload(anonymous_client.http, None, _input(world), make_pdf(1))
    # Then it is refused (CSRF guard) and nothing is written
    assert response.status_code == 400
    assert await _documents_of_visit(db, world) == before


async def test_anonymous_with_a_bad_token_is_unauthenticated(
    anonymous_client: GraphQLClient, world: World
) -> None:
    # When an upload carries a token that does not verify
    response = await post_upload(anonymous_client.http, "not-a-token", _input(world), b"%PDF-")
    # Then it is refused as unauthenticated
    assert response.status_code == 401
    assert "UNAUTHENTICATED" in response.error_codes()


async def test_only_post_document_accepts_files(staff_client: GraphQLClient, world: World) -> None:
    # When a multipart request carries another operation with a file attached
    response = await post_upload(
        staff_client.http,
        staff_client.token,
        _input(world),
        make_pdf(1),
        query="query Q($input: PostDocumentInput) { viewer { __typename } }",
    )
    # Then the request is refused, as JSON with a code
    assert response.status_code == 400
    assert response.error_codes() == ["BAD_USER_INPUT"]
    assert "postDocument" in response.errors[0]["message"]


@pytest.mark.parametrize(
    ("override", "field", "code"),
    [
        ({"reportType": "NO_SUCH_TYPE"}, "reportType", "NOT_FOUND"),
        ({"name": "   "}, "name", "BAD_USER_INPUT"),
        ({"visitId": "not-an-id"}, "visitId", "BAD_USER_INPUT"),
    ],
)
async def test_bad_input_is_a_user_error(
    staff_client: GraphQLClient,
    world: World,
    db: AsyncSession,
    override: dict[str, str],
    field: str,
    code: str,
) -> None:
    # When staff upload a good PDF with one bad input field
    before = await _documents_of_visit(db, world)
    response = await post_upload(
        staff_client.http, staff_client.token, {**_input(world), **override}, make_pdf(1)
    )
    # Then the field is named with a stable code and nothing is written
    errors = response.ok()["postDocument"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [(field, code)]
    assert await _documents_of_visit(db, world) == before


async def test_an_unknown_visit_is_not_found(staff_client: GraphQLClient, world: World) -> None:
    # When staff name a visit id that does not exist
    response = await post_upload(
        staff_client.http,
        staff_client.token,
        {**_input(world), "visitId": global_id(Visit, uuid.uuid4())},
        make_pdf(1),
    )
    # Then it is NOT_FOUND on visitId
    errors = response.ok()["postDocument"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [("visitId", "NOT_FOUND")]


async def test_the_same_file_twice_for_a_visit_is_refused(
    staff_client: GraphQLClient, world: World, db: AsyncSession
) -> None:
    # Given a document posted once
    pdf = make_pdf(1)
    first = await post_upload(staff_client.http, staff_client.token, _input(world), pdf)
    assert first.ok()["postDocument"]["userErrors"] == []
    before = await _documents_of_visit(db, world)
    # When the same bytes are posted again for the same visit
    again = await post_upload(staff_client.http, staff_client.token, _input(world), pdf)
    # Then it is a user error and no second row appears
    assert [e["code"] for e in again.ok()["postDocument"]["userErrors"]] == ["BAD_USER_INPUT"]
    assert await _documents_of_visit(db, world) == before


async def test_a_file_sent_inside_json_is_refused(
    staff_client: GraphQLClient, world: World, db: AsyncSession
) -> None:
    # Given the documents of the visit before
    before = await _documents_of_visit(db, world)
    # When staff send the "file" as a JSON string instead of a multipart file part
    response = await staff_client(
        "mutation($input: PostDocumentInput!) { postDocument(input: $input) "
        "{ document { id } userErrors { field code } } }",
        {"input": {**_input(world), "file": "%PDF-1.4 pretend"}},
    )
    # Then it is a user error on the file and nothing is written
    payload = response.ok()["postDocument"]
    assert payload["userErrors"] == [{"field": "file", "code": "EMPTY_FILE"}]
    assert await _documents_of_visit(db, world) == before
