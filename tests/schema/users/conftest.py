"""Extra people for user-management tests: a second Acme User Admin, with a client of their own."""

from __future__ import annotations

import uuid

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.passwords import hash_password
from portal.auth.tokens import SubjectKind, TokenService
from portal.models import Contact, PortalUser
from portal.models.enums import Role, UserStatus
from tests.support.graphql import GraphQLClient
from tests.support.world import PASSWORD, World


async def add_user(
    db: AsyncSession, world: World, email: str, role: Role, *, account_id: uuid.UUID | None = None
) -> PortalUser:
    account = account_id or world.acme.id
    contact = Contact(account_id=account, first_name="Extra", last_name="Person", work_email=email)
    db.add(contact)
    await db.flush()
    user = PortalUser(
        contact_id=contact.id,
        account_id=account,
        email=email,
        role=role,
        status=UserStatus.ACTIVE,
        password_hash=hash_password(PASSWORD),
    )
    db.add(user)
    await db.commit()
    return user


@pytest.fixture
async def second_admin(db: AsyncSession, world: World) -> PortalUser:
    return await add_user(db, world, "second.admin@acme.example", Role.USER_ADMIN)


@pytest.fixture
def second_admin_client(
    http: httpx.AsyncClient, tokens: TokenService, second_admin: PortalUser
) -> GraphQLClient:
    token, _ = tokens.mint(kind=SubjectKind.USER, subject_id=second_admin.id)
    return GraphQLClient(http, token)


@pytest.fixture
def clients(
    anonymous_client: GraphQLClient,
    admin_client: GraphQLClient,
    basic_client: GraphQLClient,
    visits_client: GraphQLClient,
    globex_client: GraphQLClient,
    tpa_client: GraphQLClient,
    staff_client: GraphQLClient,
    api_client: GraphQLClient,
    provider_client: GraphQLClient,
    webhooks_api_client: GraphQLClient,
) -> dict[str, GraphQLClient]:
    """Every role's client by actor name (parametrized tests pick one by name)."""
    return {
        "anonymous": anonymous_client,
        "admin": admin_client,
        "basic": basic_client,
        "visits": visits_client,
        "globex": globex_client,
        "tpa": tpa_client,
        "staff": staff_client,
        "api_client": api_client,
        "provider_client": provider_client,
        "webhooks_client": webhooks_api_client,
    }
