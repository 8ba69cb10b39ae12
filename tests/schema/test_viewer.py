"""``viewer``: who am I, for each kind of caller."""

from __future__ import annotations

from tests.support.graphql import GraphQLClient

VIEWER = "{ viewer { id email role permissions scopes account { id name } } }"


async def test_user_admin_sees_role_account_and_all_permissions(
    admin_client: GraphQLClient,
) -> None:
    viewer = (await admin_client(VIEWER)).ok()["viewer"]
    assert viewer["email"] == "admin@acme.example"
    assert viewer["role"] == "USER_ADMIN"
    assert viewer["permissions"] == ["VIEW_VISIT_ACTIVITY"]
    assert viewer["scopes"] == []
    assert viewer["account"]["name"] == "Acme Logistics"


async def test_basic_user_holds_only_granted_permissions(
    basic_client: GraphQLClient, visits_client: GraphQLClient
) -> None:
    basic = (await basic_client(VIEWER)).ok()["viewer"]
    assert basic["role"] == "BASIC"
    assert basic["permissions"] == []
    granted = (await visits_client(VIEWER)).ok()["viewer"]
    assert granted["permissions"] == ["VIEW_VISIT_ACTIVITY"]


async def test_staff_has_no_account(staff_client: GraphQLClient) -> None:
    viewer = (await staff_client(VIEWER)).ok()["viewer"]
    assert viewer["role"] == "STAFF"
    assert viewer["email"] == "support@portal.example"
    assert viewer["account"] is None


async def test_api_client_sees_its_scopes_and_account(api_client: GraphQLClient) -> None:
    viewer = (await api_client(VIEWER)).ok()["viewer"]
    assert viewer["role"] == "API_CLIENT"
    assert viewer["email"] is None
    assert viewer["scopes"] == ["account:read", "documents:read"]
    assert viewer["account"]["name"] == "Acme Logistics"


async def test_viewer_ids_are_opaque_and_distinct(
    admin_client: GraphQLClient, basic_client: GraphQLClient
) -> None:
    admin_id = (await admin_client(VIEWER)).ok()["viewer"]["id"]
    basic_id = (await basic_client(VIEWER)).ok()["viewer"]["id"]
    assert admin_id != basic_id
    assert "-" not in admin_id  # not a bare UUID
