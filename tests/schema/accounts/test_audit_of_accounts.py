"""The audit trail of account work: sign-ins carry the account (a User Admin lists their users'
sign-ins), token refreshes and failures too, and API clients and provider systems are named."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from portal.models.enums import ActorType
from portal.schema.relay import global_id
from portal.schema.users import PortalUser as PortalUserNode
from tests.schema.accounts.conftest import audit_events, committed_events
from tests.support.accounts import login, refresh
from tests.support.graphql import GraphQLClient
from tests.support.world import PASSWORD, World

SIGN_INS = """
query ($action: String!) {
  auditEvents(first: 50, filter: {action: $action}) {
    nodes { action actorType actorId actorLabel account { name } }
  }
}
"""


async def test_a_user_admin_lists_their_users_sign_ins(
    anonymous_client: GraphQLClient,
    admin_client: GraphQLClient,
    globex_client: GraphQLClient,
    world: World,
) -> None:
    # Given the Basic user of Acme and Globex's admin sign in
    assert (await login(anonymous_client, "basic@acme.example", PASSWORD))["userErrors"] == []
    assert (await login(anonymous_client, "admin@globex.example", PASSWORD))["userErrors"] == []
    # When Acme's User Admin lists sign-ins
    nodes = (await admin_client(SIGN_INS, {"action": "login.succeeded"})).ok()["auditEvents"][
        "nodes"
    ]
    # Then they see their user's sign-in, as that user, in Acme, and not Globex's
    assert [(n["actorLabel"], n["actorType"]) for n in nodes] == [("basic@acme.example", "USER")]
    assert nodes[0]["actorId"] == global_id(PortalUserNode, world.acme_basic.id)
    assert nodes[0]["account"] == {"name": "Acme Logistics"}
    globex = (await globex_client(SIGN_INS, {"action": "login.succeeded"})).ok()
    assert [n["actorLabel"] for n in globex["auditEvents"]["nodes"]] == ["admin@globex.example"]


async def test_failures_and_lockouts_of_a_known_user_carry_the_account(
    anonymous_client: GraphQLClient, admin_client: GraphQLClient, world: World
) -> None:
    failed = await login(anonymous_client, "basic@acme.example", "wrong password entirely")
    assert [e["code"] for e in failed["userErrors"]] == ["UNAUTHENTICATED"]
    await login(anonymous_client, "nobody@nowhere.example", "wrong password entirely")
    nodes = (await admin_client(SIGN_INS, {"action": "login.failed"})).ok()["auditEvents"]["nodes"]
    # The unknown email belongs to no account: Acme's admin sees only their user's failure
    assert [n["actorLabel"] for n in nodes] == ["basic@acme.example"]


async def test_token_refreshes_carry_the_account(
    anonymous_client: GraphQLClient, admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    signed_in = await login(anonymous_client, "visits@acme.example", PASSWORD)
    renewed = await refresh(anonymous_client, signed_in["refreshToken"])
    assert renewed["userErrors"] == []
    # Using the spent token again fails, and that failure is audited under the user too
    reused = await refresh(anonymous_client, signed_in["refreshToken"])
    assert reused["userErrors"]
    nodes = (await admin_client(SIGN_INS, {"action": "session.refreshed"})).ok()["auditEvents"][
        "nodes"
    ]
    assert [n["actorId"] for n in nodes] == [global_id(PortalUserNode, world.acme_visits.id)]
    [failure] = await audit_events(db, "session.refresh_failed")
    assert (failure.account_id, failure.actor_id) == (world.acme.id, world.acme_visits.id)


async def test_api_client_events_name_the_client(
    committing_clients: dict[str, GraphQLClient], engine: AsyncEngine, world: World
) -> None:
    since = datetime.now(UTC)
    # When the HR system reads documents (a PHI read, audited)
    assert (await committing_clients["api_client"]("{ documents { totalCount } }")).ok()
    [event] = await committed_events(engine, action="documents.searched", since=since)
    # Then the event names the client by id and name, not only its kind
    assert event.actor_type is ActorType.API_CLIENT
    assert event.actor_id == world.acme_client.id
    assert event.actor_label == f"Acme HRIS ({world.acme_client.client_id})"
    assert event.account_id == world.acme.id


async def test_provider_system_events_name_the_system(
    committing_clients: dict[str, GraphQLClient], engine: AsyncEngine, world: World
) -> None:
    since = datetime.now(UTC)
    # When the provider's system is refused a read (audited as a denial)
    response = await committing_clients["provider_client"]("{ documents { totalCount } }")
    assert response.error_codes() == ["FORBIDDEN"]
    [event] = await committed_events(engine, action="access.denied", since=since)
    assert event.actor_type is ActorType.PROVIDER_CLIENT
    assert event.actor_id == world.lab_system.id
    assert event.actor_label == f"Dallas clinic EHR ({world.lab_system.client_id})"
