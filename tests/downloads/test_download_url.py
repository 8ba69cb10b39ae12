"""GET /downloads/{token}: the merged PDF, once, to its preparer, with every refusal audited."""

from __future__ import annotations

import io
import re
import uuid
from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from pypdf.generic import Destination
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal, PrincipalKind
from portal.models import AuditEvent, Document
from portal.models.downloads import DownloadTicket
from portal.resolvers.downloads import issue_ticket
from portal.storage import LocalDocumentStorage
from tests.downloads.conftest import DownloadWorld, StoredDocument
from tests.support.graphql import GraphQLClient
from tests.support.world import World


def _user(user_id: uuid.UUID) -> Principal:
    return Principal(kind=PrincipalKind.USER, id=user_id)


async def _prepare(db: AsyncSession, owner: Principal, documents: list[StoredDocument]) -> str:
    issued = await issue_ticket(
        session=db,
        principal=owner,
        object_ids=[document.id for document in documents],
        ttl=timedelta(minutes=5),
    )
    await db.commit()
    return f"/downloads/{issued.token}"


async def _get(http: httpx.AsyncClient, url: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return await http.get(url, headers=headers)


async def _audit(db: AsyncSession, action: str) -> list[AuditEvent]:
    rows = await db.execute(
        sa.select(AuditEvent)
        .where(col(AuditEvent.action) == action)
        .order_by(col(AuditEvent.occurred_at))
    )
    return list(rows.scalars())


def _error_code(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


async def test_the_merged_pdf_holds_the_documents_in_the_order_asked_with_one_bookmark_each(
    http: httpx.AsyncClient,
    db: AsyncSession,
    world: World,
    download_world: DownloadWorld,
    admin_client: GraphQLClient,
) -> None:
    # given a download of three documents prepared in an order that is not the posting order
    first, second, third = download_world.acme
    asked = [third, first, second]
    url = await _prepare(db, _user(world.acme_admin.id), asked)

    # when the preparer fetches it with their own access token
    response = await _get(http, url, admin_client.token)

    # then it is one PDF attachment, never cached
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert re.fullmatch(
        r'attachment; filename="results-\d{8}-\d{4}\.pdf"',
        response.headers["content-disposition"],
    )
    assert response.headers["cache-control"] == "no-store"
    merged = PdfReader(io.BytesIO(response.content))
    # with every page of every document, in the order asked
    assert len(merged.pages) == sum(document.page_count for document in asked)
    expected_lines = [
        f"{document.first_line} page {n}"
        for document in asked
        for n in range(1, document.page_count + 1)
    ]
    for line, page in zip(expected_lines, merged.pages, strict=True):
        assert line in page.extract_text()
    # and one top-level bookmark per document, "Last, First - report type - date", at its start
    outline = [item for item in merged.outline if isinstance(item, Destination)]
    assert len(outline) == len(merged.outline)  # top-level only: no nested lists
    assert [item.title for item in outline] == [document.title for document in asked]
    assert [merged.get_destination_page_number(item) for item in outline] == [0, 3, 5]
    # and the download is audited with the document ids, in order
    (event,) = await _audit(db, "document.downloaded")
    assert event.object_ids == [str(document.id) for document in asked]
    assert event.account_id == world.acme.id


async def test_a_used_download_url_is_refused_the_second_time(
    http: httpx.AsyncClient,
    db: AsyncSession,
    world: World,
    download_world: DownloadWorld,
    admin_client: GraphQLClient,
) -> None:
    # given a download that was fetched once
    url = await _prepare(db, _user(world.acme_admin.id), download_world.acme[:1])
    assert (await _get(http, url, admin_client.token)).status_code == 200

    # when it is fetched again
    response = await _get(http, url, admin_client.token)

    # then it is gone, with a code saying why, and the refusal is audited
    assert response.status_code == 410
    assert _error_code(response) == "DOWNLOAD_ALREADY_USED"
    assert "application/pdf" not in response.headers["content-type"]
    (refusal,) = await _audit(db, "document.download_refused")
    assert refusal.details == {"reason": "USED"}
    assert refusal.result == "DENIED"


async def test_an_expired_download_url_is_refused(
    http: httpx.AsyncClient,
    db: AsyncSession,
    world: World,
    download_world: DownloadWorld,
    admin_client: GraphQLClient,
) -> None:
    # given a download prepared longer ago than its lifetime
    url = await _prepare(db, _user(world.acme_admin.id), download_world.acme[:1])
    await db.execute(
        sa.update(DownloadTicket).values(
            created_at=sa.func.now() - timedelta(minutes=10),
            expires_at=sa.func.now() - timedelta(minutes=5),
        )
    )
    await db.commit()

    # when the preparer fetches it
    response = await _get(http, url, admin_client.token)

    # then it is gone as expired
    assert response.status_code == 410
    assert _error_code(response) == "DOWNLOAD_EXPIRED"
    (refusal,) = await _audit(db, "document.download_refused")
    assert refusal.details == {"reason": "EXPIRED"}


async def test_someone_elses_download_url_is_refused_and_stays_usable_for_its_owner(
    http: httpx.AsyncClient,
    db: AsyncSession,
    world: World,
    download_world: DownloadWorld,
    admin_client: GraphQLClient,
    basic_client: GraphQLClient,
    globex_client: GraphQLClient,
) -> None:
    # given the Acme admin's download URL
    url = await _prepare(db, _user(world.acme_admin.id), download_world.acme[:1])

    # when a colleague and another tenant's admin present it with their own tokens
    colleague = await _get(http, url, basic_client.token)
    stranger = await _get(http, url, globex_client.token)

    # then both are refused, audited, and the owner's URL still works once
    assert (colleague.status_code, _error_code(colleague)) == (403, "FORBIDDEN")
    assert (stranger.status_code, _error_code(stranger)) == (403, "FORBIDDEN")
    refusals = await _audit(db, "document.download_refused")
    assert [r.details["reason"] for r in refusals] == ["FOREIGN", "FOREIGN"]
    assert {r.actor_id for r in refusals} == {world.acme_basic.id, world.globex_admin.id}
    assert (await _get(http, url, admin_client.token)).status_code == 200


async def test_a_plain_link_downloads_without_an_authorization_header(
    http: httpx.AsyncClient,
    db: AsyncSession,
    world: World,
    download_world: DownloadWorld,
) -> None:
    # given a prepared download
    url = await _prepare(db, _user(world.acme_admin.id), download_world.acme[:1])

    # when it is opened as a plain link (a new tab, an <a href>): no Authorization header
    response = await _get(http, url, None)

    # then the URL alone is the credential: one PDF attachment, never cached, audited as the
    # preparer's download
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["cache-control"] == "no-store"
    assert PdfReader(io.BytesIO(response.content)).pages
    (event,) = await _audit(db, "document.downloaded")
    assert event.actor_id == world.acme_admin.id
    # and only once
    assert (await _get(http, url, None)).status_code == 410


async def test_a_forged_bearer_header_is_refused_and_leaves_the_url_usable(
    http: httpx.AsyncClient,
    db: AsyncSession,
    world: World,
    download_world: DownloadWorld,
) -> None:
    # given a prepared download
    url = await _prepare(db, _user(world.acme_admin.id), download_world.acme[:1])

    # when it is fetched with a bearer header that is not a valid token
    forged = await _get(http, url, "not-a-jwt")

    # then it is unauthenticated, and the URL is not spent
    assert (forged.status_code, _error_code(forged)) == (401, "UNAUTHENTICATED")
    assert (await _get(http, url, None)).status_code == 200


async def test_an_unknown_download_url_is_not_found(
    http: httpx.AsyncClient, db: AsyncSession, admin_client: GraphQLClient
) -> None:
    # when a made-up download URL is fetched
    response = await _get(http, "/downloads/made-up-token", admin_client.token)

    # then it does not exist
    assert (response.status_code, _error_code(response)) == (404, "NOT_FOUND")
    (refusal,) = await _audit(db, "document.download_refused")
    assert refusal.details == {"reason": "UNKNOWN"}


async def test_a_document_retracted_after_preparing_is_not_downloaded(
    http: httpx.AsyncClient,
    db: AsyncSession,
    world: World,
    download_world: DownloadWorld,
    admin_client: GraphQLClient,
) -> None:
    # given a prepared download, then one of its documents is retracted
    retracted = download_world.acme[1]
    url = await _prepare(db, _user(world.acme_admin.id), download_world.acme)
    await db.execute(
        sa.update(Document)
        .where(col(Document.id) == retracted.id)
        .values(
            retracted_at=sa.func.now(),
            retraction_reason="sent to the wrong employer",
            retracted_by_staff_id=world.staff.id,
        )
    )
    await db.commit()

    # when the preparer fetches the download
    response = await _get(http, url, admin_client.token)

    # then nothing is served and the refusal names the document in the audit
    assert (response.status_code, _error_code(response)) == (403, "FORBIDDEN")
    (refusal,) = await _audit(db, "document.download_refused")
    assert str(retracted.id) in refusal.object_ids
    assert await _audit(db, "document.downloaded") == []


@pytest.mark.parametrize("tampering", ["stored bytes", "recorded hash"])
async def test_a_document_that_fails_its_integrity_check_is_never_served(
    tampering: str,
    http: httpx.AsyncClient,
    db: AsyncSession,
    world: World,
    storage: LocalDocumentStorage,
    download_world: DownloadWorld,
    admin_client: GraphQLClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given a prepared download whose second document was altered after posting
    altered = download_world.acme[1]
    url = await _prepare(db, _user(world.acme_admin.id), download_world.acme)
    if tampering == "stored bytes":
        key = (
            await db.execute(
                sa.select(col(Document.storage_key)).where(col(Document.id) == altered.id)
            )
        ).scalar_one()
        path = storage.path_for(key)
        path.write_bytes(path.read_bytes() + b"\n% appended after posting\n")
    else:
        await db.execute(
            sa.update(Document).where(col(Document.id) == altered.id).values(sha256="0" * 64)
        )
        await db.commit()

    # when the preparer fetches it
    response = await _get(http, url, admin_client.token)

    # then no PDF leaves, the error is logged and the refusal audited with the document
    assert (response.status_code, _error_code(response)) == (500, "INTERNAL")
    assert not response.content.startswith(b"%PDF")
    assert any("integrity check failed" in record.getMessage() for record in caplog.records)
    (refusal,) = await _audit(db, "document.download_refused")
    assert refusal.details == {"reason": "INTEGRITY_CHECK_FAILED"}
    assert refusal.object_ids == [str(altered.id)]


async def test_a_download_spanning_accounts_is_audited_in_each_account(
    http: httpx.AsyncClient,
    db: AsyncSession,
    world: World,
    download_world: DownloadWorld,
    staff_client: GraphQLClient,
) -> None:
    # given staff prepared one download of an Acme, a Globex and another Acme document
    asked = [download_world.acme[0], download_world.globex, download_world.acme[2]]
    url = await _prepare(db, Principal(kind=PrincipalKind.STAFF, id=world.staff.id), asked)

    # when staff fetch it
    response = await _get(http, url, staff_client.token)

    # then each account's audit trail shows the download of its own documents
    assert response.status_code == 200, response.text
    events = {
        event.account_id: event.object_ids for event in await _audit(db, "document.downloaded")
    }
    assert events == {
        world.acme.id: [str(download_world.acme[0].id), str(download_world.acme[2].id)],
        world.globex.id: [str(download_world.globex.id)],
    }
