"""Reading authorizations over HTTP: who sees which, the derived status, filters, node, the
employee's list, every field, and a fixed number of statements per page."""

from __future__ import annotations

from typing import Any

import pytest

from portal.schema.employees import Employee
from portal.schema.relay import global_id
from portal.schema.users import PortalUser
from tests.conftest import StatementCounter
from tests.schema.authorizations.conftest import Authorizations, gid
from tests.support.graphql import GraphQLClient, assert_forbidden, assert_unauthenticated
from tests.support.world import World

LIST = """
query ($filter: AuthorizationFilter, $first: Int) {
  authorizations(first: $first, filter: $filter) {
    totalCount
    nodes { number status }
  }
}
"""

FULL = """
query ($id: ID!) {
  node(id: $id) {
    ... on Authorization {
      id number status modality validFrom validUntil specialInstructions createdAt sentAt
      employee { firstName lastName }
      location { name }
      medicalCenter { name hours }
      services { code name }
      servicePackage { name }
      recipients { kind name email sentAt }
      createdBy { kind name email }
      template { number }
      visit { id }
      history { kind at note recipientEmail actor { kind name } }
    }
  }
}
"""


async def numbers(client: GraphQLClient, filter: dict[str, Any] | None = None) -> list[str]:
    data = (await client(LIST, {"filter": filter, "first": 100})).ok()
    found = [node["number"] for node in data["authorizations"]["nodes"]]
    assert data["authorizations"]["totalCount"] == len(found)
    return sorted(found)


ACME_ALL = [
    "T-AUTH-0001",
    "T-AUTH-0002",
    "T-AUTH-0101",
    "T-AUTH-0102",
    "T-AUTH-0103",
    "T-AUTH-0104",
]


async def test_a_user_admin_sees_the_accounts_authorizations_but_no_deleted_one(
    admin_client: GraphQLClient, authorizations: Authorizations
) -> None:
    assert await numbers(admin_client) == ACME_ALL


async def test_a_basic_user_sees_only_the_authorizations_they_created(
    basic_client: GraphQLClient, authorizations: Authorizations
) -> None:
    assert await numbers(basic_client) == ["T-AUTH-0101", "T-AUTH-0102"]


async def test_a_third_party_administrator_sees_its_clients_authorizations(
    tpa_client: GraphQLClient, authorizations: Authorizations
) -> None:
    assert await numbers(tpa_client) == ["T-AUTH-0107"]


async def test_another_tenant_sees_only_its_own(
    globex_client: GraphQLClient, authorizations: Authorizations
) -> None:
    assert await numbers(globex_client) == ["T-AUTH-0106"]


async def test_staff_see_every_account_but_no_deleted_one(
    staff_client: GraphQLClient, authorizations: Authorizations
) -> None:
    assert await numbers(staff_client) == sorted([*ACME_ALL, "T-AUTH-0106", "T-AUTH-0107"])


async def test_an_api_client_with_the_read_scope_sees_its_account(
    reader: Any, authorizations: Authorizations
) -> None:
    _, client = reader
    assert await numbers(client) == ACME_ALL


async def test_an_api_client_without_the_scope_and_anonymous_are_refused(
    api_client: GraphQLClient, anonymous_client: GraphQLClient, authorizations: Authorizations
) -> None:
    assert_forbidden(await api_client(LIST), ["authorizations"])
    assert_unauthenticated(await anonymous_client(LIST))


async def test_the_status_is_derived_when_read(
    admin_client: GraphQLClient, authorizations: Authorizations
) -> None:
    data = (await admin_client(LIST, {"first": 100})).ok()
    status = {node["number"]: node["status"] for node in data["authorizations"]["nodes"]}
    assert status["T-AUTH-0101"] == "ACTIVE"
    assert status["T-AUTH-0102"] == "EXPIRED"  # ended yesterday: nothing stored says so
    assert status["T-AUTH-0104"] == "CANCELLED"
    assert status["T-AUTH-0001"] == "USED"


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"status": "EXPIRED"}, ["T-AUTH-0102"]),
        ({"status": "ACTIVE"}, ["T-AUTH-0101", "T-AUTH-0103"]),
        ({"number": "t-auth-0103"}, ["T-AUTH-0103"]),
        ({"employeeName": "jones bo"}, ["T-AUTH-0002", "T-AUTH-0103", "T-AUTH-0104"]),
        ({"modality": "TELEMEDICINE"}, ["T-AUTH-0103"]),
    ],
    ids=["status-expired", "status-active", "number", "employee-name", "modality"],
)
async def test_filters(
    admin_client: GraphQLClient,
    authorizations: Authorizations,
    filter: dict[str, Any],
    expected: list[str],
) -> None:
    assert await numbers(admin_client, filter) == expected


