"""The presigned download URL: bound to the preparer's sign-in session, spent only when delivered,
merged in a worker process with its first bytes sent early."""

from __future__ import annotations

import asyncio
import io
import threading
import uuid
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlmodel import col
from starlette.applications import Starlette

from portal.auth.principal import Principal, PrincipalKind
from portal.auth.tokens import SubjectKind, TokenService
from portal.models import AuditEvent, Document, PortalUser
from portal.models.downloads import DownloadTicket
from portal.models.enums import UserStatus
from portal.models.session import RequestSession
from portal.models.sessions import AuthSession, SessionSubject
from portal.resolvers.downloads import PDF_PREFIX, MergePool, StagedPart, hash_token, issue_ticket
from portal.storage import DocumentStorage
from tests.downloads.conftest import DownloadWorld, StoredDocument
from tests.support.world import World


async def _sign_in_session(db: AsyncSession, user_id: uuid.UUID) -> uuid.UUID:
    auth_session = AuthSession(
        subject_kind=SessionSubject.USER,
        user_id=user_id,
        absolute_expires_at=datetime.now(UTC) + timedelta(hours=12),
    )
    db.add(auth_session)
    await db.flush()
    return auth_session.id


async def _prepare(
    db: AsyncSession, owner: Principal, documents: list[StoredDocument]
) -> tuple[str, str]:
    issued = await issue_ticket(
        session=db,
        principal=owner,
        object_ids=[document.id for document in documents],
        ttl=timedelta(minutes=5),
    )
    await db.commit()
    return f"/downloads/{issued.token}", issued.token


def _code(response: httpx.Response) -> str:
    code: str = response.json()["errors"][0]["extensions"]["code"]
    return code


async def _ticket(db: AsyncSession, token: str) -> DownloadTicket:
    await db.commit()
    return (
        await db.execute(
            sa.select(DownloadTicket)
            .where(col(DownloadTicket.token_hash) == hash_token(token))
            .execution_options(populate_existing=True)
        )
    ).scalar_one()


async def test_the_url_dies_with_the_sign_in_session_that_prepared_it(
    http: httpx.AsyncClient, db: AsyncSession, world: World, download_world: DownloadWorld
) -> None:
    # given a download prepared in a sign-in session, which then ends (sign-out)
    session_id = await _sign_in_session(db, world.acme_admin.id)
    owner = Principal(kind=PrincipalKind.USER, id=world.acme_admin.id, session_id=session_id)
    url, token = await _prepare(db, owner, download_world.acme[:1])
    await db.execute(
        sa.update(AuthSession)
        .where(col(AuthSession.id) == session_id)
        .values(revoked_at=sa.func.now(), revoked_reason="LOGOUT")
    )
    await db.commit()

    # when the link is opened
    response = await http.get(url)

    # then it is gone, saying why, audited, and not spent
    assert (response.status_code, _code(response)) == (410, "DOWNLOAD_EXPIRED")
    assert "sign in" in response.json()["errors"][0]["message"]
    refusal = (
        await db.execute(
            sa.select(AuditEvent).where(col(AuditEvent.action) == "document.download_refused")
        )
    ).scalar_one()
    assert refusal.details == {"reason": "SESSION_ENDED"}
    assert (await _ticket(db, token)).used_at is None


async def test_the_url_works_while_its_sign_in_session_lives(
    http: httpx.AsyncClient, db: AsyncSession, world: World, download_world: DownloadWorld
) -> None:
    # given a download prepared in a live sign-in session
    session_id = await _sign_in_session(db, world.acme_admin.id)
    owner = Principal(kind=PrincipalKind.USER, id=world.acme_admin.id, session_id=session_id)
    url, _ = await _prepare(db, owner, download_world.acme[:1])

    # when the link is opened
    response = await http.get(url)

    # then the PDF arrives
    assert response.status_code == 200, response.text


