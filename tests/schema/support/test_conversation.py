"""addSupportRequestComment: the public thread in order with authors; internal notes that
employers never see, in any field or count."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import SupportComment
from tests.schema.support.conftest import LIST, comment, create, move, node
from tests.support.graphql import GraphQLClient


@pytest.fixture
async def thread(basic_client: GraphQLClient, staff_client: GraphQLClient) -> dict[str, Any]:
    """A Basic user's request with a public reply, an internal note and the user's answer."""
    request = await create(basic_client)
    await comment(staff_client, request["id"], "We are on it.")
    await comment(staff_client, request["id"], "Check the account owner first.", internal=True)
    await comment(basic_client, request["id"], "Thanks!")
    return request


async def test_staff_see_the_whole_thread_in_order_with_authors(
    staff_client: GraphQLClient, thread: dict[str, Any]
) -> None:
    answer = (await node(staff_client, thread["id"])).ok()["node"]
    assert [(c["body"], c["internal"], c["author"]) for c in answer["comments"]] == [
        ("We are on it.", False, {"name": "Sam Support", "isStaff": True}),
        ("Check the account owner first.", True, {"name": "Sam Support", "isStaff": True}),
        ("Thanks!", False, {"name": "Basic Acme", "isStaff": False}),
    ]
    assert answer["commentCount"] == 3


@pytest.mark.parametrize("actor", ["basic", "admin"])
async def test_employers_never_see_internal_notes(
    clients: dict[str, GraphQLClient], thread: dict[str, Any], actor: str
) -> None:
    client = clients[actor]
    # In node(id:): the thread and its count
    answer = (await node(client, thread["id"])).ok()["node"]
    assert [c["body"] for c in answer["comments"]] == ["We are on it.", "Thanks!"]
    assert all(c["internal"] is False for c in answer["comments"])
    assert answer["commentCount"] == 2
    # In the list's count
    [listed] = [
        item
        for item in (await client(LIST, {"first": 100})).ok()["supportRequests"]["nodes"]
        if item["id"] == thread["id"]
    ]
    assert listed["commentCount"] == 2
    # And nowhere in the raw response
    raw = await client(
        "query ($id: ID!) { node(id: $id) { ... on SupportRequest { comments { body } } } }",
        {"id": thread["id"]},
    )
    assert "account owner" not in str(raw.body)


async def test_an_internal_note_leaves_the_request_untouched_for_employers(
    basic_client: GraphQLClient, staff_client: GraphQLClient
) -> None:
    # Given a request, as its requester sees it
    request = await create(basic_client)
    query = "query ($id: ID!) { node(id: $id) { ... on SupportRequest { updatedAt } } }"
    before = (await basic_client(query, {"id": request["id"]})).ok()["node"]
    # When staff add an internal note
    assert (await comment(staff_client, request["id"], "note", internal=True))["userErrors"] == []
    # Then not even its last-change time moved
    assert (await basic_client(query, {"id": request["id"]})).ok()["node"] == before
    # While a public reply does move it
    await comment(staff_client, request["id"], "reply")
    assert (await basic_client(query, {"id": request["id"]})).ok()["node"] != before


async def test_an_employer_reply_payload_hides_internal_notes(
    basic_client: GraphQLClient, thread: dict[str, Any]
) -> None:
    payload = await comment(basic_client, thread["id"], "One more thing.")
    assert payload["userErrors"] == []
    assert payload["comment"]["author"] == {"name": "Basic Acme", "isStaff": False}
    assert "account owner" not in str(payload)
    assert payload["supportRequest"]["commentCount"] == 3


async def test_employers_may_not_write_internal_notes(
    basic_client: GraphQLClient, db: AsyncSession, thread: dict[str, Any]
) -> None:
    before = await db.scalar(sa.select(sa.func.count()).select_from(SupportComment))
    payload = await comment(basic_client, thread["id"], "secret", internal=True)
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == ("internal", "FORBIDDEN")
    assert await db.scalar(sa.select(sa.func.count()).select_from(SupportComment)) == before


@pytest.mark.parametrize(
    ("body", "code"),
    [("", "BAD_USER_INPUT"), ("x" * 5001, "BAD_USER_INPUT")],
)
async def test_an_empty_or_oversized_comment_is_a_user_error(
    basic_client: GraphQLClient, thread: dict[str, Any], body: str, code: str
) -> None:
    payload = await comment(basic_client, thread["id"], body)
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == ("body", code)


async def test_someone_elses_request_answers_like_an_unknown_id(
    other_basic_client: GraphQLClient,
    globex_client: GraphQLClient,
    thread: dict[str, Any],
) -> None:
    for client in (other_basic_client, globex_client):
        payload = await comment(client, thread["id"], "Let me in")
        [error] = payload["userErrors"]
        assert (error["field"], error["code"]) == ("id", "NOT_FOUND")


async def test_a_closed_request_takes_internal_notes_only(
    basic_client: GraphQLClient, staff_client: GraphQLClient, thread: dict[str, Any]
) -> None:
    for status in ("IN_PROGRESS", "RESOLVED", "CLOSED"):
        assert (await move(staff_client, thread["id"], status))["userErrors"] == []
    refused = await comment(basic_client, thread["id"], "Hello?")
    assert refused["userErrors"][0]["code"] == "INVALID_TRANSITION"
    noted = await comment(staff_client, thread["id"], "Closed after a call.", internal=True)
    assert noted["userErrors"] == []
