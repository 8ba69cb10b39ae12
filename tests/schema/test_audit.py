"""``auditEvents``: staff see every event, a User Admin their account's, nobody else anything."""

from __future__ import annotations

from tests.support.graphql import GraphQLClient, assert_unauthenticated

EVENTS = """
query ($filter: AuditEventFilter) {
  auditEvents(first: 50, filter: $filter) {
    totalCount
    nodes { action result actorType actorLabel details requestId ipAddress account { name } }
  }
}
"""
DENIED = {"filter": {"action": "access.denied"}}


async def test_a_denial_is_recorded_and_visible_to_the_accounts_admin(
    basic_client: GraphQLClient, admin_client: GraphQLClient
) -> None:
    # given a Basic user who asks for the audit trail and is refused
    refused = await basic_client(EVENTS)
    assert refused.error_codes() == ["FORBIDDEN"]
    # when the account's User Admin reads the trail
    events = (await admin_client(EVENTS, DENIED)).ok()["auditEvents"]
    # then the denial is there: who, what, for which account, from where, which request
    [event] = [e for e in events["nodes"] if e["actorLabel"] == "basic@acme.example"]
    assert event["result"] == "DENIED"
    assert event["actorType"] == "USER"
    assert event["details"] == {"path": "auditEvents"}
    assert event["account"] == {"name": "Acme Logistics"}
    assert event["requestId"] == refused.headers["x-request-id"]
    assert event["ipAddress"] == "127.0.0.1"


async def test_a_user_admin_never_sees_another_accounts_events(
    basic_client: GraphQLClient, globex_client: GraphQLClient, staff_client: GraphQLClient
) -> None:
    await basic_client(EVENTS)
    globex = (await globex_client(EVENTS, DENIED)).ok()["auditEvents"]
    assert all(e["actorLabel"] != "basic@acme.example" for e in globex["nodes"])
    everything = (await staff_client(EVENTS, DENIED)).ok()["auditEvents"]
    assert any(e["actorLabel"] == "basic@acme.example" for e in everything["nodes"])


async def test_a_rejected_token_is_recorded_for_staff(
    anonymous_client: GraphQLClient, staff_client: GraphQLClient
) -> None:
    anonymous_client.token = "forged.token.value"
    rejected = await anonymous_client("{ viewer { email } }")
    assert rejected.status_code == 401
    events = (await staff_client(EVENTS, {"filter": {"action": "token.rejected"}})).ok()
    # Earlier tests against a live server leave committed rejections: this request's is the one.
    [event] = [
        event
        for event in events["auditEvents"]["nodes"]
        if event["requestId"] == rejected.headers["x-request-id"]
    ]
    assert event["actorType"] == "ANONYMOUS"
    assert event["result"] == "DENIED"


async def test_who_may_read_the_trail(
    staff_client: GraphQLClient,
    admin_client: GraphQLClient,
    basic_client: GraphQLClient,
    api_client: GraphQLClient,
    anonymous_client: GraphQLClient,
) -> None:
    assert (await staff_client(EVENTS)).ok()["auditEvents"] is not None
    assert (await admin_client(EVENTS)).ok()["auditEvents"] is not None
    for denied in (basic_client, api_client):
        response = await denied(EVENTS)
        assert response.data is None
        assert response.error_codes() == ["FORBIDDEN"]
    assert_unauthenticated(await anonymous_client(EVENTS))
