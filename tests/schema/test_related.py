"""Objects reached by foreign key are loaded ahead for a whole list (schema/related.py): one
statement per level whatever the page size, the same answers as field by field, and a field
outside a preloaded list still answers."""

from __future__ import annotations

from typing import Any

from portal.ids import global_id
from tests.conftest import StatementCounter
from tests.support.graphql import GraphQLClient
from tests.support.world import World

BARE_PAGE = "{ documents(first: 20) { edges { node { id name } } } }"

NESTED_PAGE = """{ documents(first: 20) { edges { node { id name
    reportType { code } employee { firstName lastName dateOfBirth }
    visit { visitType status claimNumber } medicalCenter { name } location { name }
} } } }"""

# Three levels below the page: the report type and the visit; the visit's employee; the
# employee's location.
DEEP_PAGE = """{ documents(first: 20) { nodes { id reportType { code }
    visit { status employee { firstName location { name } } }
} } }"""

# The same document through a named fragment, aliases and an inline fragment on an interface.
ONE_BY_FRAGMENTS = """query ($id: ID!) { node(id: $id) { ... on Node { id } ...Parts } }
fragment Parts on Document {
  first: employee { firstName }
  last: employee { lastName }
  visit { ... on Visit { visitType status } }
  location { name }
}"""

# Documents listed below an employee: that list is not loaded ahead, its fields load one by one.
BELOW_AN_EMPLOYEE = """query ($id: ID!) { node(id: $id) { ... on Employee {
  documents { name employee { firstName } location { name } reportType { code } }
} } }"""


def _statements_of(counter: StatementCounter, table: str) -> list[str]:
    return [sql for sql in counter.statements if f"FROM {table}" in sql]


async def _count(
    client: GraphQLClient, counter: StatementCounter, query: str, variables: Any = None
) -> tuple[Any, int]:
    counter.reset()
    data = (await client(query, variables or {})).ok()
    return data, counter.count


async def test_every_nested_object_of_a_page_costs_one_statement_in_all(
    admin_client: GraphQLClient, count_queries: StatementCounter, world: World
) -> None:
    # given a User Admin's page of Acme's documents, once bare and once with five nested objects
    _, bare = await _count(admin_client, count_queries, BARE_PAGE)

    # when the page is asked for with every nested object
    nested, with_nested = await _count(admin_client, count_queries, NESTED_PAGE)

    # then the five nested types cost one statement together, none of them one of its own
    assert with_nested == bare + 1, count_queries.statements
    assert not _statements_of(count_queries, "employees WHERE")
    # and the answers are those of the rows themselves (enums decoded, nulls kept)
    by_id = {edge["node"]["id"]: edge["node"] for edge in nested["documents"]["edges"]}
    subscribed = by_id[global_id("Document", world.results.subscribed.id)]
    assert subscribed["employee"]["firstName"] == world.results.alice.first_name
    assert subscribed["employee"]["dateOfBirth"] == world.results.alice.date_of_birth.isoformat()
    assert subscribed["location"]["name"] == world.acme_dallas.name
    visit = world.results.alice_injury
    assert subscribed["visit"] == {
        "visitType": visit.visit_type.value,
        "status": visit.status.value,
        "claimNumber": visit.claim_number,
    }


async def test_each_further_level_costs_one_more_statement(
    admin_client: GraphQLClient, count_queries: StatementCounter, world: World
) -> None:
    # given the bare page's cost
    _, bare = await _count(admin_client, count_queries, BARE_PAGE)

    # when the page asks for its visits, their employees, and the employees' locations
    deep, cost = await _count(admin_client, count_queries, DEEP_PAGE)

    # then each level costs one statement (report types and visits; employees; locations)
    assert cost == bare + 3, count_queries.statements
    employees = {
        node["visit"]["employee"]["firstName"]: node["visit"]["employee"]["location"]["name"]
        for node in deep["documents"]["nodes"]
    }
    assert employees[world.results.alice.first_name] == world.acme_dallas.name
    assert employees[world.results.bob.first_name] == world.acme_phoenix.name


async def test_fragments_and_aliases_below_node_are_loaded_ahead(
    admin_client: GraphQLClient, count_queries: StatementCounter, world: World
) -> None:
    # given one document asked for by id through fragments and aliases
    document = world.results.subscribed
    variables = {"id": global_id("Document", document.id)}

    # when it is read
    data, _ = await _count(admin_client, count_queries, ONE_BY_FRAGMENTS, variables)

    # then every aliased and fragment-selected object is answered, in one statement for all
    assert data["node"]["first"] == {"firstName": world.results.alice.first_name}
    assert data["node"]["last"] == {"lastName": world.results.alice.last_name}
    assert data["node"]["visit"]["status"] == world.results.alice_injury.status.value
    assert data["node"]["location"] == {"name": world.acme_dallas.name}
    assert len([sql for sql in count_queries.statements if "AS part_0" in sql]) == 1


async def test_a_field_outside_a_preloaded_list_still_answers(
    admin_client: GraphQLClient, world: World
) -> None:
    # given an employee's documents (a list no resolver loads ahead)
    alice = world.results.alice

    # when each document's employee, location and report type are asked for
    data = (await admin_client(BELOW_AN_EMPLOYEE, {"id": global_id("Employee", alice.id)})).ok()

    # then they are loaded by the field itself, with the same answers
    documents = data["node"]["documents"]
    assert documents
    assert {document["employee"]["firstName"] for document in documents} == {alice.first_name}
    assert all(document["location"]["name"] for document in documents)
    assert all(document["reportType"]["code"] for document in documents)


async def test_a_basic_user_gets_only_the_nested_objects_of_documents_they_see(
    basic_client: GraphQLClient, world: World
) -> None:
    # given the Basic user, subscribed to one report type at Dallas only
    # when they read the page with its nested objects (no date of birth: not theirs to see)
    data = (await basic_client(NESTED_PAGE.replace("dateOfBirth", ""))).ok()

    # then only their documents come, each with its own employee and location
    ids = {edge["node"]["id"] for edge in data["documents"]["edges"]}
    assert global_id("Document", world.results.other_location.id) not in ids
    assert global_id("Document", world.results.subscribed.id) in ids
    for edge in data["documents"]["edges"]:
        assert edge["node"]["location"]["name"] == world.acme_dallas.name
