"""A socket lives no longer than its credentials: the caller is re-read for every operation and
before every delivered event, and the socket is closed (4403) when the token expires, the
sign-in session ends or the user is deactivated. Each operation has its own context."""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from portal.auth.tokens import SubjectKind, TokenService
from portal.models import ApiClient, AuditEvent, AuthSession, Contact, PortalUser
from portal.models.base import utcnow
from portal.models.db import AccountScope, set_scope
from portal.models.enums import Role, UserStatus
from portal.models.sessions import SessionSubject
from portal.schema.relay import global_id
from portal.schema.users import PortalUser as PortalUserNode
from tests.support.live import (
    RECEIVE_TIMEOUT,
    LiveApp,
    acknowledged,
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

FORBIDDEN = 4403
LOGOUT = "mutation { logout { userErrors { code } } }"
DEACTIVATE = "mutation($id: ID!) { deactivateUser(input: {userId: $id}) { userErrors { code } } }"
CREATE_API_CLIENT = """
mutation($input: CreateApiClientInput!) {
  createApiClient(input: $input) { clientId userErrors { code } }
}
"""
DOCUMENT_EMPLOYEE = """
query($id: ID!) { node(id: $id) { ... on Document { id employee { lastName } } } }
"""


async def _http(
    live: LiveApp, token: str, query: str, variables: dict[str, Any] | None = None
) -> Any:
    """A GraphQL request over HTTP to the same live server; answers its data."""
    async with httpx.AsyncClient(base_url=live.http_url) as client:
        response = await client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
        )
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body
    return body["data"]


