"""Access requests over HTTP: staff ask, the account's User Admins are emailed (real SMTP), a
User Admin approves (the invitation goes out) or declines; staff enable access no other way."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from portal.models import AccessRequest, Contact, PortalUser
from portal.models.enums import AccessRequestStatus, UserStatus
from portal.schema.accounts import Account as AccountNode
from portal.schema.accounts import Contact as ContactNode
from portal.schema.relay import global_id
from portal.settings import Settings
from tests.schema.accounts.conftest import ERRORS, audit_events, user_errors
from tests.support.accounts import deliver_mail
from tests.support.graphql import GraphQLClient, assert_forbidden, assert_unauthenticated
from tests.support.mail import Inbox, body_of
from tests.support.world import World

REQUEST = f"""
mutation ($contactId: ID!, $role: UserRole!, $note: String) {{
  requestPortalAccess(input: {{contactId: $contactId, role: $role, note: $note}}) {{
    accessRequest {{ id status requestedRole note contact {{ workEmail }} account {{ name }} }}
    {ERRORS}
  }}
}}
"""
APPROVE = f"""
mutation ($id: ID!) {{
  approveAccessRequest(input: {{id: $id}}) {{
    accessRequest {{ id status decidedAt }}
    {ERRORS}
  }}
}}
"""
DECLINE = f"""
mutation ($id: ID!, $note: String) {{
  declineAccessRequest(input: {{id: $id, note: $note}}) {{
    accessRequest {{ id status decisionNote }} {ERRORS}
  }}
}}
"""
PENDING = """
query ($account: ID!) {
  account(id: $account) {
    accessRequests(status: PENDING) { totalCount nodes { id requestedRole contact { firstName } } }
  }
}
"""
NEW_EMAIL = "erin.cho@acme.example"


@pytest.fixture
async def newcomer(db: AsyncSession, world: World) -> Contact:
    contact = Contact(
        account_id=world.acme.id, first_name="Erin", last_name="Cho", work_email=NEW_EMAIL
    )
    db.add(contact)
    await db.commit()
    return contact


async def ask(
    staff_client: GraphQLClient, contact: Contact, role: str = "BASIC", note: str | None = None
) -> dict[str, Any]:
    variables = {"contactId": global_id(ContactNode, contact.id), "role": role, "note": note}
    payload: dict[str, Any] = (await staff_client(REQUEST, variables)).ok()["requestPortalAccess"]
    return payload


async def pending_request(staff_client: GraphQLClient, contact: Contact) -> str:
    payload = await ask(staff_client, contact, "USER_ADMIN", "Asked by phone on Monday")
    assert payload["userErrors"] == []
    request_id: str = payload["accessRequest"]["id"]
    return request_id


async def test_the_whole_access_request_flow(
    staff_client: GraphQLClient,
    admin_client: GraphQLClient,
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
    newcomer: Contact,
    world: World,
) -> None:
    # When support asks to enable the contact's access as a User Admin
    payload = await ask(staff_client, newcomer, "USER_ADMIN", "Asked by phone on Monday")
    # Then a pending request exists and no login yet
    assert payload["userErrors"] == []
    request = payload["accessRequest"]
    assert (request["status"], request["requestedRole"]) == ("PENDING", "USER_ADMIN")
    assert request["contact"] == {"workEmail": NEW_EMAIL}
    assert request["account"] == {"name": "Acme Logistics"}
    assert await db.scalar(sa.select(PortalUser).where(col(PortalUser.email) == NEW_EMAIL)) is None
    # And the account's active User Admin is emailed (nobody else)
    assert await deliver_mail(sessionmaker, mail_settings) == 1
    [message] = inbox.to("admin@acme.example")
    assert "Erin Cho" in body_of(message)
    assert "/account/access-requests" in body_of(message)
    # And the admin sees it among the account's pending requests
    pending = (await admin_client(PENDING, {"account": global_id(AccountNode, world.acme.id)})).ok()
    assert pending["account"]["accessRequests"]["totalCount"] == 1
    # When the admin approves
    approved = (await admin_client(APPROVE, {"id": request["id"]})).ok()["approveAccessRequest"]
    # Then the request is approved and the contact invited with the requested role
    assert approved["userErrors"] == []
    assert approved["accessRequest"]["status"] == "APPROVED"
    access = (
        "query ($id: ID!) { node(id: $id) { ... on Contact { portalAccess { role status } } } }"
    )
    node = (await admin_client(access, {"id": global_id(ContactNode, newcomer.id)})).ok()["node"]
    assert node["portalAccess"] == {"role": "USER_ADMIN", "status": "INVITED"}
    # And the invitation goes to the contact, and support is told
    assert await deliver_mail(sessionmaker, mail_settings) == 2
    assert "accept-invitation#token=" in body_of(inbox.to(NEW_EMAIL)[0])
    assert "approved" in body_of(inbox.to("support@portal.example")[0])
    [event] = await audit_events(db, "access_request.approved")
    assert event.account_id == world.acme.id
    assert event.details["before"] == {"status": "PENDING"}
    assert event.details["after"]["status"] == "APPROVED"


async def test_an_admin_declines_with_a_reason(
    staff_client: GraphQLClient,
    admin_client: GraphQLClient,
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
    newcomer: Contact,
) -> None:
    request_id = await pending_request(staff_client, newcomer)
    assert await deliver_mail(sessionmaker, mail_settings) == 1  # the admin's notice
    result = (await admin_client(DECLINE, {"id": request_id, "note": "Left the company"})).ok()
    payload = result["declineAccessRequest"]
    assert payload["userErrors"] == []
    assert payload["accessRequest"]["status"] == "DECLINED"
    assert payload["accessRequest"]["decisionNote"] == "Left the company"
    assert await db.scalar(sa.select(PortalUser).where(col(PortalUser.email) == NEW_EMAIL)) is None
    # Support is told, and no invitation goes out
    assert await deliver_mail(sessionmaker, mail_settings) == 1
    [told] = inbox.to("support@portal.example")
    assert "declined" in body_of(told)
    assert inbox.to(NEW_EMAIL) == []


@pytest.mark.parametrize("first", ["approve", "decline"])
async def test_a_decided_request_stays_decided(
    first: str, staff_client: GraphQLClient, admin_client: GraphQLClient, newcomer: Contact
) -> None:
    request_id = await pending_request(staff_client, newcomer)
    await admin_client(APPROVE if first == "approve" else DECLINE, {"id": request_id})
    for query, name in ((APPROVE, "approveAccessRequest"), (DECLINE, "declineAccessRequest")):
        payload = (await admin_client(query, {"id": request_id})).ok()[name]
        assert user_errors(payload) == [("id", "ACCESS_REQUEST_DECIDED")]


async def test_one_pending_request_per_contact(
    staff_client: GraphQLClient, db: AsyncSession, newcomer: Contact
) -> None:
    await pending_request(staff_client, newcomer)
    payload = await ask(staff_client, newcomer)
    assert user_errors(payload) == [("contactId", "ACCESS_REQUEST_PENDING")]
    count = await db.scalar(sa.select(sa.func.count()).select_from(AccessRequest))
    assert count == 1


async def test_no_request_for_a_contact_with_an_active_login(
    staff_client: GraphQLClient, world: World
) -> None:
    contact = Contact(
        id=world.acme_basic.contact_id,
        account_id=world.acme.id,
        first_name="",
        last_name="",
        work_email="basic@acme.example",
    )
    payload = await ask(staff_client, contact)
    assert user_errors(payload) == [("contactId", "USER_ALREADY_ACTIVE")]


async def test_no_request_for_an_unknown_contact_or_a_long_note(
    staff_client: GraphQLClient, newcomer: Contact
) -> None:
    unknown = Contact(
        id=uuid.uuid4(),
        account_id=newcomer.account_id,
        first_name="",
        last_name="",
        work_email="x@x.example",
    )
    assert user_errors(await ask(staff_client, unknown)) == [("contactId", "NOT_FOUND")]
    assert user_errors(await ask(staff_client, newcomer, note="n" * 1500)) == [
        ("note", "BAD_USER_INPUT")
    ]


async def test_another_accounts_admin_cannot_decide(
    staff_client: GraphQLClient,
    globex_client: GraphQLClient,
    tpa_client: GraphQLClient,
    db: AsyncSession,
    newcomer: Contact,
) -> None:
    request_id = await pending_request(staff_client, newcomer)
    for client in (globex_client, tpa_client):
        for query, name in ((APPROVE, "approveAccessRequest"), (DECLINE, "declineAccessRequest")):
            payload = (await client(query, {"id": request_id})).ok()[name]
            assert user_errors(payload) == [("id", "NOT_FOUND")]
    row = await db.scalar(sa.select(AccessRequest).execution_options(populate_existing=True))
    assert row is not None
    assert row.status is AccessRequestStatus.PENDING


@pytest.mark.parametrize("actor", ["basic", "api_client", "staff", "provider_client"])
async def test_others_may_not_decide(
    actor: str,
    clients: dict[str, GraphQLClient],
    staff_client: GraphQLClient,
    newcomer: Contact,
) -> None:
    request_id = await pending_request(staff_client, newcomer)
    for query, name in ((APPROVE, "approveAccessRequest"), (DECLINE, "declineAccessRequest")):
        assert_forbidden(await clients[actor](query, {"id": request_id}), [name])
        assert_unauthenticated(await clients["anonymous"](query, {"id": request_id}))


@pytest.mark.parametrize("actor", ["admin", "globex", "basic", "api_client", "provider_client"])
async def test_only_staff_request_access(
    actor: str, clients: dict[str, GraphQLClient], newcomer: Contact
) -> None:
    variables = {"contactId": global_id(ContactNode, newcomer.id), "role": "BASIC"}
    assert_forbidden(await clients[actor](REQUEST, variables), ["requestPortalAccess"])
    assert_unauthenticated(await clients["anonymous"](REQUEST, variables))


async def test_staff_enable_access_no_other_way(
    staff_client: GraphQLClient, db: AsyncSession, world: World, newcomer: Contact
) -> None:
    # Inviting and reactivating are User Admin mutations: staff are refused both
    invite = (
        "mutation ($id: ID!) { inviteUser(input: {contactId: $id, role: BASIC}) "
        "{ userErrors { code } } }"
    )
    assert_forbidden(
        await staff_client(invite, {"id": global_id(ContactNode, newcomer.id)}), ["inviteUser"]
    )
    reactivate = (
        "mutation ($id: ID!) { reactivateUser(input: {userId: $id}) { userErrors { code } } }"
    )
    from portal.schema.users import PortalUser as PortalUserNode

    response = await staff_client(
        reactivate, {"id": global_id(PortalUserNode, world.acme_deactivated.id)}
    )
    assert_forbidden(response, ["reactivateUser"])
    gone = await db.get(PortalUser, world.acme_deactivated.id, populate_existing=True)
    assert gone is not None
    assert gone.status is UserStatus.DEACTIVATED


async def test_access_requests_are_not_for_basic_users(
    basic_client: GraphQLClient, world: World
) -> None:
    response = await basic_client(PENDING, {"account": global_id(AccountNode, world.acme.id)})
    assert_forbidden(response, ["account", "accessRequests"])


async def test_no_request_for_an_inactive_contact(
    staff_client: GraphQLClient, db: AsyncSession, newcomer: Contact
) -> None:
    newcomer.is_active = False
    db.add(newcomer)
    await db.commit()
    assert user_errors(await ask(staff_client, newcomer)) == [("contactId", "BAD_USER_INPUT")]


async def test_approving_for_a_contact_who_meanwhile_got_a_login_changes_nothing(
    staff_client: GraphQLClient,
    admin_client: GraphQLClient,
    db: AsyncSession,
    newcomer: Contact,
    world: World,
) -> None:
    # Given a pending request, and the contact meanwhile got an active login another way
    request_id = await pending_request(staff_client, newcomer)
    db.add(
        PortalUser(
            contact_id=newcomer.id,
            account_id=world.acme.id,
            email=NEW_EMAIL,
            status=UserStatus.ACTIVE,
            password_hash="x" * 60,
        )
    )
    await db.commit()
    # When the admin approves, Then it is refused and the request stays pending
    payload = (await admin_client(APPROVE, {"id": request_id})).ok()["approveAccessRequest"]
    assert user_errors(payload) == [("id", "USER_ALREADY_ACTIVE")]
    row = await db.scalar(sa.select(AccessRequest).execution_options(populate_existing=True))
    assert row is not None
    assert row.status is AccessRequestStatus.PENDING
