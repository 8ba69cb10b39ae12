"""Cursor connections: forward and backward paging, the 100 cap, bad cursors, ``nodes``."""

from __future__ import annotations

from portal.schema.catalog import MedicalCenter
from portal.schema.relay import global_id
from tests.support.graphql import GraphQLClient
from tests.support.world import World

CENTERS = """
query ($first: Int, $after: String, $last: Int, $before: String) {
  medicalCenters(first: $first, after: $after, last: $last, before: $before) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { code } }
  }
}
"""


async def _codes(client: GraphQLClient, **variables: object) -> dict[str, object]:
    result: dict[str, object] = (await client(CENTERS, variables)).ok()["medicalCenters"]
    return result


async def test_forward_paging_visits_every_item_once(admin_client: GraphQLClient) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = await _codes(admin_client, first=2, after=after)
        seen.extend(edge["node"]["code"] for edge in page["edges"])  # type: ignore[attr-defined]
        info = page["pageInfo"]
        assert isinstance(info, dict)
        if not info["hasNextPage"]:
            break
        after = info["endCursor"]
    total = page["totalCount"]
    assert len(seen) == len(set(seen)) == total == 5


async def test_backward_paging_returns_the_tail_in_order(admin_client: GraphQLClient) -> None:
    everything = await _codes(admin_client, first=100)
    codes = [edge["node"]["code"] for edge in everything["edges"]]  # type: ignore[attr-defined]
    tail = await _codes(admin_client, last=2)
    assert [edge["node"]["code"] for edge in tail["edges"]] == codes[-2:]  # type: ignore[attr-defined]
    assert tail["pageInfo"]["hasPreviousPage"] is True  # type: ignore[index]
    before = await _codes(admin_client, last=2, before=tail["pageInfo"]["startCursor"])  # type: ignore[index]
    assert [edge["node"]["code"] for edge in before["edges"]] == codes[-4:-2]  # type: ignore[attr-defined]


async def test_more_than_100_is_a_clear_bad_input(admin_client: GraphQLClient) -> None:
    response = await admin_client(CENTERS, {"first": 101})
    assert response.error_codes() == ["BAD_USER_INPUT"]
    assert "at most 100" in response.errors[0]["message"]
    assert response.data == {"medicalCenters": None}


async def test_first_and_last_together_are_refused(admin_client: GraphQLClient) -> None:
    response = await admin_client(CENTERS, {"first": 2, "last": 2})
    assert response.error_codes() == ["BAD_USER_INPUT"]


async def test_negative_page_size_is_refused(admin_client: GraphQLClient) -> None:
    assert (await admin_client(CENTERS, {"first": -1})).error_codes() == ["BAD_USER_INPUT"]


async def test_a_forged_cursor_is_bad_input(admin_client: GraphQLClient) -> None:
    response = await admin_client(CENTERS, {"first": 2, "after": "eyJub3QiOiJhIGN1cnNvciJ9"})
    assert response.error_codes() == ["BAD_USER_INPUT"]
    assert "cursor" in response.errors[0]["message"]


async def test_nodes_answers_in_the_order_asked_with_nulls_for_unknown(
    admin_client: GraphQLClient, world: World
) -> None:
    import uuid

    ids = [
        global_id(MedicalCenter, world.centers[2].id),
        global_id(MedicalCenter, uuid.uuid4()),
        global_id(MedicalCenter, world.centers[0].id),
    ]
    nodes = (
        await admin_client(
            "query ($ids: [ID!]!) { nodes(ids: $ids) { ... on MedicalCenter { code } } }",
            {"ids": ids},
        )
    ).ok()["nodes"]
    assert nodes == [{"code": "MC003"}, None, {"code": "MC001"}]


async def test_nodes_caps_the_number_of_ids(admin_client: GraphQLClient, world: World) -> None:
    ids = [global_id(MedicalCenter, world.centers[0].id)] * 101
    response = await admin_client("query ($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert response.error_codes() == ["BAD_USER_INPUT"]