@pytest.fixture
async def sign_in_session(engine: AsyncEngine, world: World) -> AsyncIterator[uuid.UUID]:
    """A committed sign-in session of Acme's admin (the live server sees committed rows only),
    removed after the test."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        set_scope(session, AccountScope.everything())
        row = AuthSession(
            subject_kind=SessionSubject.USER,
            user_id=world.acme_admin.id,
            absolute_expires_at=utcnow() + timedelta(days=1),
        )
        session.add(row)
        await session.commit()
    yield row.id
    async with AsyncSession(engine) as session:
        set_scope(session, AccountScope.everything())
        await session.execute(sa.delete(AuthSession).where(col(AuthSession.id) == row.id))
        await session.commit()


@pytest.fixture
async def second_admin(engine: AsyncEngine, world: World) -> AsyncIterator[uuid.UUID]:
    """A committed second User Admin of Acme (the world's people stay as they are for the rest of
    the suite), removed after the test."""
    tag = uuid.uuid4().hex[:8]
    async with AsyncSession(engine, expire_on_commit=False) as session:
        set_scope(session, AccountScope.everything())
        contact = Contact(
            account_id=world.acme.id,
            first_name="Second",
            last_name="Admin",
            work_email=f"second.{tag}@acme.example",
        )
        session.add(contact)
        await session.flush()
        user = PortalUser(
            contact_id=contact.id,
            account_id=world.acme.id,
            email=contact.work_email,
            role=Role.USER_ADMIN,
            status=UserStatus.ACTIVE,
            password_hash=world.acme_admin.password_hash,
        )
        session.add(user)
        await session.commit()
    yield user.id
    async with AsyncSession(engine) as session:
        set_scope(session, AccountScope.everything())
        await session.execute(sa.delete(PortalUser).where(col(PortalUser.id) == user.id))
        await session.execute(sa.delete(Contact).where(col(Contact.id) == contact.id))
        await session.commit()


async def _rejections(engine: AsyncEngine, request_id: str) -> list[tuple[Any, Any]]:
    """The token rejections on record for one socket (by its request id): (actor, details)."""
    async with AsyncSession(engine) as session:
        set_scope(session, AccountScope.everything())
        rows = await session.execute(
            sa.select(col(AuditEvent.actor_id), col(AuditEvent.details)).where(
                col(AuditEvent.request_id) == request_id,
                col(AuditEvent.action) == "token.rejected",
            )
        )
        return [(row.actor_id, row.details) for row in rows]


async def test_a_socket_is_closed_when_its_token_expires(
    live: LiveApp, tokens: TokenService, world: World, engine: AsyncEngine
) -> None:
    # given a subscription opened with a token that lives six seconds
    short_lived = dataclasses.replace(tokens, ttl_seconds=6)
    token = mint(short_lived, SubjectKind.USER, world.acme_admin.id)
    expires_at = tokens.verify(token).expires_at
    request_id = f"live-expiry-{uuid.uuid4().hex[:12]}"
    async with subscribed(live, bearer(token), {"X-Request-ID": request_id}) as connection:
        await live.wait_for_subscribers(1)
        # which receives documents while the token is valid
        live.publish(world.results.subscribed)
        assert (await delivered(connection))["id"] == gid(world.results.subscribed)

        # when the token's expiry passes with nothing else happening on the socket,
        # then the server closes it as forbidden, not before the expiry
        assert await close_code(connection) == FORBIDDEN
        assert time.time() >= expires_at - 0.5
    # and the subscription has ended on the server
    await live.wait_for_subscribers(0)
    # and the trail says (right after the close) whose token expired on which socket
    deadline = time.monotonic() + RECEIVE_TIMEOUT
    while not (rejections := await _rejections(engine, request_id)):
        assert time.monotonic() < deadline, "the expiry is not on the audit trail"
        await asyncio.sleep(0.05)
    assert rejections == [
        (world.acme_admin.id, {"reason": "the access token expired", "path": "websocket"})
    ]


async def test_a_token_past_its_expiry_opens_no_socket(
    live: LiveApp, tokens: TokenService, world: World
) -> None:
    # given a token that expired five seconds ago (within the verifier's clock leeway)
    expired = dataclasses.replace(tokens, ttl_seconds=-5)
    token = mint(expired, SubjectKind.USER, world.acme_admin.id)
    # when a socket initialises with it, then it is refused
    async with initialised(live, bearer(token)) as connection:
        assert await close_code(connection) == FORBIDDEN


async def test_logging_out_stops_delivery_and_closes_the_socket(
    live: LiveApp, tokens: TokenService, world: World, sign_in_session: uuid.UUID
) -> None:
    token = mint(tokens, SubjectKind.USER, world.acme_admin.id, session_id=sign_in_session)
    # given an admin subscribed with the access token of a sign-in session
    async with subscribed(live, bearer(token)) as connection:
        await live.wait_for_subscribers(1)
        live.publish(world.results.subscribed)
        assert (await delivered(connection))["id"] == gid(world.results.subscribed)

        # when the admin logs out (over HTTP) and another document is posted
        assert (await _http(live, token, LOGOUT))["logout"]["userErrors"] == []
        live.publish(world.results.subscribed)

        # then it is not delivered: the socket is closed as forbidden
        assert await close_code(connection) == FORBIDDEN
    await live.wait_for_subscribers(0)


async def test_a_deactivated_user_stops_receiving_and_is_disconnected(
    live: LiveApp, tokens: TokenService, world: World, second_admin: uuid.UUID
) -> None:
    admin = mint(tokens, SubjectKind.USER, world.acme_admin.id)
    second = mint(tokens, SubjectKind.USER, second_admin)
    # given Acme's second User Admin subscribed, receiving the account's documents
    async with subscribed(live, bearer(second)) as connection:
        await live.wait_for_subscribers(1)
        live.publish(world.results.subscribed)
        assert (await delivered(connection))["id"] == gid(world.results.subscribed)

        # when the first admin deactivates them (over HTTP) and another document is posted
        deactivated = await _http(
            live, admin, DEACTIVATE, {"id": global_id(PortalUserNode, second_admin)}
        )
        assert deactivated["deactivateUser"]["userErrors"] == []
        live.publish(world.results.subscribed)

        # then it is not delivered: the socket is closed as forbidden
        assert await close_code(connection) == FORBIDDEN
    await live.wait_for_subscribers(0)


async def test_an_operation_sent_after_the_session_ended_is_refused(
    live: LiveApp,
    tokens: TokenService,
    world: World,
    sign_in_session: uuid.UUID,
    engine: AsyncEngine,
) -> None:
    token = mint(tokens, SubjectKind.USER, world.acme_admin.id, session_id=sign_in_session)
    name = f"after logout {uuid.uuid4().hex[:8]}"
    # given an admin's socket that runs queries
    async with acknowledged(live, bearer(token)) as connection:
        await start(connection, "1", "{ viewer { email } }")
        assert (await answer(connection, "1"))["data"]["viewer"]["email"] == world.acme_admin.email

        # when the admin logs out elsewhere and the socket then asks to create an API client
        assert (await _http(live, token, LOGOUT))["logout"]["userErrors"] == []
        await start(
            connection,
            "2",
            CREATE_API_CLIENT,
            {"input": {"name": name, "scopes": ["account:read"]}},
        )

        # then the socket is closed as forbidden without an answer
        assert await close_code(connection) == FORBIDDEN
    # and no API client was created
    async with AsyncSession(engine) as session:
        set_scope(session, AccountScope.everything())
        created = await session.scalar(
            sa.select(sa.func.count()).select_from(ApiClient).where(col(ApiClient.name) == name)
        )
    assert created == 0


async def test_a_query_after_a_delivered_event_reads_its_own_rows(
    live: LiveApp, tokens: TokenService, world: World
) -> None:
    admin = mint(tokens, SubjectKind.USER, world.acme_admin.id)
    document = world.results.subscribed
    # given a subscribed admin who received a document with its employee
    async with subscribed(live, bearer(admin)) as connection:
        await live.wait_for_subscribers(1)
        live.publish(document)
        last_name = (await delivered(connection))["employee"]["lastName"]

        # when the same socket then queries that document's employee
        await start(connection, "2", DOCUMENT_EMPLOYEE, {"id": gid(document)})

        # then it is answered (each operation has its own session and loaders)
        result = await answer(connection, "2")
        assert "errors" not in result, result
        assert result["data"]["node"] == {"id": gid(document), "employee": {"lastName": last_name}}

        # and the subscription still delivers afterwards
        live.publish(document)
        assert (await delivered(connection))["employee"]["lastName"] == last_name


async def test_a_scope_withdrawn_while_subscribed_ends_the_subscription(
    live: LiveApp, tokens: TokenService, world: World, engine: AsyncEngine
) -> None:
    client = world.acme_client
    token = mint(tokens, SubjectKind.CLIENT, client.id, "account:read", "documents:read")

    async def set_scopes(scopes: list[str]) -> None:
        async with AsyncSession(engine) as session:
            set_scope(session, AccountScope.everything())
            await session.execute(
                sa.update(ApiClient).where(col(ApiClient.id) == client.id).values(scopes=scopes)
            )
            await session.commit()

    # given Acme's HR system subscribed with documents:read, receiving documents
    async with subscribed(live, bearer(token)) as connection:
        await live.wait_for_subscribers(1)
        live.publish(world.results.subscribed)
        assert (await delivered(connection))["id"] == gid(world.results.subscribed)

        # when its admin narrows the client to account:read and a document is posted
        await set_scopes(["account:read"])
        try:
            live.publish(world.results.subscribed)

            # then the subscription ends with FORBIDDEN instead of the document
            message = await receive(connection)
            assert message["type"] == "next", message
            assert message["payload"]["data"] is None, message
            codes = [error["extensions"]["code"] for error in message["payload"]["errors"]]
            assert codes == ["FORBIDDEN"]
            assert await receive(connection) == {"id": "1", "type": "complete"}
        finally:
            await set_scopes(list(client.scopes))
    await live.wait_for_subscribers(0)
