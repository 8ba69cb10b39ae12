"""Service packages: staff create, update and archive them; the account's people see them on
`Account.servicePackages` and authorize with them; an archived one is refused for new ones."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from portal.schema.accounts import Account
from portal.schema.catalog import Service
from portal.schema.relay import global_id
from portal.schema.service_packages import ServicePackage
from portal.seed.reference import reference_id
from tests.schema.authorizations.conftest import CREATE, base_input
from tests.support.graphql import GraphQLClient, assert_forbidden
from tests.support.world import World

CREATE_PACKAGE = """
mutation ($input: CreateServicePackageInput!) {
  createServicePackage(input: $input) {
    servicePackage { id name description archivedAt services { code } }
    userErrors { field code }
  }
}
"""
UPDATE_PACKAGE = """
mutation ($input: UpdateServicePackageInput!) {
  updateServicePackage(input: $input) {
    servicePackage { name description services { code } }
    userErrors { field code }
  }
}
"""
ARCHIVE_PACKAGE = """
mutation ($id: ID!) {
  archiveServicePackage(input: {id: $id}) {
    servicePackage { archivedAt }
    userErrors { field code }
  }
}
"""
PACKAGES = "query ($id: ID!) { account(id: $id) { servicePackages { name services { code } } } }"


def service(code: str) -> str:
    return global_id(Service, reference_id("service", code))


def new_package(world: World, **changes: Any) -> dict[str, Any]:
    return {
        "accountId": global_id(Account, world.acme.id),
        "name": "New hire bundle",
        "description": "Physical and drug screen.",
        "serviceIds": [service("DRUG_SCREEN"), service("PRE_PLACEMENT_PHYSICAL")],
        **changes,
    }


async def make(staff_client: GraphQLClient, world: World) -> dict[str, Any]:
    data = (await staff_client(CREATE_PACKAGE, {"input": new_package(world)})).ok()
    package: dict[str, Any] = data["createServicePackage"]["servicePackage"]
    return package


async def test_staff_create_a_package_the_accounts_people_see_and_use(
    staff_client: GraphQLClient,
    admin_client: GraphQLClient,
    basic_client: GraphQLClient,
    world: World,
) -> None:
    package = await make(staff_client, world)
    assert sorted(s["code"] for s in package["services"]) == [
        "DRUG_SCREEN",
        "PRE_PLACEMENT_PHYSICAL",
    ]
    seen = (await basic_client(PACKAGES, {"id": global_id(Account, world.acme.id)})).ok()
    assert [p["name"] for p in seen["account"]["servicePackages"]] == ["New hire bundle"]
    # And an authorization made with it carries its services and names it
    given = base_input(world, serviceIds=[], servicePackageId=package["id"])
    query = CREATE.replace("services { code }", "services { code } servicePackage { name }")
    made = (await admin_client(query, {"input": given})).ok()["createAuthorization"]
    assert made["userErrors"] == []
    assert sorted(s["code"] for s in made["authorization"]["services"]) == [
        "DRUG_SCREEN",
        "PRE_PLACEMENT_PHYSICAL",
    ]
    assert made["authorization"]["servicePackage"] == {"name": "New hire bundle"}


async def test_another_tenant_does_not_see_or_use_the_package(
    staff_client: GraphQLClient, globex_client: GraphQLClient, world: World
) -> None:
    package = await make(staff_client, world)
    node = "query ($id: ID!) { node(id: $id) { ... on ServicePackage { name } } }"
    assert (await globex_client(node, {"id": package["id"]})).ok()["node"] is None
    given = base_input(
        world,
        employeeId=global_id(
            __import__("portal.schema.employees", fromlist=["Employee"]).Employee,
            world.results.gina.id,
        ),
        medicalCenterId=None,
        modality="TELEMEDICINE",
        serviceIds=[],
        servicePackageId=package["id"],
    )
    made = (await globex_client(CREATE, {"input": given})).ok()["createAuthorization"]
    assert {"field": "servicePackageId", "code": "NOT_FOUND"} in [
        {"field": e["field"], "code": e["code"]} for e in made["userErrors"]
    ]


async def test_update_and_archive(
    staff_client: GraphQLClient, admin_client: GraphQLClient, world: World
) -> None:
    package = await make(staff_client, world)
    updated = (
        await staff_client(
            UPDATE_PACKAGE,
            {
                "input": {
                    "id": package["id"],
                    "name": "Bundle B",
                    "serviceIds": [service("AUDIOGRAM")],
                }
            },
        )
    ).ok()["updateServicePackage"]
    assert updated["servicePackage"]["name"] == "Bundle B"
    assert updated["servicePackage"]["description"] == "Physical and drug screen."
    assert updated["servicePackage"]["services"] == [{"code": "AUDIOGRAM"}]
    archived = (await staff_client(ARCHIVE_PACKAGE, {"id": package["id"]})).ok()
    assert archived["archiveServicePackage"]["servicePackage"]["archivedAt"] is not None
    given = base_input(world, serviceIds=[], servicePackageId=package["id"])
    made = (await admin_client(CREATE, {"input": given})).ok()["createAuthorization"]
    assert {"field": "servicePackageId", "code": "BAD_USER_INPUT"} in [
        {"field": e["field"], "code": e["code"]} for e in made["userErrors"]
    ]


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"name": "  "}, "name", "BAD_USER_INPUT"),
        ({"name": "x" * 201}, "name", "BAD_USER_INPUT"),
        ({"description": "x" * 1001}, "description", "BAD_USER_INPUT"),
        ({"serviceIds": []}, "serviceIds", "BAD_USER_INPUT"),
        ({"serviceIds": ["nope"]}, "serviceIds.0", "BAD_USER_INPUT"),
        ({"accountId": "UNKNOWN"}, "accountId", "NOT_FOUND"),
        ({"name": "DUPLICATE"}, "name", "BAD_USER_INPUT"),
    ],
    ids=[
        "blank-name",
        "long-name",
        "long-description",
        "no-service",
        "bad-service-id",
        "unknown-account",
        "same-name",
    ],
)
async def test_package_user_errors(
    staff_client: GraphQLClient, world: World, changes: dict[str, Any], field: str, code: str
) -> None:
    if changes.get("name") == "DUPLICATE":
        await make(staff_client, world)
        changes = {"name": "New hire bundle"}
    if changes.get("accountId") == "UNKNOWN":
        changes = {"accountId": global_id(Account, uuid.UUID(int=5))}
    data = (await staff_client(CREATE_PACKAGE, {"input": new_package(world, **changes)})).ok()
    assert data["createServicePackage"]["userErrors"] == [{"field": field, "code": code}]


async def test_unknown_package_on_update_and_archive(staff_client: GraphQLClient) -> None:
    unknown = global_id(ServicePackage, uuid.UUID(int=9))
    update = (await staff_client(UPDATE_PACKAGE, {"input": {"id": unknown, "name": "x"}})).ok()
    archive = (await staff_client(ARCHIVE_PACKAGE, {"id": unknown})).ok()
    assert update["updateServicePackage"]["userErrors"] == [{"field": "id", "code": "NOT_FOUND"}]
    assert archive["archiveServicePackage"]["userErrors"] == [{"field": "id", "code": "NOT_FOUND"}]


@pytest.mark.parametrize("actor", ["admin", "basic", "api_client", "provider_client"])
async def test_only_staff_manage_packages(
    actor: str, clients: dict[str, GraphQLClient], world: World
) -> None:
    response = await clients[actor](CREATE_PACKAGE, {"input": new_package(world)})
    assert_forbidden(response, ["createServicePackage"])


async def test_an_idempotent_retry_answers_the_first_package(
    staff_client: GraphQLClient, world: World
) -> None:
    given = {"input": new_package(world, idempotencyKey="package-1")}
    first = (await staff_client(CREATE_PACKAGE, given)).ok()["createServicePackage"]
    again = (await staff_client(CREATE_PACKAGE, given)).ok()["createServicePackage"]
    assert again["userErrors"] == []
    assert again["servicePackage"]["id"] == first["servicePackage"]["id"]
    other = {"input": new_package(world, name="Other", idempotencyKey="package-1")}
    refused = (await staff_client(CREATE_PACKAGE, other)).ok()["createServicePackage"]
    assert refused["userErrors"] == [{"field": "idempotencyKey", "code": "IDEMPOTENCY_KEY_REUSED"}]