async def test_a_preparer_deactivated_since_cannot_use_the_url(
    http: httpx.AsyncClient, db: AsyncSession, world: World, download_world: DownloadWorld
) -> None:
    # given a Basic user's prepared download, then the user is deactivated
    url, _ = await _prepare(
        db, Principal(kind=PrincipalKind.USER, id=world.acme_basic.id), download_world.acme[:1]
    )
    await db.execute(
        sa.update(PortalUser)
        .where(col(PortalUser.id) == world.acme_basic.id)
        .values(status=UserStatus.DEACTIVATED)
    )
    await db.commit()

    # when the link is opened
    response = await http.get(url)

    # then nothing is served
    assert (response.status_code, _code(response)) == (410, "DOWNLOAD_EXPIRED")


async def test_an_api_client_that_lost_documents_read_cannot_use_its_url(
    http: httpx.AsyncClient, db: AsyncSession, world: World, download_world: DownloadWorld
) -> None:
    # given an API client's prepared download, then the client loses documents:read
    url, _ = await _prepare(
        db,
        Principal(kind=PrincipalKind.API_CLIENT, id=world.acme_client.id),
        download_world.acme[:1],
    )
    await db.execute(
        sa.text(
            "UPDATE api_clients SET scopes = array_remove(scopes, 'documents:read') WHERE id = :id"
        ),
        {"id": world.acme_client.id},
    )
    await db.commit()

    # when the link is opened
    response = await http.get(url)

    # then access is checked again and refused
    assert (response.status_code, _code(response)) == (403, "FORBIDDEN")


async def test_a_url_being_produced_answers_in_progress_and_is_usable_once_the_claim_lapses(
    http: httpx.AsyncClient, db: AsyncSession, world: World, download_world: DownloadWorld
) -> None:
    # given a download another redemption holds (a process that was then killed mid-merge)
    url, token = await _prepare(
        db, Principal(kind=PrincipalKind.USER, id=world.acme_admin.id), download_world.acme[:1]
    )
    await db.execute(
        sa.update(DownloadTicket)
        .where(col(DownloadTicket.token_hash) == hash_token(token))
        .values(claim_id=uuid.uuid4(), claimed_until=sa.func.now() + timedelta(seconds=30))
    )
    await db.commit()

    # when it is opened while the claim is held
    busy = await http.get(url)

    # then the client is told to retry shortly, and nothing is spent
    assert (busy.status_code, _code(busy)) == (409, "DOWNLOAD_IN_PROGRESS")
    assert busy.headers["retry-after"].isdigit()

    # when the killed redemption's lease has run out
    await db.execute(
        sa.update(DownloadTicket)
        .where(col(DownloadTicket.token_hash) == hash_token(token))
        .values(claimed_until=sa.func.now() - timedelta(seconds=1))
    )
    await db.commit()
    retry = await http.get(url)

    # then the retry gets the PDF, and only then is the ticket spent
    assert retry.status_code == 200, retry.text
    ticket = await _ticket(db, token)
    assert ticket.used_at is not None
    assert ticket.claimed_until is None


async def test_a_merge_that_fails_leaves_the_ticket_usable(
    http: httpx.AsyncClient,
    db: AsyncSession,
    world: World,
    storage: DocumentStorage,
    download_world: DownloadWorld,
) -> None:
    # given a download whose document's bytes are intact but are not a PDF pypdf can read
    broken = download_world.acme[0]
    garbage = b"%PDF-1.4\nthis is not really a pdf " + uuid.uuid4().bytes
    key = await storage.put(garbage)
    await db.execute(
        sa.update(Document).where(col(Document.id) == broken.id).values(storage_key=key, sha256=key)
    )
    url, token = await _prepare(
        db, Principal(kind=PrincipalKind.USER, id=world.acme_admin.id), [broken]
    )

    # when it is fetched and the merge worker fails after the first bytes were sent
    failed = False
    try:
        await http.get(url)
    except Exception:  # the response is cut off: the client sees an incomplete transfer
        failed = True

    # then no complete PDF was delivered and the ticket stays unspent and unclaimed
    assert failed
    ticket = await _ticket(db, token)
    assert ticket.used_at is None
    assert ticket.claimed_until is None


