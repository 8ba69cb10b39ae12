"""Contacts over HTTP: `addContact`, `updateContact` (with a login's email change, read from a
real SMTP server), `deactivateContact`, `confirmEmailChange`."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from portal.models import Contact, PortalUser
from portal.models.enums import Role, UserStatus
from portal.schema.accounts import Account as AccountNode
from portal.schema.accounts import Contact as ContactNode
from portal.schema.relay import global_id
from portal.schema.users import PortalUser as PortalUserNode
from portal.settings import Settings
from tests.schema.accounts.conftest import ERRORS, audit_events, user_errors
from tests.schema.users.conftest import add_user
from tests.support.accounts import deliver_mail, login, viewer_email
from tests.support.graphql import GraphQLClient, assert_forbidden, assert_unauthenticated
from tests.support.mail import Inbox, body_of, token_in
from tests.support.world import PASSWORD, World

ADD_CONTACT = f"""
mutation ($input: AddContactInput!) {{
  addContact(input: $input) {{
    contact {{ id firstName lastName workEmail phone title isActive }}
    {ERRORS}
  }}
}}
"""
UPDATE_CONTACT = f"""
mutation ($input: UpdateContactInput!) {{
  updateContact(input: $input) {{
    contact {{ id firstName workEmail phone title }} loginEmailChange {ERRORS}
  }}
}}
"""
DEACTIVATE_CONTACT = f"""
mutation ($id: ID!) {{
  deactivateContact(input: {{id: $id}}) {{
    contact {{ id isActive }} sessionsEnded {ERRORS}
  }}
}}
"""
CONFIRM = f"""
mutation ($token: String!) {{ confirmEmailChange(input: {{token: $token}}) {{ email {ERRORS} }} }}
"""
NEWCOMER = {"firstName": "Dana", "lastName": "Lopez", "workEmail": "dana.lopez@acme.example"}


def contact_id(value: uuid.UUID) -> str:
    return global_id(ContactNode, value)


async def contact_row(db: AsyncSession, value: uuid.UUID) -> Contact:
    found = await db.get(Contact, value, populate_existing=True)
    assert found is not None
    return found


async def user_row(db: AsyncSession, value: uuid.UUID) -> PortalUser:
    found = await db.get(PortalUser, value, populate_existing=True)
    assert found is not None
    return found


async def acme_contacts(db: AsyncSession, world: World) -> int:
    count = await db.scalar(
        sa.select(sa.func.count()).where(col(Contact.account_id) == world.acme.id)
    )
    return int(count or 0)


# -- addContact --


async def test_admin_adds_a_contact(admin_client: GraphQLClient, db: AsyncSession) -> None:
    variables = {"input": {**NEWCOMER, "phone": "2145550177", "title": "  HR   Manager "}}
    payload = (await admin_client(ADD_CONTACT, variables)).ok()["addContact"]
    assert payload["userErrors"] == []
    contact = payload["contact"]
    assert contact["phone"] == "(214) 555-0177"
    assert contact["title"] == "HR Manager"
    assert contact["isActive"] is True
    [event] = await audit_events(db, "contact.added")
    assert event.details["after"]["workEmail"] == "dana.lopez@acme.example"


async def test_staff_add_a_contact_to_a_named_account(
    staff_client: GraphQLClient, world: World
) -> None:
    variables = {"input": {**NEWCOMER, "accountId": global_id(AccountNode, world.globex.id)}}
    payload = (await staff_client(ADD_CONTACT, variables)).ok()["addContact"]
    query = "query ($id: ID!) { node(id: $id) { ... on Contact { account { name } } } }"
    node = (await staff_client(query, {"id": payload["contact"]["id"]})).ok()["node"]
    assert node["account"] == {"name": "Globex Manufacturing"}


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"workEmail": "BASIC@acme.example"}, "workEmail", "EMAIL_TAKEN"),
        ({"workEmail": "not-an-email"}, "workEmail", "BAD_USER_INPUT"),
        ({"firstName": " "}, "firstName", "BAD_USER_INPUT"),
        ({"phone": "555"}, "phone", "BAD_USER_INPUT"),
        ({"title": "t" * 300}, "title", "BAD_USER_INPUT"),
    ],
)
async def test_bad_contacts_are_refused(
    change: dict[str, Any],
    field: str,
    code: str,
    admin_client: GraphQLClient,
    db: AsyncSession,
    world: World,
) -> None:
    before = await acme_contacts(db, world)
    payload = (await admin_client(ADD_CONTACT, {"input": {**NEWCOMER, **change}})).ok()[
        "addContact"
    ]
    assert user_errors(payload) == [(field, code)]
    assert await acme_contacts(db, world) == before


async def test_the_same_email_in_another_account_is_fine(globex_client: GraphQLClient) -> None:
    variables = {"input": {**NEWCOMER, "workEmail": "basic@acme.example"}}
    payload = (await globex_client(ADD_CONTACT, variables)).ok()["addContact"]
    assert payload["userErrors"] == []


async def test_another_accounts_admin_cannot_add_to_acme(
    globex_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    before = await acme_contacts(db, world)
    variables = {"input": {**NEWCOMER, "accountId": global_id(AccountNode, world.acme.id)}}
    payload = (await globex_client(ADD_CONTACT, variables)).ok()["addContact"]
    assert user_errors(payload) == [("accountId", "NOT_FOUND")]
    assert await acme_contacts(db, world) == before


@pytest.mark.parametrize("actor", ["basic", "api_client", "provider_client"])
async def test_others_may_not_add_or_update_contacts(
    actor: str, clients: dict[str, GraphQLClient], world: World
) -> None:
    assert_forbidden(await clients[actor](ADD_CONTACT, {"input": NEWCOMER}), ["addContact"])
    variables = {"input": {"id": contact_id(world.acme_basic.contact_id), "firstName": "X"}}
    assert_forbidden(await clients[actor](UPDATE_CONTACT, variables), ["updateContact"])
    assert_unauthenticated(await clients["anonymous"](ADD_CONTACT, {"input": NEWCOMER}))
    assert_unauthenticated(await clients["anonymous"](UPDATE_CONTACT, variables))


# -- updateContact --


async def test_admin_updates_a_contact_without_a_login(
    admin_client: GraphQLClient, db: AsyncSession
) -> None:
    added = (await admin_client(ADD_CONTACT, {"input": NEWCOMER})).ok()["addContact"]["contact"]
    variables = {"input": {"id": added["id"], "workEmail": "dana@acme.example", "title": "CFO"}}
    payload = (await admin_client(UPDATE_CONTACT, variables)).ok()["updateContact"]
    assert payload["userErrors"] == []
    assert payload["contact"]["workEmail"] == "dana@acme.example"
    assert payload["loginEmailChange"] is None
    [event] = await audit_events(db, "contact.updated")
    assert event.details["before"] == {"workEmail": "dana.lopez@acme.example", "title": None}
    assert event.details["after"] == {"workEmail": "dana@acme.example", "title": "CFO"}


async def test_a_duplicate_work_email_is_refused(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    variables = {
        "input": {"id": contact_id(world.acme_basic.contact_id), "workEmail": "Visits@Acme.example"}
    }
    payload = (await admin_client(UPDATE_CONTACT, variables)).ok()["updateContact"]
    assert user_errors(payload) == [("workEmail", "EMAIL_TAKEN")]
    assert (await contact_row(db, world.acme_basic.contact_id)).work_email == "basic@acme.example"


async def test_a_login_email_already_used_elsewhere_is_refused(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    variables = {
        "input": {
            "id": contact_id(world.acme_basic.contact_id),
            "workEmail": "admin@globex.example",
        }
    }
    payload = (await admin_client(UPDATE_CONTACT, variables)).ok()["updateContact"]
    assert user_errors(payload) == [("workEmail", "EMAIL_TAKEN")]
    # And the message names no other tenant
    assert "globex" not in payload["userErrors"][0]["message"].lower()
    assert (await user_row(db, world.acme_basic.id)).email == "basic@acme.example"


async def test_unknown_and_foreign_contacts_look_alike(
    globex_client: GraphQLClient, world: World
) -> None:
    for target in (world.acme_basic.contact_id, uuid.uuid4()):
        variables = {"input": {"id": contact_id(target), "firstName": "X"}}
        payload = (await globex_client(UPDATE_CONTACT, variables)).ok()["updateContact"]
        assert user_errors(payload) == [("id", "NOT_FOUND")]


async def test_an_active_users_email_change_needs_confirmation_from_the_new_address(
    admin_client: GraphQLClient,
    anonymous_client: GraphQLClient,
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
    world: World,
) -> None:
    # When the admin changes the work email of the Basic user (who has an active login)
    variables = {
        "input": {
            "id": contact_id(world.acme_basic.contact_id),
            "workEmail": "b.new@acme.example",
        }
    }
    payload = (await admin_client(UPDATE_CONTACT, variables)).ok()["updateContact"]
    # Then the contact has the new email and the login waits for confirmation
    assert payload["userErrors"] == []
    assert payload["loginEmailChange"] == "PENDING_CONFIRMATION"
    user = await user_row(db, world.acme_basic.id)
    assert (user.email, user.pending_email) == ("basic@acme.example", "b.new@acme.example")
    users = (await admin_client("{ account { users { nodes { email pendingEmail } } } }")).ok()
    assert {"email": "basic@acme.example", "pendingEmail": "b.new@acme.example"} in users[
        "account"
    ]["users"]["nodes"]
    # And the old address gets a notice, the new one a confirmation link
    assert await deliver_mail(sessionmaker, mail_settings) == 2
    [notice] = inbox.to("basic@acme.example")
    assert "b.new@acme.example" in body_of(notice)
    assert "#token=" not in body_of(notice)
    [confirmation] = inbox.to("b.new@acme.example")
    assert f"{mail_settings.public_url}/confirm-email#token=" in body_of(confirmation)
    # And until confirmed, the old address still signs in
    assert (await login(anonymous_client, "basic@acme.example", PASSWORD))["userErrors"] == []
    # When the owner confirms from the link
    confirmed = (await anonymous_client(CONFIRM, {"token": token_in(confirmation)})).ok()
    assert confirmed["confirmEmailChange"] == {"email": "b.new@acme.example", "userErrors": []}
    # Then the new address signs in and the old one does not
    signed_in = await login(anonymous_client, "b.new@acme.example", PASSWORD)
    assert await viewer_email(anonymous_client, signed_in["accessToken"]) == "b.new@acme.example"
    old = await login(anonymous_client, "basic@acme.example", PASSWORD)
    assert [e["code"] for e in old["userErrors"]] == ["UNAUTHENTICATED"]
    # And the link works once
    again = (await anonymous_client(CONFIRM, {"token": token_in(confirmation)})).ok()
    assert user_errors(again["confirmEmailChange"]) == [("token", "INVALID_TOKEN")]
    [event] = await audit_events(db, "user.email_changed")
    assert event.account_id == world.acme.id
    assert event.details["after"] == {"email": "b.new@acme.example"}


async def test_an_invited_users_email_change_reinvites_at_the_new_address(
    admin_client: GraphQLClient,
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
) -> None:
    # Given a contact invited to the portal
    added = (await admin_client(ADD_CONTACT, {"input": NEWCOMER})).ok()["addContact"]["contact"]
    invite = (
        "mutation ($id: ID!) { inviteUser(input: {contactId: $id, role: BASIC}) "
        "{ userErrors { code } } }"
    )
    assert (await admin_client(invite, {"id": added["id"]})).ok()["inviteUser"]["userErrors"] == []
    assert await deliver_mail(sessionmaker, mail_settings) == 1
    # When the admin corrects the work email
    variables = {"input": {"id": added["id"], "workEmail": "dana.l@acme.example"}}
    payload = (await admin_client(UPDATE_CONTACT, variables)).ok()["updateContact"]
    # Then the login changes at once and the invitation goes to the new address
    assert payload["loginEmailChange"] == "CHANGED"
    user = (
        await db.execute(
            sa.select(PortalUser).where(col(PortalUser.email) == "dana.l@acme.example")
        )
    ).scalar_one()
    assert user.status is UserStatus.INVITED
    assert await deliver_mail(sessionmaker, mail_settings) == 2
    assert "accept-invitation#token=" in body_of(inbox.to("dana.l@acme.example")[-1])
    assert "dana.l@acme.example" in body_of(inbox.to("dana.lopez@acme.example")[-1])


async def test_a_bad_confirmation_token_is_refused(anonymous_client: GraphQLClient) -> None:
    payload = (await anonymous_client(CONFIRM, {"token": "nope"})).ok()["confirmEmailChange"]
    assert user_errors(payload) == [("token", "INVALID_TOKEN")]


# -- deactivateContact --


async def test_deactivating_a_contact_ends_their_portal_access(
    admin_client: GraphQLClient, anonymous_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # Given the Basic user is signed in
    signed_in = await login(anonymous_client, "basic@acme.example", PASSWORD)
    assert await viewer_email(anonymous_client, signed_in["accessToken"]) == "basic@acme.example"
    # When the admin deactivates their contact
    result = (
        await admin_client(DEACTIVATE_CONTACT, {"id": contact_id(world.acme_basic.contact_id)})
    ).ok()["deactivateContact"]
    # Then the contact and login are deactivated, the session ended, the token refused
    assert result["userErrors"] == []
    assert result["contact"]["isActive"] is False
    assert result["sessionsEnded"] == 1
    assert await viewer_email(anonymous_client, signed_in["accessToken"]) is None
    assert (await user_row(db, world.acme_basic.id)).status is UserStatus.DEACTIVATED
    [event] = await audit_events(db, "contact.deactivated")
    assert event.details["before"] == {"isActive": True}
    assert event.details["after"] == {"isActive": False}


async def test_the_last_active_admin_cannot_be_deactivated(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    result = (
        await admin_client(DEACTIVATE_CONTACT, {"id": contact_id(world.acme_admin.contact_id)})
    ).ok()["deactivateContact"]
    assert user_errors(result) == [("id", "BAD_USER_INPUT")]
    assert "at least one active User Admin" in result["userErrors"][0]["message"]
    assert (await contact_row(db, world.acme_admin.contact_id)).is_active is True


async def test_with_a_second_admin_the_first_may_be_deactivated(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    await add_user(db, world, "second.admin@acme.example", Role.USER_ADMIN)
    result = (
        await admin_client(DEACTIVATE_CONTACT, {"id": contact_id(world.acme_admin.contact_id)})
    ).ok()["deactivateContact"]
    assert result["userErrors"] == []
    assert (await user_row(db, world.acme_admin.id)).status is UserStatus.DEACTIVATED


async def test_unknown_and_foreign_contacts_cannot_be_deactivated(
    globex_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    for target in (world.acme_basic.contact_id, uuid.uuid4()):
        result = (await globex_client(DEACTIVATE_CONTACT, {"id": contact_id(target)})).ok()
        assert user_errors(result["deactivateContact"]) == [("id", "NOT_FOUND")]
    assert (await contact_row(db, world.acme_basic.contact_id)).is_active is True


@pytest.mark.parametrize("actor", ["basic", "api_client", "staff", "provider_client"])
async def test_others_may_not_deactivate_contacts(
    actor: str, clients: dict[str, GraphQLClient], db: AsyncSession, world: World
) -> None:
    variables = {"id": contact_id(world.acme_visits.contact_id)}
    assert_forbidden(await clients[actor](DEACTIVATE_CONTACT, variables), ["deactivateContact"])
    assert_unauthenticated(await clients["anonymous"](DEACTIVATE_CONTACT, variables))
    assert (await contact_row(db, world.acme_visits.contact_id)).is_active is True


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"workEmail": "two@@acme"}, "workEmail"),
        ({"lastName": ""}, "lastName"),
        ({"phone": "99"}, "phone"),
    ],
)
async def test_bad_contact_changes_are_refused_and_nothing_written(
    change: dict[str, Any], field: str, admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    variables = {"input": {"id": contact_id(world.acme_visits.contact_id), "title": "X", **change}}
    payload = (await admin_client(UPDATE_CONTACT, variables)).ok()["updateContact"]
    assert user_errors(payload) == [(field, "BAD_USER_INPUT")]
    assert (await contact_row(db, world.acme_visits.contact_id)).title is None


async def test_staff_change_contact_details_but_not_a_logins_email(
    staff_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # Staff correct a contact's phone and title
    variables = {"input": {"id": contact_id(world.acme_basic.contact_id), "phone": "214-555-0111"}}
    payload = (await staff_client(UPDATE_CONTACT, variables)).ok()["updateContact"]
    assert payload["userErrors"] == []
    assert payload["contact"]["phone"] == "(214) 555-0111"
    # But they cannot point a login at another mailbox: that would enable access without an
    # admin's approval (an invitation or a password reset would follow the new address)
    variables = {
        "input": {"id": contact_id(world.acme_basic.contact_id), "workEmail": "me@support.example"}
    }
    payload = (await staff_client(UPDATE_CONTACT, variables)).ok()["updateContact"]
    assert user_errors(payload) == [("workEmail", "FORBIDDEN")]
    user = await user_row(db, world.acme_basic.id)
    assert (user.email, user.pending_email) == ("basic@acme.example", None)
    assert (await contact_row(db, world.acme_basic.contact_id)).work_email == "basic@acme.example"


async def test_staff_change_the_email_of_a_contact_without_a_login(
    staff_client: GraphQLClient, admin_client: GraphQLClient
) -> None:
    added = (await admin_client(ADD_CONTACT, {"input": NEWCOMER})).ok()["addContact"]["contact"]
    variables = {"input": {"id": added["id"], "workEmail": "dana.new@acme.example"}}
    payload = (await staff_client(UPDATE_CONTACT, variables)).ok()["updateContact"]
    assert payload["userErrors"] == []
    assert payload["contact"]["workEmail"] == "dana.new@acme.example"


async def test_reactivating_the_user_brings_a_deactivated_contact_back(
    admin_client: GraphQLClient, anonymous_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # Given the Basic user's contact was deactivated (login deactivated with it)
    target = {"id": contact_id(world.acme_basic.contact_id)}
    assert (await admin_client(DEACTIVATE_CONTACT, target)).ok()["deactivateContact"][
        "userErrors"
    ] == []
    # When the admin reactivates the user
    reactivate = (
        "mutation ($id: ID!) { reactivateUser(input: {userId: $id}) { userErrors { code } } }"
    )
    user = {"id": global_id(PortalUserNode, world.acme_basic.id)}
    assert (await admin_client(reactivate, user)).ok()["reactivateUser"]["userErrors"] == []
    # Then the contact is active again and the person signs in
    assert (await contact_row(db, world.acme_basic.contact_id)).is_active is True
    assert (await login(anonymous_client, "basic@acme.example", PASSWORD))["userErrors"] == []
