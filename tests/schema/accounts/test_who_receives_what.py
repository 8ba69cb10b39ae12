"""`Contact.reportSubscriptions` and `Contact.notificationPreferences` (User Admins and staff
for every contact, anyone for their own) and `setNotificationPreferences`."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import NotificationPreference
from portal.schema.accounts import Contact as ContactNode
from portal.schema.relay import global_id
from tests.schema.accounts.conftest import ERRORS, audit_events, user_errors
from tests.support.graphql import GraphQLClient, assert_forbidden, assert_unauthenticated
from tests.support.world import SUBSCRIBED_REPORT_TYPE, World

CONTACT = """
query ($id: ID!) {
  node(id: $id) {
    ... on Contact {
      firstName workEmail
      reportSubscriptions { reportType { code } location { name } }
      notificationPreferences { emailOnNewResults }
    }
  }
}
"""
ALL_CONTACTS = """
{ account { contacts { nodes { workEmail reportSubscriptions { location { name } } } } } }
"""
SET_PREFERENCES = f"""
mutation ($input: SetNotificationPreferencesInput!) {{
  setNotificationPreferences(input: $input) {{
    contact {{ workEmail }} notificationPreferences {{ emailOnNewResults }} {ERRORS}
  }}
}}
"""


def contact_id(value: uuid.UUID) -> str:
    return global_id(ContactNode, value)


@pytest.mark.parametrize("actor", ["admin", "staff"])
async def test_admins_and_staff_read_every_contacts_subscriptions(
    actor: str, clients: dict[str, GraphQLClient], world: World
) -> None:
    node = (await clients[actor](CONTACT, {"id": contact_id(world.acme_basic.contact_id)})).ok()[
        "node"
    ]
    assert node["reportSubscriptions"] == [
        {"reportType": {"code": SUBSCRIBED_REPORT_TYPE}, "location": {"name": "Dallas Hub"}}
    ]
    # A contact who never chose is emailed by default
    assert node["notificationPreferences"] == {"emailOnNewResults": True}


async def test_a_basic_user_reads_their_own(basic_client: GraphQLClient, world: World) -> None:
    node = (await basic_client(CONTACT, {"id": contact_id(world.acme_basic.contact_id)})).ok()[
        "node"
    ]
    assert node["reportSubscriptions"][0]["location"] == {"name": "Dallas Hub"}
    assert node["notificationPreferences"] == {"emailOnNewResults": True}


async def test_a_basic_user_reading_another_contact_gets_null_and_forbidden_there(
    basic_client: GraphQLClient, world: World
) -> None:
    # When a Basic user reads the admin's contact
    response = await basic_client(CONTACT, {"id": contact_id(world.acme_admin.contact_id)})
    # Then the subscriptions and preferences are null with FORBIDDEN at their paths
    assert_forbidden(response, ["node", "reportSubscriptions"])
    assert_forbidden(response, ["node", "notificationPreferences"])
    # And the contact's name still arrives
    assert response.data["node"]["firstName"] == "Admin"
    assert response.data["node"]["workEmail"] == "admin@acme.example"


async def test_in_a_list_a_basic_user_sees_only_their_own_subscriptions(
    basic_client: GraphQLClient,
) -> None:
    response = await basic_client(ALL_CONTACTS)
    nodes = response.data["account"]["contacts"]["nodes"]
    by_email = {node["workEmail"]: node["reportSubscriptions"] for node in nodes}
    assert by_email["basic@acme.example"] == [{"location": {"name": "Dallas Hub"}}]
    assert by_email["admin@acme.example"] is None
    forbidden = [e for e in response.errors if e["extensions"]["code"] == "FORBIDDEN"]
    assert len(forbidden) == len(nodes) - 1


async def test_an_api_client_reads_contacts_but_not_what_they_receive(
    api_client: GraphQLClient, world: World
) -> None:
    response = await api_client(CONTACT, {"id": contact_id(world.acme_basic.contact_id)})
    assert_forbidden(response, ["node", "reportSubscriptions"])
    assert response.data["node"]["workEmail"] == "basic@acme.example"


async def test_another_accounts_admin_sees_no_acme_contact(
    globex_client: GraphQLClient, world: World
) -> None:
    response = await globex_client(CONTACT, {"id": contact_id(world.acme_basic.contact_id)})
    assert response.ok() == {"node": None}


async def test_a_basic_user_turns_off_their_own_emails(
    basic_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    payload = (await basic_client(SET_PREFERENCES, {"input": {"emailOnNewResults": False}})).ok()[
        "setNotificationPreferences"
    ]
    assert payload["userErrors"] == []
    assert payload["contact"] == {"workEmail": "basic@acme.example"}
    assert payload["notificationPreferences"] == {"emailOnNewResults": False}
    row = await db.get(NotificationPreference, world.acme_basic.contact_id, populate_existing=True)
    assert row is not None
    assert row.email_on_new_results is False
    node = (await basic_client(CONTACT, {"id": contact_id(world.acme_basic.contact_id)})).ok()
    assert node["node"]["notificationPreferences"] == {"emailOnNewResults": False}
    [event] = await audit_events(db, "contact.notification_preferences_changed")
    assert event.details == {
        "before": {"emailOnNewResults": True},
        "after": {"emailOnNewResults": False},
    }


async def test_an_admin_sets_another_contacts_preferences(
    admin_client: GraphQLClient, world: World
) -> None:
    variables = {
        "input": {"contactId": contact_id(world.acme_visits.contact_id), "emailOnNewResults": False}
    }
    payload = (await admin_client(SET_PREFERENCES, variables)).ok()["setNotificationPreferences"]
    assert payload["contact"] == {"workEmail": "visits@acme.example"}
    assert payload["notificationPreferences"] == {"emailOnNewResults": False}


async def test_a_basic_user_cannot_set_another_contacts_preferences(
    basic_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    variables = {
        "input": {"contactId": contact_id(world.acme_visits.contact_id), "emailOnNewResults": False}
    }
    payload = (await basic_client(SET_PREFERENCES, variables)).ok()["setNotificationPreferences"]
    assert user_errors(payload) == [("contactId", "NOT_FOUND")]
    assert await db.get(NotificationPreference, world.acme_visits.contact_id) is None


async def test_another_accounts_admin_cannot_set_acme_preferences(
    globex_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    variables = {
        "input": {"contactId": contact_id(world.acme_basic.contact_id), "emailOnNewResults": False}
    }
    payload = (await globex_client(SET_PREFERENCES, variables)).ok()["setNotificationPreferences"]
    assert user_errors(payload) == [("contactId", "NOT_FOUND")]
    assert await db.get(NotificationPreference, world.acme_basic.contact_id) is None


@pytest.mark.parametrize("actor", ["api_client", "staff", "provider_client"])
async def test_others_may_not_set_preferences(
    actor: str, clients: dict[str, GraphQLClient]
) -> None:
    variables = {"input": {"emailOnNewResults": False}}
    assert_forbidden(
        await clients[actor](SET_PREFERENCES, variables), ["setNotificationPreferences"]
    )
    assert_unauthenticated(await clients["anonymous"](SET_PREFERENCES, variables))


def test_a_rule_of_own_records_only_admits_nobody_by_role() -> None:
    from portal.auth.principal import Principal, PrincipalKind, ViewerRole
    from portal.models.enums import Role
    from portal.schema.permissions import rule

    own_only = rule(own_record_roles=(ViewerRole.BASIC,))
    basic = Principal(kind=PrincipalKind.USER, id=uuid.uuid4(), user_role=Role.BASIC)
    assert not own_only.any_authenticated
    assert not own_only.allows(basic)
