"""``AuditEvent.objectIds`` shows the API's global ids, and ``filter.objectId`` takes them."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import AuditEvent
from portal.models.enums import ActorType, AuditResult
from portal.schema.documents import Document
from portal.schema.relay import global_id
from portal.schema.users import PortalUser
from tests.support.graphql import GraphQLClient
from tests.support.world import World

EVENTS = """
query ($filter: AuditEventFilter) {
  auditEvents(first: 20, filter: $filter) { nodes { action objectIds } }
}
"""
SEARCHED = "documents.searched"


@pytest.fixture(autouse=True)
async def _search(db: AsyncSession, world: World) -> None:
    """An audit event of Acme naming a document and a user, stored as the trail stores ids."""
    db.add(
        AuditEvent(
            actor_type=ActorType.USER,
            actor_id=world.acme_admin.id,
            account_id=world.acme.id,
            action=SEARCHED,
            object_ids=[str(world.results.subscribed.id), str(world.acme_basic.id)],
            result=AuditResult.ALLOWED,
        )
    )
    await db.commit()


async def test_object_ids_are_global_ids_that_node_resolves(
    admin_client: GraphQLClient, world: World
) -> None:
    # Given an audit event naming one of Acme's documents and one of its users
    # When the User Admin reads that audit event
    nodes = (await admin_client(EVENTS, {"filter": {"action": SEARCHED}})).ok()["auditEvents"][
        "nodes"
    ]
    ids = nodes[0]["objectIds"]
    # Then each id is the object's global id, the one node(id:) takes
    expected = global_id(Document, world.results.subscribed.id)
    assert ids == [expected, global_id(PortalUser, world.acme_basic.id)]
    found = await admin_client("query ($id: ID!) { node(id: $id) { id } }", {"id": expected})
    assert found.ok()["node"] == {"id": expected}


async def test_the_filter_takes_a_global_id(admin_client: GraphQLClient, world: World) -> None:
    wanted = global_id(Document, world.results.subscribed.id)
    other = global_id(Document, world.results.globex.id)
    # When the trail is filtered by one document's global id
    matching = (await admin_client(EVENTS, {"filter": {"objectId": wanted}})).ok()
    none = (await admin_client(EVENTS, {"filter": {"objectId": other}})).ok()
    # Then the events naming it are listed, and an id no Acme event names lists none
    assert any(
        node["action"] == SEARCHED and wanted in node["objectIds"]
        for node in matching["auditEvents"]["nodes"]
    )
    assert none["auditEvents"]["nodes"] == []


async def test_the_filter_also_takes_a_raw_uuid(admin_client: GraphQLClient, world: World) -> None:
    raw = str(world.results.subscribed.id)
    matching = (await admin_client(EVENTS, {"filter": {"objectId": raw}})).ok()
    assert matching["auditEvents"]["nodes"]


async def test_a_filter_id_that_is_no_id_is_bad_input(admin_client: GraphQLClient) -> None:
    answer = await admin_client(EVENTS, {"filter": {"objectId": "not an id"}})
    assert answer.error_codes() == ["BAD_USER_INPUT"]
    assert answer.errors[0]["extensions"]["field"] == "filter.objectId"
    assert answer.data == {"auditEvents": None}
