"""Persisted operations (issue 15): a User Admin may limit an API client to an allow-list of
operation hashes (the SHA-256 of each exact query text); the client's other documents are then
refused before any other work (FORBIDDEN, reason OPERATION_NOT_ALLOWED)."""

from __future__ import annotations

import hashlib

from portal.schema.api_clients import ApiClient
from portal.schema.relay import global_id
from tests.support.graphql import GraphQLClient
from tests.support.world import World

SET_OPERATIONS = """
mutation ($input: SetApiClientOperationsInput!) {
  setApiClientOperations(input: $input) {
    apiClient { id allowedOperations }
    userErrors { field code }
  }
}
"""
REGISTERED = "query Documents { documents(first: 5) { totalCount } }"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def _limit(admin: GraphQLClient, world: World, hashes: list[str]) -> dict[str, object]:
    response = await admin(
        SET_OPERATIONS,
        {"input": {"id": global_id(ApiClient, world.acme_client.id), "operationHashes": hashes}},
    )
    payload: dict[str, object] = response.ok()["setApiClientOperations"]
    return payload


async def test_a_limited_client_runs_only_its_registered_operations(
    admin_client: GraphQLClient, api_client: GraphQLClient, world: World
) -> None:
    # Given the User Admin limits the account's API client to one operation
    payload = await _limit(admin_client, world, [sha256(REGISTERED).upper()])
    assert payload["userErrors"] == []
    assert payload["apiClient"] == {
        "id": global_id(ApiClient, world.acme_client.id),
        "allowedOperations": [sha256(REGISTERED)],
    }
    # When the client sends that exact document, then it runs
    assert "totalCount" in (await api_client(REGISTERED)).ok()["documents"]
    # When it sends any other document (even one space different)
    other = REGISTERED + " "
    refused = await api_client(other)
    # Then it is refused before anything ran, with the hash it would need
    assert refused.data is None
    [error] = refused.errors
    assert error["extensions"] == {
        "code": "FORBIDDEN",
        "reason": "OPERATION_NOT_ALLOWED",
        "operationHash": sha256(other),
    }


async def test_an_empty_list_lifts_the_limit(
    admin_client: GraphQLClient, api_client: GraphQLClient, world: World
) -> None:
    await _limit(admin_client, world, [sha256(REGISTERED)])
    assert (await api_client("{ viewer { role } }")).error_codes() == ["FORBIDDEN"]
    # When the list is emptied, then any operation its scopes allow runs again
    payload = await _limit(admin_client, world, [])
    assert payload["apiClient"] == {
        "id": global_id(ApiClient, world.acme_client.id),
        "allowedOperations": [],
    }
    assert (await api_client("{ viewer { role } }")).ok()["viewer"]["role"] == "API_CLIENT"


async def test_people_are_never_limited(
    admin_client: GraphQLClient, basic_client: GraphQLClient, world: World
) -> None:
    # Given a limited API client, then the people of the account are not limited by it
    await _limit(admin_client, world, [sha256(REGISTERED)])
    assert (await basic_client("{ viewer { email } }")).ok()


async def test_a_malformed_hash_is_a_user_error(
    admin_client: GraphQLClient, api_client: GraphQLClient, world: World
) -> None:
    payload = await _limit(admin_client, world, [sha256(REGISTERED), "not-a-hash"])
    assert payload == {
        "apiClient": None,
        "userErrors": [{"field": "operationHashes.1", "code": "BAD_USER_INPUT"}],
    }
    # and nothing was written: the client is still unlimited
    assert (await api_client("{ viewer { role } }")).ok()


async def test_too_many_operations_are_a_user_error(
    admin_client: GraphQLClient, world: World
) -> None:
    hashes = [sha256(str(n)) for n in range(501)]
    payload = await _limit(admin_client, world, hashes)
    assert payload == {
        "apiClient": None,
        "userErrors": [{"field": "operationHashes", "code": "BAD_USER_INPUT"}],
    }


async def test_another_accounts_client_is_unknown(
    globex_client: GraphQLClient, api_client: GraphQLClient, world: World
) -> None:
    # Given Globex's User Admin names Acme's API client
    payload = await _limit(globex_client, world, [sha256(REGISTERED)])
    # Then it answers like an unknown id, and Acme's client is not limited
    assert payload == {"apiClient": None, "userErrors": [{"field": "id", "code": "NOT_FOUND"}]}
    assert (await api_client("{ viewer { role } }")).ok()
