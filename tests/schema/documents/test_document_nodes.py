"""``node(id:)`` of a document applies the visibility rule: a document the caller may not see
(another tenant's, unsubscribed, archived, retracted) answers null, exactly like an unknown id."""

from __future__ import annotations

import httpx
import pytest

from portal.models import Document as DocumentRow
from portal.schema.documents import Document
from portal.schema.relay import global_id
from tests.support.graphql import GraphQLClient
from tests.support.world import World

NODES = """
query ($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on Document {
      id name postedAt pageCount sizeBytes sha256 archived archivesAt
      reportType { code name category }
      employee { id firstName lastName dateOfBirth }
      visit { id visitType claimNumber status resultsExpectedAt }
      medicalCenter { id name state }
      location { id name state }
    }
  }
}
"""

NAMES = [
    "subscribed",
    "other_type",
    "other_location",
    "archived",
    "restored",
    "retracted",
    "globex",
    "contoso",
]


def _documents(world: World) -> list[DocumentRow]:
    return [getattr(world.results, name) for name in NAMES]


async def _visible(client: GraphQLClient, world: World) -> set[str]:
    ids = [global_id(Document, row.id) for row in _documents(world)]
    response = await client(NODES, {"ids": ids})
    # A Basic user without VIEW_VISIT_ACTIVITY is refused the employee's date of birth alone
    # (minimum necessary, tests/security/test_minimum_necessary.py); the document still arrives.
    assert all(
        error["extensions"]["code"] == "FORBIDDEN" and error["path"][-1] == "dateOfBirth"
        for error in response.errors
    ), response.errors
    nodes = response.data["nodes"]
    return {name for name, node in zip(NAMES, nodes, strict=True) if node is not None}


@pytest.mark.parametrize(
    ("client_fixture", "expected"),
    [
        ("admin_client", {"subscribed", "other_type", "other_location", "restored"}),
        ("api_client", {"subscribed", "other_type", "other_location", "restored"}),
        ("basic_client", {"subscribed", "restored"}),
        ("visits_client", set()),
        ("globex_client", {"globex"}),
        ("tpa_client", {"contoso"}),
        ("staff_client", set(NAMES)),
    ],
)
async def test_node_answers_only_documents_the_caller_may_see(
    request: pytest.FixtureRequest,
    http: httpx.AsyncClient,
    world: World,
    client_fixture: str,
    expected: set[str],
) -> None:
    # given the world's documents, one per visibility edge (``http`` is set up first, so the
    # synchronous client fixtures can be looked up by name)
    client: GraphQLClient = request.getfixturevalue(client_fixture)

    # when the caller asks for every one of them by id
    visible = await _visible(client, world)

    # then exactly the ones its rule allows come back; the others are null like unknown ids
    assert visible == expected


async def test_a_document_node_carries_the_names_clients_rely_on(
    admin_client: GraphQLClient, world: World
) -> None:
    # given Alice's subscribed work status report
    document = world.results.subscribed

    # when the admin reads it by id with everything nested
    answer = await admin_client(NODES, {"ids": [global_id(Document, document.id)]})
    node = answer.ok()["nodes"][0]

    # then every field matches the stored row and its relations
    assert node["name"] == "Work Status Report"
    assert node["pageCount"] == 2
    assert node["sizeBytes"] == len(world.results.pdfs[document.id])
    assert node["sha256"] == document.sha256
    assert node["archived"] is False
    assert node["archivesAt"] is not None
    assert node["reportType"]["code"] == "INJURY_ACTIVITY_STATUS_REPORT"
    assert node["employee"]["firstName"] == "Alice"
    assert node["employee"]["dateOfBirth"] == "1985-04-12"
    assert node["visit"]["visitType"] == "INJURY"
    assert node["visit"]["claimNumber"] == "CLM-1001"
    assert node["visit"]["status"] == "CHECKED_OUT"
    assert node["medicalCenter"]["state"] == "TX"
    assert node["location"]["name"] == "Dallas Hub"


async def test_staff_see_the_archive_and_retraction_state(
    staff_client: GraphQLClient, admin_client: GraphQLClient, world: World
) -> None:
    # given the archived, restored and retracted documents
    query = """
    query ($ids: [ID!]!) {
      nodes(ids: $ids) {
        ... on Document { archived archivesAt retracted retractedAt retractionReason }
      }
    }
    """
    rows = [world.results.archived, world.results.restored, world.results.retracted]
    ids = [global_id(Document, row.id) for row in rows]

    # when staff read them
    archived, restored, retracted = (await staff_client(query, {"ids": ids})).ok()["nodes"]

    # then the archive is derived from the dates, a restore clears it, and the retraction shows
    assert archived["archived"] is True
    assert restored["archived"] is False
    assert restored["archivesAt"] is None
    assert retracted["retracted"] is True
    assert retracted["retractionReason"] == "Posted to the wrong patient's record."
    assert archived["retracted"] is False

    # and an employer asking for the retraction fields of its own document gets FORBIDDEN there
    answer = await admin_client(query, {"ids": [global_id(Document, world.results.subscribed.id)]})
    assert "FORBIDDEN" in answer.error_codes()
    assert answer.data["nodes"][0]["archived"] is False
    assert answer.data["nodes"][0]["retracted"] is None
