"""`inviteUser` and `acceptInvitation` end to end; the link comes from a real SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from portal.models import Account, AuditEvent, Contact, OneTimeToken, PortalUser
from portal.models.enums import Role, UserStatus
from portal.schema.accounts import Contact as ContactNode
from portal.schema.relay import global_id
from portal.settings import Settings
from tests.support.accounts import deliver_mail, login, viewer_email
from tests.support.graphql import GraphQLClient, assert_forbidden, assert_unauthenticated
from tests.support.mail import Inbox, body_of, token_in
from tests.support.world import World

INVITE = """
mutation Invite($contactId: ID!, $role: UserRole!) {
  inviteUser(input: {contactId: $contactId, role: $role}) {
    contact { id workEmail portalAccess { role status } }
    userErrors { field code message }
  }
}
"""
ACCEPT = """
mutation Accept($token: String!, $password: String!) {
  acceptInvitation(input: {token: $token, password: $password}) {
    accessToken refreshToken expiresIn userErrors { field code message }
  }
}
"""
NEW_EMAIL = "dana.lopez@acme.example"
PASSWORD = "orchard ladder by the river"


async def add_contact(db: AsyncSession, account: Account, email: str) -> Contact:
    contact = Contact(account_id=account.id, first_name="Dana", last_name="Lopez", work_email=email)
    db.add(contact)
    await db.commit()
    return contact


@pytest.fixture
async def newcomer(db: AsyncSession, world: World) -> Contact:
    """A contact of Acme without a login."""
    return await add_contact(db, world.acme, NEW_EMAIL)


async def invite(client: GraphQLClient, contact: Contact, role: str = "BASIC") -> dict[str, Any]:
    variables = {"contactId": global_id(ContactNode, contact.id), "role": role}
    result: dict[str, Any] = (await client(INVITE, variables)).ok()["inviteUser"]
    return result


async def accept(client: GraphQLClient, token: str, password: str = PASSWORD) -> dict[str, Any]:
    result: dict[str, Any] = (await client(ACCEPT, {"token": token, "password": password})).ok()[
        "acceptInvitation"
    ]
    return result


async def invitation_token(
    admin_client: GraphQLClient,
    contact: Contact,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
) -> str:
    assert (await invite(admin_client, contact))["userErrors"] == []
    assert await deliver_mail(sessionmaker, mail_settings) == 1
    return token_in(inbox.to(contact.work_email)[-1])


async def test_the_whole_invitation_flow(
    admin_client: GraphQLClient,
    anonymous_client: GraphQLClient,
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
    newcomer: Contact,
    world: World,
) -> None:
    # When a User Admin invites a contact of the account
    result = await invite(admin_client, newcomer, "USER_ADMIN")
    # Then the contact has an INVITED login with that role
    assert result["userErrors"] == []
    assert result["contact"]["workEmail"] == NEW_EMAIL
    assert result["contact"]["portalAccess"] == {"role": "USER_ADMIN", "status": "INVITED"}
    # And an email with a set-password link valid 72 hours arrives
    assert await deliver_mail(sessionmaker, mail_settings) == 1
    [message] = inbox.to(NEW_EMAIL)
    assert f"{mail_settings.public_url}/accept-invitation#token=" in body_of(message)
    [stored] = (await db.execute(sa.select(OneTimeToken))).scalars().all()
    assert stored.expires_at - stored.created_at == timedelta(hours=72)
    # When the invited person accepts with a password
    signed_in = await accept(anonymous_client, token_in(message))
    # Then they are signed in like after `login`, and the login is ACTIVE
    assert signed_in["userErrors"] == []
    assert signed_in["expiresIn"] == 15 * 60
    assert await viewer_email(anonymous_client, signed_in["accessToken"]) == NEW_EMAIL
    user = (
        await db.execute(
            sa.select(PortalUser).where(col(PortalUser.contact_id) == newcomer.id),
            execution_options={"populate_existing": True},
        )
    ).scalar_one()
    assert (user.status, user.role, user.account_id) == (
        UserStatus.ACTIVE,
        Role.USER_ADMIN,
        world.acme.id,
    )
    # And the password works for later sign-ins
    assert (await login(anonymous_client, NEW_EMAIL, PASSWORD))["userErrors"] == []
    # And accepting is audited
    accepted = await db.scalar(
        sa.select(AuditEvent).where(col(AuditEvent.action) == "user.invitation_accepted")
    )
    assert accepted is not None
    assert accepted.account_id == world.acme.id


async def test_inviting_is_audited(
    admin_client: GraphQLClient, db: AsyncSession, newcomer: Contact, world: World
) -> None:
    # (Only userErrors selected: in tests every session shares one connection, and a field read
    # after the commit would open a savepoint whose rollback also drops the audit row.)
    response = await admin_client(
        "mutation($id: ID!) { inviteUser(input: {contactId: $id, role: BASIC}) "
        "{ userErrors { code } } }",
        {"id": global_id(ContactNode, newcomer.id)},
    )
    assert response.ok()["inviteUser"]["userErrors"] == []
    event = await db.scalar(sa.select(AuditEvent).where(col(AuditEvent.action) == "user.invited"))
    assert event is not None
    assert event.account_id == world.acme.id
    assert event.actor_id == world.acme_admin.id
    assert str(newcomer.id) in event.object_ids


async def test_the_link_works_once(
    admin_client: GraphQLClient,
    anonymous_client: GraphQLClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
    newcomer: Contact,
) -> None:
    token = await invitation_token(admin_client, newcomer, sessionmaker, mail_settings, inbox)
    assert (await accept(anonymous_client, token))["userErrors"] == []
    again = await accept(anonymous_client, token, "a different long passphrase")
    assert [(e["field"], e["code"]) for e in again["userErrors"]] == [("token", "INVALID_TOKEN")]
    assert again["accessToken"] is None


async def test_an_expired_invitation_is_refused(
    admin_client: GraphQLClient,
    anonymous_client: GraphQLClient,
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
    newcomer: Contact,
) -> None:
    token = await invitation_token(admin_client, newcomer, sessionmaker, mail_settings, inbox)
    past = datetime.now(UTC) - timedelta(hours=73)
    await db.execute(
        sa.update(OneTimeToken).values(created_at=past - timedelta(hours=72), expires_at=past)
    )
    await db.commit()
    result = await accept(anonymous_client, token)
    assert [e["code"] for e in result["userErrors"]] == ["INVALID_TOKEN"]


async def test_inviting_again_sends_a_fresh_link_and_voids_the_old(
    admin_client: GraphQLClient,
    anonymous_client: GraphQLClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
    newcomer: Contact,
) -> None:
    first = await invitation_token(admin_client, newcomer, sessionmaker, mail_settings, inbox)
    second = await invitation_token(admin_client, newcomer, sessionmaker, mail_settings, inbox)
    assert first != second
    assert [e["code"] for e in (await accept(anonymous_client, first))["userErrors"]] == [
        "INVALID_TOKEN"
    ]
    assert (await accept(anonymous_client, second))["userErrors"] == []


async def test_accepting_checks_the_password_policy(
    admin_client: GraphQLClient,
    anonymous_client: GraphQLClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
    newcomer: Contact,
) -> None:
    token = await invitation_token(admin_client, newcomer, sessionmaker, mail_settings, inbox)
    refused = await accept(anonymous_client, token, "dana.lopez is my password")
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        ("password", "PASSWORD_CONTAINS_EMAIL")
    ]
    assert refused["accessToken"] is None
    # The link still works with an acceptable password
    assert (await accept(anonymous_client, token))["userErrors"] == []


async def test_a_contact_with_an_active_login_cannot_be_invited(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    basic_contact = await db.get(Contact, world.acme_basic.contact_id)
    assert basic_contact is not None
    result = await invite(admin_client, basic_contact)
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [
        ("contactId", "USER_ALREADY_ACTIVE")
    ]
    assert result["contact"] is None


async def test_a_contact_of_another_account_answers_like_an_unknown_id(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # Given a contact of Globex, and an id no contact has
    stranger = await add_contact(db, world.globex, "pat.kim@globex.example")
    unknown = Contact(
        account_id=world.acme.id, first_name="No", last_name="One", work_email="no@x.example"
    )
    # When Acme's User Admin invites either
    other = await invite(admin_client, stranger)
    missing = await invite(admin_client, unknown)
    # Then both answers are the same NOT_FOUND, and nothing was written
    assert other == missing
    assert [e["code"] for e in other["userErrors"]] == ["NOT_FOUND"]
    assert (
        await db.scalar(sa.select(PortalUser).where(col(PortalUser.contact_id) == stranger.id))
    ) is None
    assert (await db.execute(sa.select(OneTimeToken))).scalars().all() == []


async def test_a_tpa_admin_cannot_invite_into_a_client_account(
    tpa_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    client_contact = await add_contact(db, world.contoso, "lee.park@contoso.example")
    result = await invite(tpa_client, client_contact)
    assert [e["code"] for e in result["userErrors"]] == ["NOT_FOUND"]


async def test_a_malformed_contact_id_is_bad_input(admin_client: GraphQLClient) -> None:
    response = await admin_client(INVITE, {"contactId": "nonsense", "role": "BASIC"})
    errors = response.ok()["inviteUser"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [("contactId", "BAD_USER_INPUT")]


async def test_basic_users_api_clients_and_staff_cannot_invite(
    basic_client: GraphQLClient,
    api_client: GraphQLClient,
    staff_client: GraphQLClient,
    db: AsyncSession,
    newcomer: Contact,
) -> None:
    variables = {"contactId": global_id(ContactNode, newcomer.id), "role": "USER_ADMIN"}
    for client in (basic_client, api_client, staff_client):
        # When someone other than a User Admin invites
        response = await client(INVITE, variables)
        # Then it is FORBIDDEN and nothing was written
        assert_forbidden(response)
        assert response.data is None or response.data.get("inviteUser") is None
    assert (await db.execute(sa.select(OneTimeToken))).scalars().all() == []
    assert (
        await db.scalar(sa.select(PortalUser).where(col(PortalUser.contact_id) == newcomer.id))
    ) is None


async def test_anonymous_callers_cannot_invite(
    anonymous_client: GraphQLClient, newcomer: Contact
) -> None:
    variables = {"contactId": global_id(ContactNode, newcomer.id), "role": "BASIC"}
    assert_unauthenticated(await anonymous_client(INVITE, variables))
