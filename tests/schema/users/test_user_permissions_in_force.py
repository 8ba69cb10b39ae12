"""``PortalUser.permissions`` says what ``viewer.permissions`` says for the same person: a User
Admin holds every per-user permission by role, others what was granted."""

from __future__ import annotations

from tests.support.graphql import GraphQLClient

USERS = "{ account { users(first: 20) { nodes { email permissions } } } }"
VIEWER = "{ viewer { email permissions } }"


async def test_each_users_permissions_match_their_own_viewer(
    admin_client: GraphQLClient, basic_client: GraphQLClient, visits_client: GraphQLClient
) -> None:
    # Given the Acme users as their User Admin lists them
    listed = {
        user["email"]: user["permissions"]
        for user in (await admin_client(USERS)).ok()["account"]["users"]["nodes"]
    }
    # When each person asks for their own viewer
    for client in (admin_client, basic_client, visits_client):
        viewer = (await client(VIEWER)).ok()["viewer"]
        # Then both answers are the same
        assert listed[viewer["email"]] == viewer["permissions"], viewer["email"]
    assert listed["admin@acme.example"] == ["VIEW_VISIT_ACTIVITY"]
    assert listed["basic@acme.example"] == []
