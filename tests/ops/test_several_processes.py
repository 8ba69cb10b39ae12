"""Several app processes sharing Redis: a document posted through process A, or imported with
the `portal import-documents` command, reaches a `documentPosted` subscriber on process B."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from pypdf import PdfReader, PdfWriter
from sqlalchemy.ext.asyncio import AsyncSession
from websockets.asyncio.client import ClientConnection, connect

from portal.auth.keys import load_or_create_keys
from portal.auth.tokens import SubjectKind, TokenService
from portal.migrations import upgrade_async
from portal.models.db import AccountScope, create_engine, set_scope
from portal.schema.relay import global_id
from portal.schema.visits import Visit as VisitNode
from portal.settings import Settings
from portal.storage import LocalDocumentStorage
from tests.schema.ingestion.conftest import make_pdf, post_upload
from tests.support.database import create_database, drop
from tests.support.network import free_port
from tests.support.world import PASSWORD, World, build_world

PORTAL = Path(sys.executable).parent / "portal"
REDIS_URL = "redis://127.0.0.1:6379/0"
SUBSCRIBE = "subscription { documentPosted { id name } }"
TIMEOUT = 30.0
CLAIM_LEASE_SECONDS = 5


@dataclass
class Deployment:
    database_url: str
    data_dir: Path
    world: World
    tokens: TokenService
    prefix: str

    def env(self) -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
        return {
            **clean,
            "PORTAL_DATABASE_URL": self.database_url,
            "PORTAL_DATA_DIR": str(self.data_dir),
            "PORTAL_REDIS_URL": REDIS_URL,
            "PORTAL_REDIS_PREFIX": self.prefix,
            "PORTAL_MAIL_WORKER_ENABLED": "false",
            "PORTAL_METRICS_ENABLED": "true",
            "PORTAL_LOG_FORMAT": "json",
            # A download whose process dies is claimable again after this long.
            "PORTAL_DOWNLOAD_CLAIM_LEASE_SECONDS": str(CLAIM_LEASE_SECONDS),
        }


@pytest.fixture(scope="module")
def redis_available() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        pytest.fail(f"these tests need the Redis on 127.0.0.1:6379: {error}")


@pytest.fixture
async def deployment(
    admin_database_url: str, app_role: str, tmp_path: Path, redis_available: None
) -> AsyncIterator[Deployment]:
    """A database of its own (its documents are committed) and a data folder both processes
    share (the signing key, the stored documents)."""
    url = await create_database(admin_database_url, app_role, prefix="portal_procs")
    data_dir = tmp_path / "data"
    try:
        await upgrade_async(url)
        engine = create_engine(url)
        async with AsyncSession(engine, expire_on_commit=False) as session:
            set_scope(session, AccountScope.everything())
            world = await build_world(session, LocalDocumentStorage(data_dir / "documents"))
            await session.commit()
        await engine.dispose()
        settings = Settings()
        keys = load_or_create_keys(key_file=None, data_dir=data_dir)
        tokens = TokenService(
            keys=keys,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            ttl_seconds=600,
        )
        yield Deployment(url, data_dir, world, tokens, prefix=f"test-{uuid.uuid4().hex[:8]}")
    finally:
        await drop(admin_database_url, url)


@contextmanager
def serving(deployment: Deployment, log: Path, *options: str) -> Iterator[str]:
    with serving_process(deployment, log, *options) as (base, _):
        yield base


@contextmanager
def serving_process(
    deployment: Deployment, log: Path, *options: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    with log.open("ab") as output:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [str(PORTAL), "serve", "--port", str(port), *options],
            env=deployment.env(),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=60)


async def _receive(connection: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(connection.recv(), TIMEOUT))
    return message


async def _subscriptions(base: str) -> float:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{base}/metrics")).text
    for line in text.splitlines():
        if line.startswith("portal_live_subscriptions "):
            return float(line.split()[1])
    raise AssertionError("no portal_live_subscriptions in /metrics")


async def _subscribed(base: str, token: str) -> AsyncIterator[ClientConnection]:
    url = base.replace("http://", "ws://") + "/graphql"
    async with connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        payload = {"Authorization": f"Bearer {token}"}
        await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert await _receive(socket) == {"type": "connection_ack"}
        await socket.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}})
        )
        deadline = time.monotonic() + TIMEOUT
        while await _subscriptions(base) < 1:
            assert time.monotonic() < deadline, "the subscription did not start"
            await asyncio.sleep(0.1)
        yield socket


async def _next_document(socket: ClientConnection) -> dict[str, Any]:
    message = await _receive(socket)
    assert message["type"] == "next", message
    document: dict[str, Any] = message["payload"]["data"]["documentPosted"]
    return document


@pytest.mark.timeout(300)
async def test_a_document_posted_on_one_process_reaches_a_subscriber_on_another(
    deployment: Deployment, tmp_path: Path
) -> None:
    world = deployment.world
    admin, _ = deployment.tokens.mint(kind=SubjectKind.USER, subject_id=world.acme_admin.id)
    staff, _ = deployment.tokens.mint(kind=SubjectKind.STAFF, subject_id=world.staff.id)
    visit = str(global_id(VisitNode, world.results.alice_injury.id))

    # given two app processes, A and B, sharing the database and Redis
    with serving(deployment, tmp_path / "a.log") as a, serving(deployment, tmp_path / "b.log") as b:
        # and Acme's admin subscribed to documentPosted on B
        async for socket in _subscribed(b, admin):
            # when staff post an Acme result through A
            async with httpx.AsyncClient(base_url=a, timeout=TIMEOUT) as client:
                posted = await post_upload(
                    client,
                    staff,
                    {
                        "visitId": visit,
                        "reportType": "INJURY_ACTIVITY_STATUS_REPORT",
                        "name": "Work status via A",
                    },
                    make_pdf(1),
                )
            document = posted.ok()["postDocument"]["document"]

            # then the subscriber on B receives it
            assert await _next_document(socket) == {
                "id": document["id"],
                "name": "Work status via A",
            }

            # when a result is imported with the command-line tool (a third process)
            folder = tmp_path / "incoming"
            folder.mkdir()
            (folder / "result.pdf").write_bytes(make_pdf(1))
            manifest = tmp_path / "manifest.csv"
            manifest.write_text(
                "file,visit_id,report_type,name\n"
                f"result.pdf,{world.results.alice_injury.id},INJURY_ACTIVITY_STATUS_REPORT,Imported\n"
            )
            imported = await asyncio.to_thread(
                subprocess.run,
                [str(PORTAL), "import-documents", str(folder), "--manifest", str(manifest)],
                env=deployment.env(),
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert imported.returncode == 0, imported.stdout + imported.stderr

            # then the subscriber on B receives that one too
            assert (await _next_document(socket))["name"] == "Imported"

        # given a download of that document prepared through A
        async with (
            httpx.AsyncClient(base_url=a, timeout=TIMEOUT) as on_a,
            httpx.AsyncClient(base_url=b, timeout=TIMEOUT) as on_b,
        ):
            prepared = await on_a.post(
                "/graphql",
                json={
                    "query": "mutation($ids: [ID!]!) { prepareDocumentDownload(input: "
                    "{documentIds: $ids}) { url } }",
                    "variables": {"ids": [document["id"]]},
                },
                headers={"Authorization": f"Bearer {admin}"},
            )
            url = httpx.URL(prepared.json()["data"]["prepareDocumentDownload"]["url"])
            # when its link is opened as a plain link on B (merged in B's worker process)
            pdf = await on_b.get(url.path)
            # then the PDF arrives, once
            assert pdf.status_code == 200, pdf.text
            assert pdf.content.startswith(b"%PDF-1.7")
            assert (await on_a.get(url.path)).status_code == 410

        # given someone signed in through A, whose token works on B
        async with (
            httpx.AsyncClient(base_url=a, timeout=TIMEOUT) as on_a,
            httpx.AsyncClient(base_url=b, timeout=TIMEOUT) as on_b,
        ):
            signed_in = await on_a.post(
                "/graphql",
                json={
                    "query": "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                    "variables": {"i": {"email": "admin@acme.example", "password": PASSWORD}},
                },
            )
            token = signed_in.json()["data"]["login"]["accessToken"]
            bearer = {"Authorization": f"Bearer {token}"}
            viewer = {"query": "{ viewer { email } }"}
            assert (await on_b.post("/graphql", json=viewer, headers=bearer)).status_code == 200

            # when they sign out through A
            signed_out = await on_a.post(
                "/graphql",
                json={"query": "mutation { logout { userErrors { code } } }"},
                headers=bearer,
            )
            assert signed_out.status_code == 200, signed_out.text

            # then B refuses the token at its next request: revocation is shared
            assert (await on_b.post("/graphql", json=viewer, headers=bearer)).status_code == 401

            # given five failed sign-ins of one account through A (the lockout threshold)
            login = (
                "mutation($i: LoginInput!) { login(input: $i) { accessToken userErrors { code } } }"
            )
            for _ in range(5):
                await on_a.post(
                    "/graphql",
                    json={
                        "query": login,
                        "variables": {"i": {"email": "admin@globex.example", "password": "wrong"}},
                    },
                )
            # when the right password is tried through B
            locked = await on_b.post(
                "/graphql",
                json={
                    "query": login,
                    "variables": {"i": {"email": "admin@globex.example", "password": PASSWORD}},
                },
            )
            # then B knows the account is locked for that address: sign-in limits are shared (a
            # lockout answers like a wrong password, so nothing tells the email has an account)
            body = locked.json()
            assert (body.get("data") or {}).get("login", {}).get("accessToken") is None
            assert body["data"]["login"]["userErrors"] == [{"code": "UNAUTHENTICATED"}], body


@pytest.mark.timeout(300)
async def test_serve_with_workers_runs_that_many_processes_on_one_port(
    deployment: Deployment, tmp_path: Path
) -> None:
    log = tmp_path / "workers.log"
    # given `portal serve --workers 2`
    with serving(deployment, log, "--workers", "2") as base:
        # then it answers on its one port
        async with httpx.AsyncClient(base_url=base) as client:
            for _ in range(6):
                assert (await client.get("/readyz")).status_code == 200
        # from two worker processes, each started with its own app
        deadline = time.monotonic() + 60
        while log.read_text().count("Application startup complete") < 2:
            assert time.monotonic() < deadline, log.read_text()
            await asyncio.sleep(0.2)
        assert log.read_text().count("Application startup complete") == 2


async def _prepare_long_download(deployment: Deployment, base: str) -> str:
    """The path of a prepared download of a 1,500-page result (its merge takes seconds)."""
    world = deployment.world
    admin, _ = deployment.tokens.mint(kind=SubjectKind.USER, subject_id=world.acme_admin.id)
    staff, _ = deployment.tokens.mint(kind=SubjectKind.STAFF, subject_id=world.staff.id)
    visit = str(global_id(VisitNode, world.results.alice_injury.id))
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT) as client:
        posted = await post_upload(
            client,
            staff,
            {"visitId": visit, "reportType": "AUDIOGRAM_RESULTS", "name": "Long"},
            _many_pages(1500),
        )
        document = posted.ok()["postDocument"]["document"]
        prepared = await client.post(
            "/graphql",
            json={
                "query": "mutation($ids: [ID!]!) { prepareDocumentDownload(input: "
                "{documentIds: $ids}) { url } }",
                "variables": {"ids": [document["id"]]},
            },
            headers={"Authorization": f"Bearer {admin}"},
        )
    return httpx.URL(prepared.json()["data"]["prepareDocumentDownload"]["url"]).path


def _many_pages(pages: int) -> bytes:
    """A valid PDF of ``pages`` pages (copies of one), slow enough to merge to be cut off."""
    writer = PdfWriter()
    page = PdfReader(io.BytesIO(make_pdf(1))).pages[0]
    for _ in range(pages):
        writer.add_page(page)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


@pytest.mark.timeout(300)
async def test_a_server_killed_during_the_merge_leaves_the_download_usable(
    deployment: Deployment, tmp_path: Path
) -> None:
    with (
        serving_process(deployment, tmp_path / "a.log") as (a, process_a),
        serving(deployment, tmp_path / "b.log") as b,
    ):
        # given a prepared download of a 1,500-page result (its merge takes seconds)
        path = await _prepare_long_download(deployment, a)
        # when its link is opened on A, and A is killed outright once the first bytes came
        async with (
            httpx.AsyncClient(base_url=a, timeout=TIMEOUT) as on_a,
            on_a.stream("GET", path) as response,
        ):
            assert response.status_code == 200
            chunks = response.aiter_raw()
            first = await anext(chunks)
            assert first.startswith(b"%PDF-1.7")
            process_a.kill()
            process_a.wait(timeout=30)
            with pytest.raises(httpx.HTTPError):
                async for _ in chunks:
                    pass

        async with httpx.AsyncClient(base_url=b, timeout=120) as on_b:
            # then a retry at once is told the download is still held (by the dead process)
            busy = await on_b.get(path)
            assert busy.status_code == 409, busy.text
            assert busy.json()["errors"][0]["extensions"]["code"] == "DOWNLOAD_IN_PROGRESS"
            # and once the claim has lapsed, the link delivers the whole PDF, once
            deadline = time.monotonic() + CLAIM_LEASE_SECONDS + 30
            while (retry := await on_b.get(path)).status_code == 409:
                assert time.monotonic() < deadline, "the claim never lapsed"
                await asyncio.sleep(0.5)
            assert retry.status_code == 200, retry.text
            assert len(PdfReader(io.BytesIO(retry.content)).pages) == 1500
            assert (await on_b.get(path)).status_code == 410


@pytest.mark.timeout(300)
async def test_sigterm_lets_a_download_in_flight_finish(
    deployment: Deployment, tmp_path: Path
) -> None:
    with serving_process(deployment, tmp_path / "a.log") as (a, process_a):
        path = await _prepare_long_download(deployment, a)
        # given a download whose first bytes have arrived (the merge is running)
        async with (
            httpx.AsyncClient(base_url=a, timeout=120) as on_a,
            on_a.stream("GET", path) as response,
        ):
            chunks = response.aiter_raw()
            body = bytearray(await anext(chunks))

            # when the server is asked to stop (a deploy)
            process_a.send_signal(signal.SIGTERM)

            # then the download in flight still completes, within the shutdown timeout
            async for chunk in chunks:
                body.extend(chunk)
        assert len(PdfReader(io.BytesIO(bytes(body))).pages) == 1500
        # and the server then exits as terminated
        assert await asyncio.to_thread(process_a.wait, 60) == 128 + signal.SIGTERM