class _Recorder:
    """A raw ASGI client: records what the app sends, disconnects when told."""

    def __init__(self) -> None:
        self.messages: list[MutableMapping[str, Any]] = []
        self.first_body = asyncio.Event()
        self.disconnect = asyncio.Event()

    async def receive(self) -> dict[str, Any]:
        await self.disconnect.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.body" and message.get("body"):
            self.first_body.set()


def _scope(path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver")],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def _with_merges_busy(app: Starlette, then: Callable[[], Awaitable[None]]) -> None:
    """Run ``then`` while every merge slot of the app's pool is taken."""
    pool: MergePool = app.state.merges
    for _ in range(pool.max_merges):
        await pool._slots.acquire()
    try:
        await then()
    finally:
        for _ in range(pool.max_merges):
            pool._slots.release()


async def test_the_first_bytes_arrive_before_the_merge_and_a_dropped_client_spends_nothing(
    app: Starlette,
    http: httpx.AsyncClient,
    db: AsyncSession,
    world: World,
    download_world: DownloadWorld,
) -> None:
    # given a prepared download, and every merge worker busy
    url, token = await _prepare(
        db, Principal(kind=PrincipalKind.USER, id=world.acme_admin.id), download_world.acme
    )
    client = _Recorder()

    async def fetch_and_drop() -> None:
        serving = asyncio.create_task(app(_scope(url), client.receive, client.send))
        # when the link is opened
        await asyncio.wait_for(client.first_body.wait(), timeout=30)
        # then the response and the PDF's first bytes arrive before any merge could start
        start = client.messages[0]
        assert start["type"] == "http.response.start"
        assert start["status"] == 200
        bodies = [m["body"] for m in client.messages if m["type"] == "http.response.body"]
        assert bodies == [PDF_PREFIX]
        # when the client goes away while the merge waits
        client.disconnect.set()
        await asyncio.wait_for(serving, timeout=30)

    await _with_merges_busy(app, fetch_and_drop)

    # then the ticket is not spent, and the link still delivers the whole PDF
    ticket = await _ticket(db, token)
    assert ticket.used_at is None
    assert ticket.claimed_until is None
    retry = await http.get(url)
    assert retry.status_code == 200, retry.text
    assert retry.content.startswith(PDF_PREFIX)
    assert len(PdfReader(io.BytesIO(retry.content)).pages) == sum(
        document.page_count for document in download_world.acme
    )


async def test_the_ticket_is_spent_after_the_whole_pdf_and_before_the_response_ends(
    app: Starlette,
    connection: AsyncConnection,
    db: AsyncSession,
    world: World,
    download_world: DownloadWorld,
) -> None:
    # given a prepared download
    url, token = await _prepare(
        db, Principal(kind=PrincipalKind.USER, id=world.acme_admin.id), download_world.acme
    )
    client = _Recorder()
    when_spent: list[tuple[bool, bool]] = []

    def sent(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        if "UPDATE download_tickets SET" in sql and "used_at=now()" in sql:
            bodies = [m for m in client.messages if m["type"] == "http.response.body"]
            whole = b"".join(m.get("body", b"") for m in bodies).rstrip().endswith(b"%%EOF")
            ended = any(m.get("more_body") is False for m in bodies)
            when_spent.append((whole, ended))

    # when it is fetched
    raw = connection.sync_connection
    assert raw is not None
    event.listen(raw, "before_cursor_execute", sent)
    try:
        await asyncio.wait_for(app(_scope(url), client.receive, client.send), timeout=30)
    finally:
        event.remove(raw, "before_cursor_execute", sent)

    # then the ticket was spent once the whole PDF had been sent, before the response ended (a
    # link opened again once its response has ended is used, never still in progress)
    assert when_spent == [(True, False)]
    body = b"".join(m.get("body", b"") for m in client.messages)
    assert len(PdfReader(io.BytesIO(body)).pages) == sum(d.page_count for d in download_world.acme)
    # and the ticket is spent, the delivery audited
    ticket = await _ticket(db, token)
    assert ticket.used_at is not None
    delivered = await db.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(col(AuditEvent.action) == "document.downloaded")
    )
    assert delivered == 1


async def test_the_documents_are_checked_while_the_claim_commits(
    http: httpx.AsyncClient,
    db: AsyncSession,
    world: World,
    download_world: DownloadWorld,
    storage: DocumentStorage,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a prepared download, its documents' checks noted as they begin
    owner = Principal(kind=PrincipalKind.USER, id=world.acme_admin.id)
    url, _ = await _prepare(db, owner, download_world.acme)
    checking = threading.Event()
    checked_file = storage.checked_file  # type: ignore[attr-defined]

    def noting(key: str) -> Path:
        checking.set()
        path: Path = checked_file(key)
        return path

    monkeypatch.setattr(storage, "checked_file", noting)
    # and every commit noting whether a check had begun by its end (waiting a while for one)
    seen: list[bool] = []
    commit = RequestSession.commit

    async def noting_commit(session: RequestSession) -> None:
        for _ in range(100):
            if checking.is_set():
                break
            await asyncio.sleep(0.01)
        seen.append(checking.is_set())
        await commit(session)

    monkeypatch.setattr(RequestSession, "commit", noting_commit)

    # when the link is opened
    response = await http.get(url)

    # then the PDF arrives, and the documents were being checked while the claim committed (the
    # GET's first commit), not only after it
    assert response.status_code == 200, response.text
    assert seen[0] is True, seen


async def test_a_bearer_in_another_sign_in_session_does_not_stand_for_the_ended_one(
    http: httpx.AsyncClient,
    db: AsyncSession,
    world: World,
    download_world: DownloadWorld,
    tokens: TokenService,
) -> None:
    # given a download prepared in one sign-in session, which then ends, while the same person
    # is signed in in another one
    prepared_in = await _sign_in_session(db, world.acme_admin.id)
    still_in = await _sign_in_session(db, world.acme_admin.id)
    owner = Principal(kind=PrincipalKind.USER, id=world.acme_admin.id, session_id=prepared_in)
    url, token = await _prepare(db, owner, download_world.acme[:1])
    await db.execute(
        sa.update(AuthSession)
        .where(col(AuthSession.id) == prepared_in)
        .values(revoked_at=sa.func.now(), revoked_reason="LOGOUT")
    )
    await db.commit()
    bearer = tokens.mint(kind=SubjectKind.USER, subject_id=world.acme_admin.id, session_id=still_in)

    # when the link is opened with the other session's token
    response = await http.get(url, headers={"Authorization": f"Bearer {bearer[0]}"})

    # then the ticket's own session is what counts: it is gone, and not spent
    assert (response.status_code, _code(response)) == (410, "DOWNLOAD_EXPIRED")
    assert (await _ticket(db, token)).used_at is None


async def test_the_merge_begins_before_the_response_starts(
    app: Starlette,
    db: AsyncSession,
    world: World,
    download_world: DownloadWorld,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a prepared download, and what the app's merge pool is asked, noted among what the
    # client receives
    url, _ = await _prepare(
        db, Principal(kind=PrincipalKind.USER, id=world.acme_admin.id), download_world.acme
    )
    client = _Recorder()
    events: list[str] = []
    pool: MergePool = app.state.merges
    merge = pool.merge

    async def noting_merge(output: Path, parts: Sequence[StagedPart]) -> int:
        events.append("merge")
        return await merge(output, parts)

    async def noting_send(message: MutableMapping[str, Any]) -> None:
        events.append(message["type"])
        await client.send(message)

    monkeypatch.setattr(pool, "merge", noting_merge)

    # when the link is opened
    await asyncio.wait_for(app(_scope(url), client.receive, noting_send), timeout=30)

    # then the merge was under way before the response started (it overlaps the first bytes)
    assert client.messages[0]["status"] == 200
    assert events.index("merge") < events.index("http.response.start"), events
