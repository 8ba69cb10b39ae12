"""Two admins deactivating each other's contact at the same moment, on separate connections: the
last-active-User-Admin rule of user management holds for contacts too."""

from __future__ import annotations

import asyncio

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col
from starlette.applications import Starlette

from portal.auth.tokens import SubjectKind, TokenService
from portal.models import PortalUser
from portal.models.db import AccountScope, set_scope
from portal.schema.accounts import Contact as ContactNode
from portal.schema.relay import global_id
from tests.schema.users.test_last_admin_race import (
    RaceAccount,
    _active_admins,
    race_account,
    separate_app,
)
from tests.support.graphql import GraphQLClient

__all__ = ["race_account", "separate_app"]

DEACTIVATE_CONTACT = """
mutation ($id: ID!) {
  deactivateContact(input: {id: $id}) { contact { isActive } userErrors { code } }
}
"""


async def test_two_admins_deactivating_each_others_contact_leave_one_admin(
    race_account: RaceAccount, separate_app: Starlette, engine: AsyncEngine
) -> None:
    async with AsyncSession(engine) as session:
        set_scope(session, AccountScope.everything())
        rows = await session.execute(
            sa.select(col(PortalUser.id), col(PortalUser.contact_id)).where(
                col(PortalUser.account_id) == race_account.account_id
            )
        )
        contacts = {row[0]: row[1] for row in rows}
    tokens: TokenService = separate_app.state.tokens
    transport = httpx.ASGITransport(app=separate_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        first = GraphQLClient(
            http, tokens.mint(kind=SubjectKind.USER, subject_id=race_account.first)[0]
        )
        second = GraphQLClient(
            http, tokens.mint(kind=SubjectKind.USER, subject_id=race_account.second)[0]
        )
        # When each admin deactivates the other's contact at the same moment
        answers = await asyncio.gather(
            first(
                DEACTIVATE_CONTACT, {"id": global_id(ContactNode, contacts[race_account.second])}
            ),
            second(
                DEACTIVATE_CONTACT, {"id": global_id(ContactNode, contacts[race_account.first])}
            ),
        )
    # Then exactly one succeeds, and the account keeps one active User Admin
    payloads = [answer.ok()["deactivateContact"] for answer in answers]
    assert sorted(bool(p["userErrors"]) for p in payloads) == [False, True], payloads
    [refused] = [p for p in payloads if p["userErrors"]]
    assert refused["userErrors"][0]["code"] in {"BAD_USER_INPUT", "FORBIDDEN"}
    assert await _active_admins(engine, race_account.account_id) == 1
