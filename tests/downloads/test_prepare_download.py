"""prepareDocumentDownload: every id checked, nothing prepared on a miss, then a one-time URL."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from strawberry import relay

from portal.auth.tokens import SubjectKind, TokenService
from portal.models import AuditEvent
from portal.models.downloads import DownloadTicket
from portal.models.enums import AuditResult
from portal.resolvers.downloads import hash_token
from portal.schema.documents import Document
from portal.schema.relay import global_id
from tests.downloads.conftest import DownloadWorld
from tests.support.graphql import (
    GraphQLClient,
    GraphQLResponse,
    assert_forbidden,
    assert_unauthenticated,
)
from tests.support.world import World

PREPARE = """
mutation Prepare($ids: [ID!]!) {
  prepareDocumentDownload(input: {documentIds: $ids}) {
    url expiresAt documentCount userErrors { field code message }
  }
}
"""


def _gid(document_id: uuid.UUID) -> str:
    return str(global_id(Document, document_id))


async def _prepare(client: GraphQLClient, ids: list[uuid.UUID]) -> GraphQLResponse:
    return await client(PREPARE, {"ids": [_gid(i) for i in ids]})


async def _ticket_count(db: AsyncSession) -> int:
    count = await db.scalar(sa.select(sa.func.count()).select_from(DownloadTicket))
    return int(count or 0)


def _path(url: str) -> str:
    return urlsplit(url).path


async def test_an_admin_downloads_the_documents_in_the_order_asked(
    http: httpx.AsyncClient,
    db: AsyncSession,
    download_world: DownloadWorld,
    admin_client: GraphQLClient,
) -> None:
    # given three of the account's documents, asked for out of posting order
    first, second, third = download_world.acme
    asked = [second, third, first]

    # when the admin prepares a download and fetches its URL with their token
    payload = (await _prepare(admin_client, [d.id for d in asked])).ok()["prepareDocumentDownload"]
    response = await http.get(
        _path(payload["url"]), headers={"Authorization": f"Bearer {admin_client.token}"}
    )

    # then the URL works for a few minutes and holds the three documents
    assert payload["userErrors"] == []
    assert payload["documentCount"] == 3
    expires_at = datetime.fromisoformat(payload["expiresAt"])
    assert timedelta(minutes=4) < expires_at - datetime.now(UTC) <= timedelta(minutes=5)
    assert payload["url"].startswith("http://127.0.0.1:8000/downloads/")
    # and the PDF has their pages in that order, one bookmark each
    assert response.status_code == 200, response.text
    merged = PdfReader(io.BytesIO(response.content))
    assert len(merged.pages) == sum(d.page_count for d in asked)
    assert [item.title for item in merged.outline] == [d.title for d in asked]  # type: ignore[union-attr]
    assert asked[0].first_line in merged.pages[0].extract_text()
    assert asked[1].first_line in merged.pages[asked[0].page_count].extract_text()


async def test_a_document_asked_twice_is_included_once(
    db: AsyncSession, download_world: DownloadWorld, admin_client: GraphQLClient
) -> None:
    # given a selection naming one document twice
    first, second, _ = download_world.acme

    # when it is prepared
    payload = (await _prepare(admin_client, [first.id, second.id, first.id])).ok()[
        "prepareDocumentDownload"
    ]

    # then the download holds each document once, where it was first asked
    assert payload["documentCount"] == 2
    ticket = (await db.execute(sa.select(DownloadTicket))).scalar_one()
    assert ticket.object_ids == [first.id, second.id]


async def test_a_prepared_download_is_audited_with_its_ticket(
    db: AsyncSession, world: World, download_world: DownloadWorld, admin_client: GraphQLClient
) -> None:
    # given a selection naming one document twice
    first, second, _ = download_world.acme

    # when the admin prepares it in an operation of their naming
    payload = (
        await admin_client(
            PREPARE,
            {"ids": [_gid(i) for i in (second.id, first.id, second.id)]},
            operation_name="Prepare",
        )
    ).ok()["prepareDocumentDownload"]

    # then one audit entry records it: who, the documents in order, the ticket, the request
    ticket = (await db.execute(sa.select(DownloadTicket))).scalar_one()
    assert ticket.token_hash == hash_token(_path(payload["url"]).rsplit("/", 1)[1])
    (event,) = (
        await db.execute(
            sa.select(AuditEvent).where(col(AuditEvent.action) == "document.download_prepared")
        )
    ).scalars()
    assert event.result == AuditResult.ALLOWED
    assert event.actor_id == world.acme_admin.id
    assert event.account_id == world.acme.id
    assert event.object_ids == [str(second.id), str(first.id)]
    assert event.details == {"ticket_id": str(ticket.id)}
    assert event.operation_name == "Prepare"
    assert event.request_id


async def test_one_inaccessible_document_prepares_nothing_and_is_named(
    db: AsyncSession, world: World, download_world: DownloadWorld, admin_client: GraphQLClient
) -> None:
    # given the account's documents plus another tenant's and an id that names nothing
    unknown = uuid.uuid4()
    asked = [download_world.acme[0].id, download_world.globex.id, unknown]

    # when the admin prepares a download of them
    payload = (await _prepare(admin_client, asked)).ok()["prepareDocumentDownload"]

    # then nothing is prepared and each bad id gets the same error, naming it
    assert payload["url"] is None
    assert payload["expiresAt"] is None
    assert payload["userErrors"] == [
        {
            "field": "documentIds",
            "code": "NOT_FOUND",
            "message": f"No document with id {_gid(download_world.globex.id)}.",
        },
        {
            "field": "documentIds",
            "code": "NOT_FOUND",
            "message": f"No document with id {_gid(unknown)}.",
        },
    ]
    assert await _ticket_count(db) == 0
    # and the refusal is audited with the ids
    refused = (
        await db.execute(
            sa.select(AuditEvent).where(
                col(AuditEvent.action) == "document.download_prepare_refused"
            )
        )
    ).scalar_one()
    assert refused.object_ids == [str(download_world.globex.id), str(unknown)]
    assert refused.actor_id == world.acme_admin.id


async def test_more_than_200_documents_are_refused(
    db: AsyncSession, admin_client: GraphQLClient
) -> None:
    # when a download of 201 documents is asked for
    payload = (await _prepare(admin_client, [uuid.uuid4() for _ in range(201)])).ok()[
        "prepareDocumentDownload"
    ]

    # then it is refused with its own code and nothing is prepared
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        ("documentIds", "TOO_MANY_DOCUMENTS")
    ]
    assert "200" in payload["userErrors"][0]["message"]
    assert await _ticket_count(db) == 0


async def test_an_empty_or_malformed_selection_is_bad_input(
    db: AsyncSession, world: World, admin_client: GraphQLClient
) -> None:
    # when nothing, a malformed id, and another type's id are asked for
    empty = (await admin_client(PREPARE, {"ids": []})).ok()["prepareDocumentDownload"]
    malformed = (await admin_client(PREPARE, {"ids": ["nope"]})).ok()["prepareDocumentDownload"]
    employee_id = str(relay.GlobalID("Employee", str(uuid.uuid4())))
    wrong = (await admin_client(PREPARE, {"ids": [employee_id]})).ok()["prepareDocumentDownload"]

    # then each is a user error on documentIds and nothing is prepared
    for payload in (empty, malformed, wrong):
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            ("documentIds", "BAD_USER_INPUT")
        ]
    assert await _ticket_count(db) == 0


async def test_people_and_clients_who_may_list_documents_may_prepare_their_downloads(
    world: World,
    basic_client: GraphQLClient,
    api_client: GraphQLClient,
    staff_client: GraphQLClient,
    tpa_client: GraphQLClient,
) -> None:
    # when each allowed actor prepares a document they can see
    answers = {
        "basic (subscribed)": await _prepare(basic_client, [world.results.subscribed.id]),
        "api client (documents:read)": await _prepare(api_client, [world.results.other_type.id]),
        "staff": await _prepare(staff_client, [world.results.globex.id]),
        "tpa (client's document)": await _prepare(tpa_client, [world.results.contoso.id]),
    }

    # then each gets a URL
    for actor, response in answers.items():
        payload = response.ok()["prepareDocumentDownload"]
        assert payload["userErrors"] == [], actor
        assert payload["documentCount"] == 1, actor


async def test_a_basic_user_cannot_prepare_a_document_outside_their_subscriptions(
    db: AsyncSession, world: World, basic_client: GraphQLClient
) -> None:
    # when a Basic user asks for an account document of a report type they do not subscribe to
    payload = (
        await _prepare(basic_client, [world.results.subscribed.id, world.results.other_type.id])
    ).ok()["prepareDocumentDownload"]

    # then that id is named and nothing is prepared
    assert [e["message"] for e in payload["userErrors"]] == [
        f"No document with id {_gid(world.results.other_type.id)}."
    ]
    assert await _ticket_count(db) == 0


async def test_callers_without_document_access_are_denied_and_nothing_is_written(
    db: AsyncSession,
    http: httpx.AsyncClient,
    tokens: TokenService,
    world: World,
    anonymous_client: GraphQLClient,
) -> None:
    # given an API client token without documents:read
    token, _ = tokens.mint(
        kind=SubjectKind.CLIENT, subject_id=world.acme_client.id, scopes=frozenset({"account:read"})
    )
    account_only = GraphQLClient(http, token)

    # when it and an anonymous caller try to prepare a download
    denied = await _prepare(account_only, [world.results.subscribed.id])
    anonymous = await _prepare(anonymous_client, [world.results.subscribed.id])

    # then they are refused and no ticket exists
    assert_forbidden(denied, ["prepareDocumentDownload"])
    assert_unauthenticated(anonymous)
    assert await _ticket_count(db) == 0
