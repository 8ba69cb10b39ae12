"""documentPosted over graphql-transport-ws: authenticated in connection_init, delivered only to
subscribers who may see the document, in text frames."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col
from websockets.asyncio.client import connect

from portal.auth.tokens import SubjectKind, TokenService
from portal.models import AuditEvent
from portal.models.db import AccountScope, set_scope
from tests.support.live import (
    PROTOCOL,
    SUBSCRIBE,
    LiveApp,
    answer,
    bearer,
    close_code,
    delivered,
    gid,
    initialised,
    mint,
    receive,
    start,
    subscribed,
)
from tests.support.world import World

VIEWER_QUERY = "{ viewer { email account { name } } }"


async def test_each_subscriber_receives_only_the_documents_they_may_see(
    live: LiveApp, tokens: TokenService, world: World
) -> None:
    results = world.results
    admin = mint(tokens, SubjectKind.USER, world.acme_admin.id)
    basic = mint(tokens, SubjectKind.USER, world.acme_basic.id)
    globex = mint(tokens, SubjectKind.USER, world.globex_admin.id)
    # given Acme's admin, Acme's Basic user and Globex's admin subscribed (each way of sending
    # the token in connection_init)
    async with (
        subscribed(live, {"Authorization": f"Bearer {admin}"}) as admin_socket,
        subscribed(live, {"token": basic}) as basic_socket,
        subscribed(live, {"authorization": f"bearer {globex}"}) as globex_socket,
    ):
        await live.wait_for_subscribers(3)

        # when an Acme document outside the Basic user's subscriptions, a Globex document and a
        # subscribed Acme document are posted, in that order
        for document in (results.other_type, results.globex, results.subscribed):
            live.publish(document)

        # then the admin gets both Acme documents and not Globex's (it would come between)
        assert (await delivered(admin_socket))["id"] == gid(results.other_type)
        assert (await delivered(admin_socket))["id"] == gid(results.subscribed)
        # the Basic user only the subscribed one, Globex's admin only its own
        assert (await delivered(basic_socket))["id"] == gid(results.subscribed)
        assert (await delivered(globex_socket))["id"] == gid(results.globex)


async def test_a_delivered_document_carries_its_nested_fields(
    live: LiveApp, tokens: TokenService, world: World
) -> None:
    admin = mint(tokens, SubjectKind.USER, world.acme_admin.id)
    # given a subscribed admin
    async with subscribed(live, {"Authorization": f"Bearer {admin}"}) as connection:
        await live.wait_for_subscribers(1)

        # when one of the account's documents is posted, twice
        live.publish(world.results.subscribed)
        live.publish(world.results.subscribed)

        # then each arrives with its report type and employee (read afresh for each event)
        for _ in range(2):
            document = await delivered(connection)
            assert document["id"] == gid(world.results.subscribed)
            assert document["name"] == world.results.subscribed.name
            assert document["reportType"]["code"] == "INJURY_ACTIVITY_STATUS_REPORT"
            assert document["employee"]["lastName"]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Basic abc"},
        {"token": 42},
        {"token": "x" * 100_000},
    ],
    ids=["no token", "invalid token", "not bearer", "not a string", "too long"],
)
async def test_a_connection_without_a_valid_token_is_refused(
    live: LiveApp, payload: dict[str, Any]
) -> None:
    # when a socket initialises without a valid access token
    async with initialised(live, payload) as connection:
        # then the server closes it as the protocol says: 4403 Forbidden
        assert await close_code(connection) == 4403


async def test_subscribing_before_connection_init_is_refused(live: LiveApp) -> None:
    # when a socket subscribes without initialising
    async with connect(live.url, subprotocols=[PROTOCOL]) as connection:  # type: ignore[list-item]
        await connection.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}})
        )
        # then it is closed as unauthorized
        assert await close_code(connection) == 4401


async def test_a_client_without_documents_read_cannot_subscribe(
    live: LiveApp, tokens: TokenService, world: World
) -> None:
    # given an API client token without documents:read
    token = mint(tokens, SubjectKind.CLIENT, world.acme_client.id, "account:read")
    async with subscribed(live, {"Authorization": f"Bearer {token}"}) as connection:
        # when it subscribes, then the subscription answers FORBIDDEN
        message = await receive(connection)
        assert message["type"] in {"next", "error"}, message
        errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
        assert [error.get("extensions", {}).get("code") for error in errors] == ["FORBIDDEN"], (
            errors
        )
    # and nothing stays subscribed
    await live.wait_for_subscribers(0)


async def test_an_open_socket_holds_no_database_connection_between_operations(
    live: LiveApp, tokens: TokenService, world: World
) -> None:
    admin = mint(tokens, SubjectKind.USER, world.acme_admin.id)
    # given an authenticated socket that ran a query and received a delivered document
    async with subscribed(live, bearer(admin)) as connection:
        await live.wait_for_subscribers(1)
        live.publish(world.results.subscribed)
        await delivered(connection)
        await start(connection, "2", VIEWER_QUERY)
        result = await answer(connection, "2")
        assert result["data"]["viewer"]["account"]["name"] == world.acme.name

        # when the socket stays open and idle, then no database connection is checked out
        await live.wait_for_idle_pool()


async def test_each_delivered_document_is_audited_before_the_next_event(
    live: LiveApp, tokens: TokenService, world: World, engine: AsyncEngine
) -> None:
    admin = mint(tokens, SubjectKind.USER, world.acme_admin.id)
    document = world.results.subscribed
    request_id = f"live-audit-{uuid.uuid4().hex[:12]}"
    # given a subscribed admin, whose socket carries its own request id
    async with subscribed(live, bearer(admin), {"X-Request-ID": request_id}) as connection:
        await live.wait_for_subscribers(1)

        # when a document is delivered (with its employee, a PHI read)
        live.publish(document)
        await delivered(connection)

        # then, with the socket still open, the delivery and the employee read are on record
        async with AsyncSession(engine) as session:
            set_scope(session, AccountScope.everything())
            rows = (
                await session.execute(
                    sa.select(
                        col(AuditEvent.action),
                        col(AuditEvent.actor_id),
                        col(AuditEvent.object_ids),
                    ).where(col(AuditEvent.request_id) == request_id)
                )
            ).all()
    recorded = {row.action: (row.actor_id, row.object_ids) for row in rows}
    assert recorded == {
        "document.delivered": (world.acme_admin.id, [str(document.id)]),
        "employees.read": (world.acme_admin.id, [str(document.employee_id)]),
    }
