"""Who sees which support request, in every field: the list, node, Document.supportRequests and
Visit.supportRequests; ordering and filters."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from portal.schema.accounts import Account
from portal.schema.relay import global_id
from tests.schema.support.conftest import (
    LIST,
    create,
    document_id,
    listed,
    node,
    stored,
    visit_id,
)
from tests.support.graphql import GraphQLClient, assert_forbidden
from tests.support.world import World

DOCUMENT_REQUESTS = """
query ($id: ID!) { node(id: $id) { ... on Document { supportRequests { id number } } } }
"""
VISIT_REQUESTS = """
query ($id: ID!) { node(id: $id) { ... on Visit { supportRequests { id number } } } }
"""


@pytest.fixture
async def opened(
    basic_client: GraphQLClient,
    visits_client: GraphQLClient,
    admin_client: GraphQLClient,
    globex_client: GraphQLClient,
    world: World,
) -> dict[str, dict[str, Any]]:
    """One request each: Acme's Basic user (about a document), Acme's visits user (about a
    visit), Acme's admin, Globex's admin."""
    return {
        "basic": await create(
            basic_client,
            type="TREATMENT_RESULT",
            topic="SERVICES_QUESTION",
            documentId=document_id(world.results.subscribed),
        ),
        "visits": await create(
            visits_client,
            type="TREATMENT_RESULT",
            topic="BILLING",
            visitId=visit_id(world.results.alice_injury),
        ),
        "admin": await create(admin_client),
        "globex": await create(globex_client),
    }


def _numbers(nodes: list[dict[str, Any]]) -> set[str]:
    return {item["number"] for item in nodes}


@pytest.mark.parametrize(
    ("actor", "sees"),
    [
        ("basic", {"basic"}),
        ("visits", {"visits"}),
        ("admin", {"basic", "visits", "admin"}),
        ("globex", {"globex"}),
        ("tpa", set()),
        ("staff", {"basic", "visits", "admin", "globex"}),
    ],
)
async def test_who_sees_which_request(
    clients: dict[str, GraphQLClient],
    opened: dict[str, dict[str, Any]],
    actor: str,
    sees: set[str],
) -> None:
    # Given requests of several people of two tenants
    numbers = {who: request["number"] for who, request in opened.items()}
    # When each actor lists them
    nodes = await listed(clients[actor])
    # Then a requester sees their own, a User Admin the account's, staff all (of these)
    assert _numbers(nodes) & set(numbers.values()) == {numbers[who] for who in sees}
    # And node(id:) agrees, an unseen request answering null like an unknown id
    for who, request in opened.items():
        answer = (await node(clients[actor], request["id"])).ok()["node"]
        assert (answer is not None) == (who in sees), (actor, who)


async def test_api_clients_see_no_support_requests(
    api_client: GraphQLClient, opened: dict[str, dict[str, Any]]
) -> None:
    assert_forbidden(await api_client(LIST), ["supportRequests"])
    assert (await node(api_client, opened["admin"]["id"])).data["node"] is None


async def test_a_tpa_admin_sees_its_clients_requests(
    tpa_client: GraphQLClient, db: AsyncSession, world: World, opened: dict[str, dict[str, Any]]
) -> None:
    # Given a Contoso (Northwind's client) request
    request = await create(
        tpa_client,
        type="TREATMENT_RESULT",
        topic="SERVICES_QUESTION",
        documentId=document_id(world.results.contoso),
    )
    # Then it belongs to Contoso, and the TPA admin lists it
    assert (await stored(db, request["number"])).account_id == world.contoso.id
    assert request["number"] in _numbers(await listed(tpa_client))


async def test_newest_first_and_for_staff_urgent_first(
    admin_client: GraphQLClient, staff_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # Given an older urgent privacy request and two newer ordinary ones
    privacy = await create(
        admin_client,
        type="TREATMENT_RESULT",
        topic="PRIVACY",
        documentId=document_id(world.results.subscribed),
    )
    row = await stored(db, privacy["number"])
    row.created_at = row.created_at - timedelta(days=2)
    await db.commit()
    older = await create(admin_client, subject="Older")
    newer = await create(admin_client, subject="Newer")
    mine = {privacy["number"], older["number"], newer["number"]}
    # When the admin lists them: newest first
    admin_order = [n["number"] for n in await listed(admin_client) if n["number"] in mine]
    assert admin_order == [newer["number"], older["number"], privacy["number"]]
    # When staff list them: urgent first, then newest first
    staff_order = [n["number"] for n in await listed(staff_client) if n["number"] in mine]
    assert staff_order == [privacy["number"], newer["number"], older["number"]]


async def test_pages_follow_the_staff_order(
    admin_client: GraphQLClient, staff_client: GraphQLClient, world: World
) -> None:
    for index in range(3):
        await create(admin_client, subject=f"Page {index}")
    await create(
        admin_client,
        type="TREATMENT_RESULT",
        topic="PRIVACY",
        documentId=document_id(world.results.subscribed),
    )
    whole = await listed(staff_client)
    seen: list[str] = []
    after = None
    while True:
        page = (await staff_client(LIST, {"first": 2, "after": after})).ok()["supportRequests"]
        seen += [item["number"] for item in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [item["number"] for item in whole]
    assert whole[0]["urgent"] is True


async def test_filters(
    admin_client: GraphQLClient,
    staff_client: GraphQLClient,
    world: World,
    opened: dict[str, dict[str, Any]],
) -> None:
    privacy = await create(
        admin_client,
        type="TREATMENT_RESULT",
        topic="PRIVACY",
        documentId=document_id(world.results.subscribed),
    )
    assert _numbers(await listed(admin_client, urgent=True)) == {privacy["number"]}
    assert _numbers(await listed(admin_client, topic="BILLING")) == {opened["visits"]["number"]}
    assert _numbers(await listed(admin_client, type="ACCOUNT_UPDATE")) == {
        opened["admin"]["number"]
    }
    assert _numbers(await listed(admin_client, status="IN_PROGRESS")) == set()
    created = opened["admin"]["createdAt"]
    assert opened["admin"]["number"] in _numbers(await listed(admin_client, createdAfter=created))
    assert opened["admin"]["number"] not in _numbers(
        await listed(admin_client, createdBefore=created)
    )
    globex = str(global_id(Account, world.globex.id))
    assert _numbers(await listed(staff_client, accountId=globex)) >= {opened["globex"]["number"]}
    assert opened["admin"]["number"] not in _numbers(await listed(staff_client, accountId=globex))
    # An employer naming another tenant's account finds nothing
    assert await listed(admin_client, accountId=globex) == []
    # A request number finds that request, any case; another tenant's finds nothing
    number = opened["admin"]["number"]
    assert _numbers(await listed(staff_client, number=number.lower())) == {number}
    assert await listed(admin_client, number=opened["globex"]["number"]) == []


async def test_document_and_visit_support_requests(
    clients: dict[str, GraphQLClient], world: World, opened: dict[str, dict[str, Any]]
) -> None:
    document = document_id(world.results.subscribed)
    visit = visit_id(world.results.alice_injury)
    basic_number = opened["basic"]["number"]
    visits_number = opened["visits"]["number"]

    async def on(actor: str, query: str, object_id: str) -> set[str]:
        found = (await clients[actor](query, {"id": object_id})).ok()["node"]
        return {item["number"] for item in found["supportRequests"]}

    # The document's request: its requester, the admin and staff; not the other Basic user
    assert await on("basic", DOCUMENT_REQUESTS, document) == {basic_number}
    assert await on("admin", DOCUMENT_REQUESTS, document) == {basic_number}
    assert await on("staff", DOCUMENT_REQUESTS, document) >= {basic_number}
    # The visit's: the document's request (reached through its document) and the visit's own
    assert await on("visits", VISIT_REQUESTS, visit) == {visits_number}
    assert await on("admin", VISIT_REQUESTS, visit) == {basic_number, visits_number}
    # An API client reading documents may not read support requests
    response = await clients["api_client"](DOCUMENT_REQUESTS, {"id": document})
    assert_forbidden(response, ["node", "supportRequests"])
