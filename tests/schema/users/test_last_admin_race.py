"""Two admins demoting (or deactivating) each other at the same moment, on separate connections:
the account keeps an active User Admin."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col
from starlette.applications import Starlette

from portal.app import create_app
from portal.auth.passwords import hash_password
from portal.auth.tokens import SubjectKind, TokenService
from portal.models import Account, Contact, PortalUser
from portal.models.db import AccountScope, set_scope
from portal.models.enums import Role, UserStatus
from portal.schema.relay import global_id
from portal.schema.users import PortalUser as PortalUserNode
from portal.settings import Settings
from tests.support.graphql import GraphQLClient
from tests.support.world import PASSWORD, World


@dataclass
class RaceAccount:
    account_id: uuid.UUID
    first: uuid.UUID
    second: uuid.UUID


@pytest.fixture
async def race_account(engine: AsyncEngine, world: World) -> AsyncIterator[RaceAccount]:
    """A committed account with two User Admins (removed afterwards): the requests below run on
    connections of their own, outside the test's rolled-back transaction."""
    async with AsyncSession(engine, expire_on_commit=False) as session:
        set_scope(session, AccountScope.everything())
        account = Account(
            name="Race Co " + uuid.uuid4().hex[:6], account_number=uuid.uuid4().hex[:12]
        )
        session.add(account)
        await session.flush()
        ids = []
        for n in (1, 2):
            email = f"admin{n}.{account.account_number}@race.example"
            contact = Contact(
                account_id=account.id, first_name="Admin", last_name=str(n), work_email=email
            )
            session.add(contact)
            await session.flush()
            user = PortalUser(
                contact_id=contact.id,
                account_id=account.id,
                email=email,
                role=Role.USER_ADMIN,
                status=UserStatus.ACTIVE,
                password_hash=hash_password(PASSWORD),
            )
            session.add(user)
            await session.flush()
            ids.append(user.id)
        await session.commit()
    try:
        yield RaceAccount(account.id, ids[0], ids[1])
    finally:
        async with AsyncSession(engine) as session:
            set_scope(session, AccountScope.everything())
            await session.execute(sa.delete(Account).where(col(Account.id) == account.id))
            await session.commit()


@pytest.fixture
async def separate_app(settings: Settings) -> AsyncIterator[Starlette]:
    """The app with its own engine: every request gets its own pooled connection."""
    app = create_app(settings)
    yield app
    await app.state.engine.dispose()


DEMOTE = """
mutation ($userId: ID!) {
  updateUserRole(input: {userId: $userId, role: BASIC}) { user { role } userErrors { code } }
}
"""
DEACTIVATE = """
mutation ($userId: ID!) {
  deactivateUser(input: {userId: $userId}) { user { status } userErrors { code } }
}
"""


async def _active_admins(engine: AsyncEngine, account_id: uuid.UUID) -> int:
    async with AsyncSession(engine) as session:
        set_scope(session, AccountScope.everything())
        count = await session.scalar(
            sa.select(sa.func.count())
            .select_from(PortalUser)
            .where(
                col(PortalUser.account_id) == account_id,
                col(PortalUser.role) == Role.USER_ADMIN,
                col(PortalUser.status) == UserStatus.ACTIVE,
            )
        )
        return int(count or 0)


@pytest.mark.parametrize("mutation", [DEMOTE, DEACTIVATE], ids=["demote", "deactivate"])
async def test_two_admins_removing_each_other_at_once_leave_one_admin(
    mutation: str, race_account: RaceAccount, separate_app: Starlette, engine: AsyncEngine
) -> None:
    tokens: TokenService = separate_app.state.tokens
    transport = httpx.ASGITransport(app=separate_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        first = GraphQLClient(
            http, tokens.mint(kind=SubjectKind.USER, subject_id=race_account.first)[0]
        )
        second = GraphQLClient(
            http, tokens.mint(kind=SubjectKind.USER, subject_id=race_account.second)[0]
        )
        # When each admin removes the other at the same moment
        answers = await asyncio.gather(
            first(mutation, {"userId": global_id(PortalUserNode, race_account.second)}),
            second(mutation, {"userId": global_id(PortalUserNode, race_account.first)}),
        )
    # Then exactly one succeeds, and the account keeps one active User Admin
    payloads = [next(iter(answer.ok().values())) for answer in answers]
    succeeded = [p for p in payloads if not p["userErrors"]]
    refused = [p for p in payloads if p["userErrors"]]
    assert len(succeeded) == 1, payloads
    assert len(refused) == 1, payloads
    # The loser is either the last admin now, or no longer an admin when its turn came.
    assert refused[0]["userErrors"][0]["code"] in {"BAD_USER_INPUT", "FORBIDDEN"}
    assert await _active_admins(engine, race_account.account_id) == 1
