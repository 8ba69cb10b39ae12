"""``prepareDocumentDownload`` names each invalid id in its own user error, so a client can
tell its user which selection to fix."""

from __future__ import annotations

import uuid

from strawberry import relay

from portal.schema.documents import Document
from portal.schema.relay import global_id
from tests.support.graphql import GraphQLClient
from tests.support.world import World

PREPARE = """
mutation ($ids: [ID!]!) {
  prepareDocumentDownload(input: {documentIds: $ids}) { url userErrors { field code message } }
}
"""


async def test_each_malformed_or_wrong_type_id_has_its_own_error(
    admin_client: GraphQLClient, world: World
) -> None:
    # Given a selection with a good id, two malformed ids and another type's id
    good = global_id(Document, world.results.subscribed.id)
    employee_id = str(relay.GlobalID("Employee", str(uuid.uuid4())))
    ids = [good, "nope", employee_id, "x" * 300]
    # When a download is prepared
    payload = (await admin_client(PREPARE, {"ids": ids})).ok()["prepareDocumentDownload"]
    # Then nothing is prepared and each bad id is named in its own BAD_USER_INPUT error
    assert payload["url"] is None
    errors = payload["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [("documentIds", "BAD_USER_INPUT")] * 3
    assert "`nope`" in errors[0]["message"]
    assert employee_id in errors[1]["message"]
    assert ("x" * 80) in errors[2]["message"]
    assert ("x" * 81) not in errors[2]["message"]
    assert good not in " ".join(e["message"] for e in errors)


async def test_each_unknown_document_is_named(admin_client: GraphQLClient, world: World) -> None:
    unknown = [global_id(Document, uuid.uuid4()), global_id(Document, world.results.globex.id)]
    payload = (await admin_client(PREPARE, {"ids": unknown})).ok()["prepareDocumentDownload"]
    assert [e["code"] for e in payload["userErrors"]] == ["NOT_FOUND", "NOT_FOUND"]
    for given, error in zip(unknown, payload["userErrors"], strict=True):
        assert given in error["message"]
