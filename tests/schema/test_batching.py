"""Nested objects come from per-request batch loaders: a bigger page costs no more statements."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.passwords import hash_password
from portal.models import Contact, PortalUser
from portal.models.enums import Role, UserStatus
from tests.conftest import StatementCounter
from tests.support.graphql import GraphQLClient
from tests.support.world import World

CONTACTS = """
query ($first: Int!) {
  account {
    contacts(first: $first) {
      totalCount
      nodes { workEmail role portalAccess { status lastLoginAt } }
    }
  }
}
"""


async def _add_people(db: AsyncSession, world: World, count: int) -> None:
    password_hash = hash_password("irrelevant but long enough 123")
    for n in range(count):
        contact = Contact(
            account_id=world.acme.id,
            first_name=f"Person{n}",
            last_name="Batch",
            work_email=f"person{n}.{uuid.uuid4().hex[:6]}@acme.example",
        )
        db.add(contact)
        await db.flush()
        if n % 2 == 0:
            db.add(
                PortalUser(
                    contact_id=contact.id,
                    account_id=world.acme.id,
                    email=contact.work_email,
                    role=Role.BASIC,
                    status=UserStatus.ACTIVE,
                    password_hash=password_hash,
                )
            )
    await db.commit()


async def test_a_page_of_50_costs_the_same_statements_as_a_page_of_5(
    db: AsyncSession, world: World, admin_client: GraphQLClient, count_queries: StatementCounter
) -> None:
    # given an account with more than 50 contacts, half of them with a login
    await _add_people(db, world, 60)

    # when a page of 5 and a page of 50 are asked for, each with nested roles and access
    count_queries.reset()
    small = (await admin_client(CONTACTS, {"first": 5})).ok()
    small_statements = count_queries.count
    count_queries.reset()
    large = (await admin_client(CONTACTS, {"first": 50})).ok()
    large_statements = count_queries.count

    # then both cost the same, small, fixed number of statements
    assert len(small["account"]["contacts"]["nodes"]) == 5
    assert len(large["account"]["contacts"]["nodes"]) == 50
    assert large_statements == small_statements
    # principal (scope, user, permissions, account family), scope, account, page, roles, count
    assert large_statements <= 9, count_queries.statements
