"""Real graphql-transport-ws clients receive a document posted over HTTP: gql's websockets
transport (Python) and the graphql-ws client under Node (what Apollo, urql, Relay and GraphiQL
use). Both refuse binary frames, so each message must leave as a text frame."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from portal.auth.tokens import SubjectKind, TokenService
from portal.models import Document as DocumentRow
from portal.models import OutboxMessage
from portal.models.db import AccountScope, set_scope
from portal.schema.documents import Document
from portal.schema.relay import decode_global_id, global_id
from portal.schema.visits import Visit
from tests.schema.ingestion.conftest import make_pdf, post_upload
from tests.support.live import SUBSCRIBE, LiveApp, bearer, mint
from tests.support.world import SUBSCRIBED_REPORT_TYPE, World

NODE_PACKAGE = Path(__file__).resolve().parents[2] / "node"
CLIENT_TIMEOUT = 30.0


class Poster:
    """Posts documents as staff over HTTP to the live server; removes them after the test (the
    live server commits, and the rest of the suite shares the world)."""

    def __init__(self, live: LiveApp, token: str, world: World) -> None:
        self.live = live
        self.token = token
        self.world = world
        self.ids: list[uuid.UUID] = []

    async def post(self) -> str:
        async with httpx.AsyncClient(base_url=self.live.http_url) as http:
            response = await post_upload(
                http,
                self.token,
                {
                    "visitId": global_id(Visit, self.world.results.alice_injury.id),
                    "reportType": SUBSCRIBED_REPORT_TYPE,
                    "name": "Work Status Report",
                },
                make_pdf(1),
            )
        payload = response.ok()["postDocument"]
        assert payload["userErrors"] == [], payload
        document_id: str = payload["document"]["id"]
        self.ids.append(decode_global_id(document_id, expected=Document))
        return document_id


@pytest.fixture
async def poster(
    live: LiveApp, tokens: TokenService, world: World, engine: AsyncEngine
) -> AsyncIterator[Poster]:
    started = datetime.now(UTC)
    poster = Poster(live, mint(tokens, SubjectKind.STAFF, world.staff.id), world)
    yield poster
    async with AsyncSession(engine) as session:
        set_scope(session, AccountScope.everything())
        # The new-results emails and the document.posted webhook event queued with each one.
        await session.execute(
            sa.delete(OutboxMessage).where(col(OutboxMessage.created_at) >= started)
        )
        await session.execute(sa.delete(DocumentRow).where(col(DocumentRow.id).in_(poster.ids)))
        await session.commit()


async def test_gql_websockets_transport_receives_a_posted_document(
    live: LiveApp, tokens: TokenService, world: World, poster: Poster
) -> None:
    admin = mint(tokens, SubjectKind.USER, world.acme_admin.id)
    transport = WebsocketsTransport(
        url=live.url,
        init_payload=bearer(admin),
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    # given Acme's admin subscribed with gql
    async with Client(transport=transport) as session:
        results = session.subscribe(gql(SUBSCRIBE))
        first: asyncio.Task[dict[str, Any]] = asyncio.create_task(anext(results))
        try:
            await live.wait_for_subscribers(1)

            # when staff post a document for one of Acme's visits over HTTP
            posted = await poster.post()

            # then gql receives it, with its nested fields
            received = await asyncio.wait_for(first, CLIENT_TIMEOUT)
        finally:
            first.cancel()
            await results.aclose()
    assert received["documentPosted"]["id"] == posted
    assert received["documentPosted"]["reportType"]["code"] == SUBSCRIBED_REPORT_TYPE
    assert received["documentPosted"]["employee"]["lastName"] == "Smith"


async def _line(process: asyncio.subprocess.Process) -> dict[str, Any]:
    assert process.stdout is not None
    raw = await asyncio.wait_for(process.stdout.readline(), CLIENT_TIMEOUT)
    assert raw, "the Node client ended without a word"
    line: dict[str, Any] = json.loads(raw)
    return line


async def test_graphql_ws_client_under_node_receives_a_posted_document(
    live: LiveApp, tokens: TokenService, world: World, poster: Poster
) -> None:
    node = shutil.which("node")
    assert node is not None, "Node.js 20+ is needed for this test"
    assert (NODE_PACKAGE / "node_modules" / "graphql-ws").is_dir(), (
        "tests/node is not installed: run `make test` (or `npm ci --prefix tests/node`)"
    )
    admin = mint(tokens, SubjectKind.USER, world.acme_admin.id)
    # given Acme's admin subscribed with the graphql-ws client in a Node process
    process = await asyncio.create_subprocess_exec(
        node,
        str(NODE_PACKAGE / "subscribe.mjs"),
        env={**os.environ, "PORTAL_WS_URL": live.url, "PORTAL_TOKEN": admin},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert await _line(process) == {"event": "connected"}
        await live.wait_for_subscribers(1)

        # when staff post a document for one of Acme's visits over HTTP
        posted = await poster.post()

        # then the Node client receives it, with its nested fields, and ends cleanly
        received = await _line(process)
        assert received["event"] == "next", received
        document = received["data"]["documentPosted"]
        assert document["id"] == posted
        assert document["reportType"]["code"] == SUBSCRIBED_REPORT_TYPE
        assert document["employee"]["lastName"] == "Smith"
        assert await asyncio.wait_for(process.wait(), CLIENT_TIMEOUT) == 0
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
