"""User management by a User Admin: roles, permissions, subscriptions, deactivation, users."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import AuditEvent, AuthSession, PortalUser, ReportSubscription, ReportType
from portal.models.enums import Role, UserStatus
from portal.schema.accounts import Account, Contact, Location
from portal.schema.catalog import ReportType as ReportTypeNode
from portal.schema.relay import global_id
from portal.schema.users import PortalUser as PortalUserNode
from portal.seed.reference import reference_id
from tests.support.graphql import GraphQLClient, assert_forbidden, assert_unauthenticated
from tests.support.world import PASSWORD, SUBSCRIBED_REPORT_TYPE, World

UPDATE_ROLE = """
mutation ($userId: ID!, $role: UserRole!) {
  updateUserRole(input: {userId: $userId, role: $role}) {
    user { id email role status } userErrors { field code message }
  }
}
"""
SET_PERMISSIONS = """
mutation ($userId: ID!, $permissions: [Permission!]!) {
  setUserPermissions(input: {userId: $userId, permissions: $permissions}) {
    user { id permissions } userErrors { field code message }
  }
}
"""
DEACTIVATE = """
mutation ($userId: ID!) {
  deactivateUser(input: {userId: $userId}) {
    user { id status deactivatedAt } sessionsEnded userErrors { field code message }
  }
}
"""
REACTIVATE = """
mutation ($userId: ID!) {
  reactivateUser(input: {userId: $userId}) { user { id status } userErrors { field code message } }
}
"""
SET_SUBSCRIPTIONS = """
mutation ($contactId: ID!, $subscriptions: [ReportSubscriptionInput!]!) {
  setReportSubscriptions(input: {contactId: $contactId, subscriptions: $subscriptions}) {
    contact { id }
    subscriptions { reportType { code } location { name } }
    userErrors { field code message }
  }
}
"""
USERS = "{ account { users(first: 20) { totalCount nodes { email role status permissions } } } }"


def user_id(user: PortalUser) -> str:
    return global_id(PortalUserNode, user.id)


async def row(db: AsyncSession, user: PortalUser) -> PortalUser:
    found = await db.get(PortalUser, user.id, populate_existing=True)
    assert found is not None
    return found


async def audit_actions(db: AsyncSession, object_id: uuid.UUID) -> list[str]:
    return list(
        (
            await db.scalars(
                sa.select(col(AuditEvent.action)).where(
                    sa.literal(str(object_id)) == sa.func.any(col(AuditEvent.object_ids))
                )
            )
        ).all()
    )


async def subscription_pairs(db: AsyncSession) -> set[tuple[uuid.UUID, uuid.UUID, uuid.UUID]]:
    rows = await db.execute(
        sa.select(
            col(ReportSubscription.contact_id),
            col(ReportSubscription.report_type_id),
            col(ReportSubscription.location_id),
        )
    )
    return {(row[0], row[1], row[2]) for row in rows}


async def report_type_id(db: AsyncSession) -> uuid.UUID:
    found = await db.scalar(sa.select(col(ReportType.id)).order_by(col(ReportType.code)).limit(1))
    assert found is not None
    return found


# -- the users list --


async def test_admins_see_their_accounts_users(admin_client: GraphQLClient) -> None:
    users = (await admin_client(USERS)).ok()["account"]["users"]
    by_email = {user["email"]: user for user in users["nodes"]}
    assert set(by_email) == {
        "admin@acme.example",
        "basic@acme.example",
        "visits@acme.example",
        "gone@acme.example",
    }
    assert by_email["visits@acme.example"]["permissions"] == ["VIEW_VISIT_ACTIVITY"]
    assert by_email["gone@acme.example"]["status"] == "DEACTIVATED"


async def test_staff_see_an_accounts_users(staff_client: GraphQLClient, world: World) -> None:
    query = "query ($id: ID!) { account(id: $id) { users { totalCount } } }"
    data = (await staff_client(query, {"id": global_id(Account, world.acme.id)})).ok()
    assert data["account"]["users"]["totalCount"] == 4


@pytest.mark.parametrize("actor", ["basic", "visits", "api_client"])
async def test_others_may_not_list_users(actor: str, clients: dict[str, GraphQLClient]) -> None:
    client = clients[actor]
    query = "{ account { name users { totalCount } } }"
    response = await client(query)
    assert_forbidden(response, ["account", "users"])
    assert response.data["account"]["name"] == "Acme Logistics"


# -- roles --


async def test_admin_demotes_another_admin_effective_on_their_next_request(
    admin_client: GraphQLClient,
    second_admin_client: GraphQLClient,
    second_admin: PortalUser,
    db: AsyncSession,
) -> None:
    # Given a second admin who can list users
    assert (await second_admin_client(USERS)).ok()["account"]["users"]["totalCount"] == 5
    # When the first admin makes them a Basic user
    result = (
        await admin_client(UPDATE_ROLE, {"userId": user_id(second_admin), "role": "BASIC"})
    ).ok()["updateUserRole"]
    # Then the answer shows the new role, the row has it, and it is audited
    assert result["userErrors"] == []
    assert result["user"]["role"] == "BASIC"
    assert (await row(db, second_admin)).role is Role.BASIC
    assert await audit_actions(db, second_admin.id) == ["user.role_changed"]
    # And the demoted user's very next request to an admin-only field is FORBIDDEN
    assert_forbidden(await second_admin_client(USERS), ["account", "users"])


async def test_promoting_a_basic_user_lets_them_manage_users(
    admin_client: GraphQLClient, basic_client: GraphQLClient, world: World
) -> None:
    assert_forbidden(await basic_client(USERS), ["account", "users"])
    result = (
        await admin_client(UPDATE_ROLE, {"userId": user_id(world.acme_basic), "role": "USER_ADMIN"})
    ).ok()["updateUserRole"]
    assert result["userErrors"] == []
    assert (await basic_client(USERS)).ok()["account"]["users"]["totalCount"] == 4


async def test_the_last_admin_cannot_demote_or_deactivate_themselves(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    demote = (
        await admin_client(UPDATE_ROLE, {"userId": user_id(world.acme_admin), "role": "BASIC"})
    ).ok()["updateUserRole"]
    assert demote["user"] is None
    assert demote["userErrors"][0]["code"] == "BAD_USER_INPUT"
    assert "at least one active User Admin" in demote["userErrors"][0]["message"]
    deactivate = (await admin_client(DEACTIVATE, {"userId": user_id(world.acme_admin)})).ok()
    assert deactivate["deactivateUser"]["userErrors"][0]["code"] == "BAD_USER_INPUT"
    admin = await row(db, world.acme_admin)
    assert (admin.role, admin.status) == (Role.USER_ADMIN, UserStatus.ACTIVE)


async def test_with_a_second_admin_an_admin_may_step_down(
    admin_client: GraphQLClient, second_admin: PortalUser, db: AsyncSession, world: World
) -> None:
    result = (
        await admin_client(UPDATE_ROLE, {"userId": user_id(world.acme_admin), "role": "BASIC"})
    ).ok()["updateUserRole"]
    assert result["userErrors"] == []
    assert (await row(db, world.acme_admin)).role is Role.BASIC


# -- another account, unknown ids, denied callers --


MUTATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "updateUserRole": (UPDATE_ROLE, {"role": "USER_ADMIN"}),
    "setUserPermissions": (SET_PERMISSIONS, {"permissions": ["VIEW_VISIT_ACTIVITY"]}),
    "deactivateUser": (DEACTIVATE, {}),
    "reactivateUser": (REACTIVATE, {}),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
async def test_a_user_of_another_account_answers_like_an_unknown_id(
    name: str,
    admin_client: GraphQLClient,
    tpa_client: GraphQLClient,
    db: AsyncSession,
    world: World,
) -> None:
    mutation, extra = MUTATIONS[name]
    # When Acme's admin names Globex's admin, and then an id that does not exist
    foreign = (await admin_client(mutation, {"userId": user_id(world.globex_admin), **extra})).ok()
    unknown_id = global_id(PortalUserNode, uuid.uuid4())
    unknown = (await admin_client(mutation, {"userId": unknown_id, **extra})).ok()
    # Then both answer the same NOT_FOUND user error
    assert foreign[name]["user"] is None
    assert foreign[name]["userErrors"] == unknown[name]["userErrors"]
    assert foreign[name]["userErrors"] == [
        {"field": "userId", "code": "NOT_FOUND", "message": "No user with this id."}
    ]
    # And a third-party administrator cannot manage another tenant's user either
    tpa = (await tpa_client(mutation, {"userId": user_id(world.acme_basic), **extra})).ok()
    assert tpa[name]["userErrors"][0]["code"] == "NOT_FOUND"
    # And nothing changed
    globex_admin = await row(db, world.globex_admin)
    assert (globex_admin.role, globex_admin.status) == (Role.USER_ADMIN, UserStatus.ACTIVE)
    assert await audit_actions(db, world.globex_admin.id) == []


@pytest.mark.parametrize("name", sorted(MUTATIONS))
@pytest.mark.parametrize("actor", ["basic", "visits", "api_client", "staff"])
async def test_non_admins_are_forbidden_and_nothing_is_written(
    name: str, actor: str, clients: dict[str, GraphQLClient], db: AsyncSession, world: World
) -> None:
    client = clients[actor]
    mutation, extra = MUTATIONS[name]
    target = world.acme_deactivated if name == "reactivateUser" else world.acme_basic
    before = await row(db, target)
    snapshot = (before.role, before.status, before.updated_at)
    response = await client(mutation, {"userId": user_id(target), **extra})
    assert_forbidden(response, [name])
    after = await row(db, target)
    assert (after.role, after.status, after.updated_at) == snapshot
    assert await audit_actions(db, target.id) == []


@pytest.mark.parametrize("name", sorted(MUTATIONS))
async def test_anonymous_callers_must_sign_in(
    name: str, anonymous_client: GraphQLClient, world: World
) -> None:
    mutation, extra = MUTATIONS[name]
    assert_unauthenticated(
        await anonymous_client(mutation, {"userId": user_id(world.acme_basic), **extra})
    )


async def test_a_malformed_user_id_is_bad_input(admin_client: GraphQLClient) -> None:
    result = (await admin_client(DEACTIVATE, {"userId": "not-an-id"})).ok()["deactivateUser"]
    assert result["userErrors"][0] == {
        "field": "userId",
        "code": "BAD_USER_INPUT",
        "message": "`userId` is not a valid id.",
    }


# -- permissions --


async def test_revoking_a_permission_applies_on_the_next_request(
    admin_client: GraphQLClient, visits_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    viewer = "{ viewer { permissions } }"
    assert (await visits_client(viewer)).ok()["viewer"]["permissions"] == ["VIEW_VISIT_ACTIVITY"]
    result = (
        await admin_client(
            SET_PERMISSIONS, {"userId": user_id(world.acme_visits), "permissions": []}
        )
    ).ok()["setUserPermissions"]
    assert result["userErrors"] == []
    assert result["user"]["permissions"] == []
    assert (await visits_client(viewer)).ok()["viewer"]["permissions"] == []
    events = (
        await db.scalars(
            sa.select(AuditEvent).where(col(AuditEvent.action) == "user.permissions_changed")
        )
    ).all()
    assert [(e.object_ids, e.details) for e in events] == [
        ([str(world.acme_visits.id)], {"before": ["VIEW_VISIT_ACTIVITY"], "after": []})
    ]


async def test_granting_a_permission(
    admin_client: GraphQLClient, basic_client: GraphQLClient, world: World
) -> None:
    result = (
        await admin_client(
            SET_PERMISSIONS,
            {"userId": user_id(world.acme_basic), "permissions": ["VIEW_VISIT_ACTIVITY"] * 2},
        )
    ).ok()["setUserPermissions"]
    assert result["user"]["permissions"] == ["VIEW_VISIT_ACTIVITY"]
    permissions = (await basic_client("{ viewer { permissions } }")).ok()["viewer"]["permissions"]
    assert permissions == ["VIEW_VISIT_ACTIVITY"]


# -- deactivation --


async def test_deactivation_ends_sessions_and_the_next_request_is_unauthenticated(
    admin_client: GraphQLClient, anonymous_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # Given the Basic user signed in
    login = (
        await anonymous_client(
            'mutation ($p: String!) { login(input: {email: "basic@acme.example", password: $p}) '
            "{ accessToken refreshToken } }",
            {"p": PASSWORD},
        )
    ).ok()["login"]
    basic = GraphQLClient(anonymous_client.http, login["accessToken"])
    assert (await basic("{ viewer { email } }")).ok()["viewer"]["email"] == "basic@acme.example"
    # When the admin deactivates them
    result = (await admin_client(DEACTIVATE, {"userId": user_id(world.acme_basic)})).ok()[
        "deactivateUser"
    ]
    assert result["userErrors"] == []
    assert result["user"]["status"] == "DEACTIVATED"
    assert result["sessionsEnded"] == 1
    # Then their next request is UNAUTHENTICATED and their session is revoked
    response = await basic("{ viewer { email } }")
    assert response.status_code == 401
    assert_unauthenticated(response)
    sessions = (
        await db.scalars(
            sa.select(AuthSession).where(col(AuthSession.user_id) == world.acme_basic.id)
        )
    ).all()
    assert [s.revoked_reason for s in sessions] == ["user_deactivated"]
    assert await audit_actions(db, world.acme_basic.id) == ["user.deactivated"]
    # And reactivation lets them sign in again
    back = (await admin_client(REACTIVATE, {"userId": user_id(world.acme_basic)})).ok()
    assert back["reactivateUser"]["user"]["status"] == "ACTIVE"
    assert (await row(db, world.acme_basic)).deactivated_at is None


async def test_reactivating_an_active_user_changes_nothing(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    result = (await admin_client(REACTIVATE, {"userId": user_id(world.acme_basic)})).ok()
    assert result["reactivateUser"]["user"]["status"] == "ACTIVE"
    assert result["reactivateUser"]["userErrors"] == []


# -- report subscriptions --


async def test_subscriptions_are_replaced_as_a_set(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    contact = global_id(Contact, world.acme_basic.contact_id)
    report_type = global_id(ReportTypeNode, await report_type_id(db))
    dallas = global_id(Location, world.acme_dallas.id)
    phoenix = global_id(Location, world.acme_phoenix.id)
    first = (
        await admin_client(
            SET_SUBSCRIPTIONS,
            {
                "contactId": contact,
                "subscriptions": [
                    {"reportTypeId": report_type, "locationId": dallas},
                    {"reportTypeId": report_type, "locationId": phoenix},
                    {"reportTypeId": report_type, "locationId": phoenix},
                ],
            },
        )
    ).ok()["setReportSubscriptions"]
    assert first["userErrors"] == []
    assert sorted(s["location"]["name"] for s in first["subscriptions"]) == [
        "Dallas Hub",
        "Phoenix Yard",
    ]
    second = (
        await admin_client(
            SET_SUBSCRIPTIONS,
            {
                "contactId": contact,
                "subscriptions": [{"reportTypeId": report_type, "locationId": dallas}],
            },
        )
    ).ok()["setReportSubscriptions"]
    assert [s["location"]["name"] for s in second["subscriptions"]] == ["Dallas Hub"]
    stored = (
        await db.scalars(
            sa.select(col(ReportSubscription.location_id)).where(
                col(ReportSubscription.contact_id) == world.acme_basic.contact_id
            )
        )
    ).all()
    assert stored == [world.acme_dallas.id]


async def test_subscription_changes_are_audited(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # Only userErrors are selected: in tests every session shares one connection, and a payload
    # read after the commit would hold the savepoint the audit entry is written in.
    mutation = (
        "mutation ($input: SetReportSubscriptionsInput!) "
        "{ setReportSubscriptions(input: $input) { userErrors { code } } }"
    )
    subscription = {
        "reportTypeId": global_id(ReportTypeNode, await report_type_id(db)),
        "locationId": global_id(Location, world.acme_dallas.id),
    }
    contact = global_id(Contact, world.acme_basic.contact_id)
    result = (
        await admin_client(
            mutation, {"input": {"contactId": contact, "subscriptions": [subscription]}}
        )
    ).ok()
    assert result["setReportSubscriptions"]["userErrors"] == []
    events = (
        await db.scalars(
            sa.select(AuditEvent).where(col(AuditEvent.action) == "contact.subscriptions_changed")
        )
    ).all()
    assert [e.object_ids for e in events] == [[str(world.acme_basic.contact_id)]]
    # With the pairs before (the world's one subscription) and after
    assert events[0].details == {
        "before": [
            [
                str(reference_id("report_type", SUBSCRIBED_REPORT_TYPE)),
                str(world.acme_dallas.id),
            ]
        ],
        "after": [[str(await report_type_id(db)), str(world.acme_dallas.id)]],
    }


async def test_a_location_of_another_account_is_refused_and_nothing_changes(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    contact = global_id(Contact, world.acme_basic.contact_id)
    report_type = global_id(ReportTypeNode, await report_type_id(db))
    before = await subscription_pairs(db)
    result = (
        await admin_client(
            SET_SUBSCRIPTIONS,
            {
                "contactId": contact,
                "subscriptions": [
                    {
                        "reportTypeId": report_type,
                        "locationId": global_id(Location, world.acme_dallas.id),
                    },
                    {
                        "reportTypeId": report_type,
                        "locationId": global_id(Location, world.globex_chicago.id),
                    },
                ],
            },
        )
    ).ok()["setReportSubscriptions"]
    assert result["subscriptions"] is None
    assert result["userErrors"] == [
        {
            "field": "subscriptions.1.locationId",
            "code": "NOT_FOUND",
            "message": "No location with this id in this account.",
        }
    ]
    assert await subscription_pairs(db) == before


async def test_a_contact_of_another_account_answers_like_an_unknown_one(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    foreign = global_id(Contact, world.globex_admin.contact_id)
    unknown = global_id(Contact, uuid.uuid4())
    answers = [
        (await admin_client(SET_SUBSCRIPTIONS, {"contactId": cid, "subscriptions": []})).ok()[
            "setReportSubscriptions"
        ]["userErrors"]
        for cid in (foreign, unknown)
    ]
    assert (
        answers[0]
        == answers[1]
        == [{"field": "contactId", "code": "NOT_FOUND", "message": "No contact with this id."}]
    )


async def test_an_unknown_report_type_is_refused(admin_client: GraphQLClient, world: World) -> None:
    result = (
        await admin_client(
            SET_SUBSCRIPTIONS,
            {
                "contactId": global_id(Contact, world.acme_basic.contact_id),
                "subscriptions": [
                    {
                        "reportTypeId": global_id(ReportTypeNode, uuid.uuid4()),
                        "locationId": global_id(Location, world.acme_dallas.id),
                    }
                ],
            },
        )
    ).ok()["setReportSubscriptions"]
    assert result["userErrors"][0]["field"] == "subscriptions.0.reportTypeId"
    assert result["userErrors"][0]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("actor", ["basic", "api_client", "staff", "anonymous"])
async def test_only_admins_set_subscriptions(
    actor: str, clients: dict[str, GraphQLClient], db: AsyncSession, world: World
) -> None:
    client = clients[actor]
    before = await subscription_pairs(db)
    response = await client(
        SET_SUBSCRIPTIONS,
        {
            "contactId": global_id(Contact, world.acme_basic.contact_id),
            "subscriptions": [
                {
                    "reportTypeId": global_id(ReportTypeNode, await report_type_id(db)),
                    "locationId": global_id(Location, world.acme_dallas.id),
                }
            ],
        },
    )
    if actor == "anonymous":
        assert_unauthenticated(response)
    else:
        assert_forbidden(response, ["setReportSubscriptions"])
    assert await subscription_pairs(db) == before
