"""The status machine over HTTP: staff move requests, the requester closes and reopens within 14
days, refused changes name the allowed next states, the history keeps who and when, assignment,
and a webhook event per change."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.ids import global_id as portal_global_id
from portal.models import OutboxMessage
from portal.models.enums import OutboxChannel
from tests.schema.support.conftest import (
    ASSIGN,
    age_resolution,
    create,
    move,
    node,
    stored,
)
from tests.support.graphql import GraphQLClient
from tests.support.world import World


@pytest.fixture
async def request_(basic_client: GraphQLClient) -> dict[str, Any]:
    return await create(basic_client)


async def _resolve(staff_client: GraphQLClient, request_id: str) -> None:
    for status in ("IN_PROGRESS", "RESOLVED"):
        assert (await move(staff_client, request_id, status))["userErrors"] == []


async def test_the_whole_lifecycle_with_its_history(
    basic_client: GraphQLClient, staff_client: GraphQLClient, request_: dict[str, Any]
) -> None:
    # Given a NEW request, When staff take it and resolve it and the requester closes it
    taken = await move(staff_client, request_["id"], "IN_PROGRESS")
    assert taken["supportRequest"]["status"] == "IN_PROGRESS"
    resolved = await move(staff_client, request_["id"], "RESOLVED")
    assert resolved["supportRequest"]["resolvedAt"] is not None
    closed = await move(basic_client, request_["id"], "CLOSED")
    assert closed["userErrors"] == []
    # Then the requester sees every change with who made it and when, in order
    answer = (await node(basic_client, request_["id"])).ok()["node"]
    assert answer["status"] == "CLOSED"
    assert [
        (h["fromStatus"], h["toStatus"], h["changedBy"]["name"], h["changedBy"]["isStaff"])
        for h in answer["history"]
    ] == [
        (None, "NEW", "Basic Acme", False),
        ("NEW", "IN_PROGRESS", "Sam Support", True),
        ("IN_PROGRESS", "RESOLVED", "Sam Support", True),
        ("RESOLVED", "CLOSED", "Basic Acme", False),
    ]
    times = [h["changedAt"] for h in answer["history"]]
    assert times == sorted(times)
    assert answer["allowedNextStatuses"] == ["IN_PROGRESS"]


async def test_a_change_that_is_not_allowed_names_the_allowed_next_states(
    staff_client: GraphQLClient, db: AsyncSession, request_: dict[str, Any]
) -> None:
    # When staff try to close a NEW request
    payload = await move(staff_client, request_["id"], "CLOSED")
    # Then INVALID_TRANSITION names IN_PROGRESS, and nothing changed
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == ("status", "INVALID_TRANSITION")
    assert "Allowed next states: IN_PROGRESS." in error["message"]
    assert payload["supportRequest"] is None
    assert (await stored(db, request_["number"])).status.value == "NEW"


async def test_the_requester_may_not_move_an_open_request(
    basic_client: GraphQLClient, request_: dict[str, Any]
) -> None:
    payload = await move(basic_client, request_["id"], "RESOLVED")
    [error] = payload["userErrors"]
    assert error["code"] == "INVALID_TRANSITION"
    assert "Allowed next states: none." in error["message"]


async def test_only_the_requester_closes_or_reopens(
    admin_client: GraphQLClient, staff_client: GraphQLClient, request_: dict[str, Any]
) -> None:
    # Given a resolved request of the Basic user, When their User Admin tries to close it
    await _resolve(staff_client, request_["id"])
    payload = await move(admin_client, request_["id"], "CLOSED")
    # Then it is refused: only the requester closes it
    assert payload["userErrors"][0]["code"] == "INVALID_TRANSITION"


async def test_the_requester_reopens_within_14_days(
    basic_client: GraphQLClient,
    staff_client: GraphQLClient,
    db: AsyncSession,
    request_: dict[str, Any],
) -> None:
    # Given a request resolved 13 days ago and closed by the requester
    await _resolve(staff_client, request_["id"])
    assert (await move(basic_client, request_["id"], "CLOSED"))["userErrors"] == []
    await age_resolution(db, request_["number"], days=13)
    # When the requester reopens it, Then it is back IN_PROGRESS
    payload = await move(basic_client, request_["id"], "IN_PROGRESS")
    assert payload["userErrors"] == []
    assert payload["supportRequest"]["status"] == "IN_PROGRESS"
    assert payload["supportRequest"]["resolution"] is None


async def test_reopening_after_14_days_is_refused(
    basic_client: GraphQLClient,
    staff_client: GraphQLClient,
    db: AsyncSession,
    request_: dict[str, Any],
) -> None:
    # Given a request resolved 15 days ago
    await _resolve(staff_client, request_["id"])
    await age_resolution(db, request_["number"], days=15)
    # When the requester reopens it
    payload = await move(basic_client, request_["id"], "IN_PROGRESS")
    # Then it is refused, naming what remains (closing) and the window
    [error] = payload["userErrors"]
    assert error["code"] == "INVALID_TRANSITION"
    assert "Allowed next states: CLOSED." in error["message"]
    assert "14 days" in error["message"]


async def test_another_tenant_moving_a_request_gets_an_unknown_id(
    globex_client: GraphQLClient, other_basic_client: GraphQLClient, request_: dict[str, Any]
) -> None:
    for client in (globex_client, other_basic_client):
        [error] = (await move(client, request_["id"], "CLOSED"))["userErrors"]
        assert (error["field"], error["code"]) == ("id", "NOT_FOUND")


async def test_each_change_queues_a_webhook_event_with_global_ids_only(
    staff_client: GraphQLClient, db: AsyncSession, world: World, request_: dict[str, Any]
) -> None:
    await _resolve(staff_client, request_["id"])
    events = list(
        await db.scalars(
            sa.select(OutboxMessage)
            .where(
                col(OutboxMessage.channel) == OutboxChannel.WEBHOOK,
                col(OutboxMessage.topic) == "support_request.status_changed",
            )
            .order_by(col(OutboxMessage.created_at))
        )
    )
    row = await stored(db, request_["number"])
    assert [event.payload for event in events] == [
        {
            "event": "support_request.status_changed",
            "data": {
                "supportRequestId": portal_global_id("SupportRequest", row.id),
                "from": before,
                "to": after,
            },
        }
        for before, after in (("NEW", "IN_PROGRESS"), ("IN_PROGRESS", "RESOLVED"))
    ]
    assert {event.account_id for event in events} == {world.acme.id}
    assert request_["id"] == portal_global_id("SupportRequest", row.id)


async def test_staff_assign_and_unassign(
    staff_client: GraphQLClient,
    basic_client: GraphQLClient,
    request_: dict[str, Any],
) -> None:
    viewer = (await staff_client("{ viewer { id } }")).ok()["viewer"]["id"]
    # When staff assign the request to themselves
    response = await staff_client(ASSIGN, {"input": {"id": request_["id"], "assigneeId": viewer}})
    payload = response.ok()["assignSupportRequest"]
    assert payload["userErrors"] == []
    assert payload["supportRequest"]["assignee"] == {"id": viewer, "name": "Sam Support"}
    # Then the requester sees who works on it (name only), and staff can list theirs
    answer = (await node(basic_client, request_["id"])).ok()["node"]
    assert answer["assignedTo"] == {"name": "Sam Support", "isStaff": True}
    mine = await staff_client("{ supportRequests(filter: {assignedToMe: true}) { nodes { id } } }")
    assert [n["id"] for n in mine.ok()["supportRequests"]["nodes"]] == [request_["id"]]
    # When they unassign it
    response = await staff_client(ASSIGN, {"input": {"id": request_["id"], "assigneeId": None}})
    assert response.ok()["assignSupportRequest"]["supportRequest"]["assignedTo"] is None


async def test_assigning_to_someone_who_is_not_staff_is_a_user_error(
    staff_client: GraphQLClient, request_: dict[str, Any], world: World
) -> None:
    not_staff = portal_global_id("StaffUser", world.acme_admin.id)
    response = await staff_client(
        ASSIGN, {"input": {"id": request_["id"], "assigneeId": not_staff}}
    )
    [error] = response.ok()["assignSupportRequest"]["userErrors"]
    assert (error["field"], error["code"]) == ("assigneeId", "NOT_FOUND")


async def test_a_closed_request_cannot_be_assigned(
    staff_client: GraphQLClient, request_: dict[str, Any]
) -> None:
    for status in ("IN_PROGRESS", "RESOLVED", "CLOSED"):
        assert (await move(staff_client, request_["id"], status))["userErrors"] == []
    viewer = (await staff_client("{ viewer { id } }")).ok()["viewer"]["id"]
    response = await staff_client(ASSIGN, {"input": {"id": request_["id"], "assigneeId": viewer}})
    [error] = response.ok()["assignSupportRequest"]["userErrors"]
    assert (error["field"], error["code"]) == ("id", "INVALID_TRANSITION")


async def test_a_staff_member_is_a_node_for_staff_only(
    staff_client: GraphQLClient, admin_client: GraphQLClient
) -> None:
    viewer = (await staff_client("{ viewer { id } }")).ok()["viewer"]["id"]
    query = "query ($id: ID!) { node(id: $id) { ... on StaffUser { id name } } }"
    assert (await staff_client(query, {"id": viewer})).ok()["node"] == {
        "id": viewer,
        "name": "Sam Support",
    }
    assert (await admin_client(query, {"id": viewer})).ok()["node"] is None