async def test_filters_by_employee_creator_and_valid_day(
    admin_client: GraphQLClient, authorizations: Authorizations, world: World
) -> None:
    alice = global_id(Employee, world.results.alice.id)
    assert await numbers(admin_client, {"employeeId": alice}) == [
        "T-AUTH-0001",
        "T-AUTH-0101",
        "T-AUTH-0102",
    ]
    basic = global_id(PortalUser, world.acme_basic.id)
    assert await numbers(admin_client, {"createdBy": basic}) == ["T-AUTH-0101", "T-AUTH-0102"]
    yesterday = authorizations.basic_expired.valid_until.isoformat()
    assert "T-AUTH-0102" in await numbers(admin_client, {"validOn": yesterday})
    today_valid = await numbers(
        admin_client, {"validOn": authorizations.basic_active.valid_until.isoformat()}
    )
    assert "T-AUTH-0102" not in today_valid


async def test_node_applies_the_same_rules(
    admin_client: GraphQLClient,
    basic_client: GraphQLClient,
    globex_client: GraphQLClient,
    api_client: GraphQLClient,
    authorizations: Authorizations,
) -> None:
    query = "query ($id: ID!) { node(id: $id) { ... on Authorization { number } } }"

    async def node(client: GraphQLClient, row_id: Any) -> Any:
        return (await client(query, {"id": gid(row_id)})).ok()["node"]

    # A Basic user sees their own, not another user's (answers like an unknown id)
    assert await node(basic_client, authorizations.basic_active.id) == {"number": "T-AUTH-0101"}
    assert await node(basic_client, authorizations.admin_active.id) is None
    # A deleted one is gone, another tenant's looks unknown
    assert await node(admin_client, authorizations.admin_deleted.id) is None
    assert await node(admin_client, authorizations.globex_active.id) is None
    assert await node(globex_client, authorizations.globex_active.id) == {"number": "T-AUTH-0106"}
    # An API client without the scope gets nothing
    assert await node(api_client, authorizations.basic_active.id) is None


async def test_every_field_of_an_authorization(
    admin_client: GraphQLClient, authorizations: Authorizations, world: World
) -> None:
    data = (await admin_client(FULL, {"id": gid(authorizations.basic_active.id)})).ok()
    node = data["node"]
    assert node["number"] == "T-AUTH-0101"
    assert node["modality"] == "IN_CENTER"
    assert node["employee"] == {"firstName": "Alice", "lastName": "Smith"}
    assert node["location"] == {"name": "Dallas Hub"}
    assert node["medicalCenter"]["name"] == world.centers[0].name
    assert node["services"] == [{"code": "DRUG_SCREEN", "name": node["services"][0]["name"]}]
    assert node["recipients"][0]["email"] == world.results.alice.email
    assert node["recipients"][0]["sentAt"] is not None
    assert node["createdBy"] == {
        "kind": "USER",
        "name": "Basic Acme",
        "email": "basic@acme.example",
    }
    assert node["visit"] is None
    assert [entry["kind"] for entry in node["history"]] == ["CREATED"]
    assert node["history"][0]["actor"]["kind"] == "USER"


async def test_the_visit_that_used_it(admin_client: GraphQLClient, world: World) -> None:
    used = world.results.visits_authorization
    data = (await admin_client(FULL, {"id": gid(used.id)})).ok()
    assert data["node"]["status"] == "USED"
    assert data["node"]["visit"]["id"]


async def test_an_employees_authorizations_follow_the_same_rules(
    basic_client: GraphQLClient,
    admin_client: GraphQLClient,
    authorizations: Authorizations,
    world: World,
) -> None:
    query = """
    query ($id: ID!) { node(id: $id) { ... on Employee { authorizations { number } } } }
    """
    alice = global_id(Employee, world.results.alice.id)
    basic = (await basic_client(query, {"id": alice})).ok()["node"]["authorizations"]
    admin = (await admin_client(query, {"id": alice})).ok()["node"]["authorizations"]
    assert sorted(a["number"] for a in basic) == ["T-AUTH-0101", "T-AUTH-0102"]
    assert sorted(a["number"] for a in admin) == ["T-AUTH-0001", "T-AUTH-0101", "T-AUTH-0102"]


PAGE = """
{
  authorizations(first: 50) {
    nodes {
      number status
      employee { lastName } location { name } medicalCenter { name }
      services { code } servicePackage { name } recipients { email }
      createdBy { name } template { number } history { kind actor { name } }
    }
  }
}
"""


async def test_a_page_costs_a_fixed_number_of_statements(
    staff_client: GraphQLClient, authorizations: Authorizations, count_queries: StatementCounter
) -> None:
    # Given a page of every visible authorization with every nested object
    count_queries.reset()
    data = (await staff_client(PAGE)).ok()
    assert len(data["authorizations"]["nodes"]) == 8
    many = count_queries.count
    # Then the statements do not grow with the rows: a one-row page costs as many at most
    count_queries.reset()
    (await staff_client(PAGE.replace("first: 50", "first: 1"))).ok()
    assert many <= count_queries.count + 1, count_queries.statements


async def test_an_hr_system_reading_visits_but_not_authorizations_is_refused_the_field(
    http: Any, tokens: Any, db: Any, world: World, authorizations: Authorizations
) -> None:
    from tests.schema.authorizations.conftest import hr_client

    _, client = await hr_client(db, world, tokens, http, ("visits:read",))
    query = "{ employees(first: 1) { nodes { firstName authorizations { number } } } }"
    response = await client(query)
    assert_forbidden(response, ["employees", "nodes", 0, "authorizations"])
