"""Stop-the-line item 6: every string input is bounded before any work, the name searches take a
few words, and each refusal names the field (BAD_USER_INPUT)."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette

from portal.resolvers.names import MAX_NAME_WORDS
from tests.conftest import StatementCounter
from tests.support.graphql import GraphQLClient, GraphQLResponse

SEARCH = (
    "query Search($name: String!) { documents(first: 10, filter: {employeeName: $name}) "
    "{ totalCount edges { node { id } } } }"
)


def refused(response: GraphQLResponse, field: str) -> str:
    """The one BAD_USER_INPUT error naming ``field``, before any data; its message."""
    assert response.status_code == 200, response.body
    assert response.data is None, response.body
    [error] = response.errors
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["field"] == field, error
    message: str = error["message"]
    return message


async def test_a_megabyte_of_name_words_is_refused_before_any_query(
    basic_client: GraphQLClient, count_queries: StatementCounter
) -> None:
    # Given 1 MB of "ab " as the employee name (it ran 64 s, grew the server by 1.15 GB and
    # ended INTERNAL)
    words = "ab " * 333_333
    # When a Basic user searches with it
    count_queries.reset()
    response = await basic_client(SEARCH, {"name": words})
    # Then it is refused on the field, and the search never reached the database
    message = refused(response, "filter.employeeName")
    assert "longer than 200 characters" in message
    assert not [s for s in count_queries.statements if "documents" in s]


async def test_the_same_inline_is_refused_too(basic_client: GraphQLClient) -> None:
    # Given a 201-character name written in the document
    long_name = "a" * 201
    # When it is searched, then the bound declared on the field applies
    response = await basic_client(
        f'{{ documents(filter: {{employeeName: "{long_name}"}}) {{ totalCount }} }}'
    )
    assert "longer than 200 characters" in refused(response, "filter.employeeName")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (
            "query($v: String!) { documents(filter: {employeeName: $v}) { totalCount } }",
            "filter.employeeName",
        ),
        ("query($v: String!) { employees(filter: {name: $v}) { totalCount } }", "filter.name"),
    ],
)
async def test_name_searches_take_a_few_words(
    admin_client: GraphQLClient, query: str, field: str
) -> None:
    # Given a short name query of one word too many
    words = " ".join(["smi"] * (MAX_NAME_WORDS + 1))
    assert len(words) < 200
    # When it is searched, then the caller is told the word limit, on the field
    response = await admin_client(query, {"v": words})
    assert response.status_code == 200
    [error] = response.errors
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert f"at most {MAX_NAME_WORDS}" in error["message"]


async def test_a_name_of_the_most_words_still_searches(admin_client: GraphQLClient) -> None:
    # Given as many words as allowed, all in Alice Smith's name
    words = " ".join(["ali", "smi"] * (MAX_NAME_WORDS // 2))
    # When they are searched, then Alice's results are found
    response = await admin_client(SEARCH, {"name": words})
    assert response.ok()["documents"]["totalCount"] >= 1


FILTER_BOUNDS = [
    ("documents", "DocumentFilter", "employeeName", 200),
    ("documents", "DocumentFilter", "state", 64),
    ("documents", "DocumentFilter", "medicalCenterId", 128),
    ("documents", "DocumentFilter", "claimNumber", 64),
    ("documents", "DocumentFilter", "name", 200),
    ("documents", "DocumentFilter", "reportType", 64),
    ("documents", "DocumentFilter", "locationId", 128),
    ("employees", "EmployeeFilter", "name", 200),
    ("employees", "EmployeeFilter", "locationId", 128),
    ("employees", "EmployeeFilter", "employeeNumber", 64),
    ("visits", "VisitFilter", "employeeId", 128),
    ("visits", "VisitFilter", "claimNumber", 64),
    ("visits", "VisitFilter", "medicalCenterId", 128),
    ("auditEvents", "AuditEventFilter", "action", 64),
    ("auditEvents", "AuditEventFilter", "accountId", 128),
    ("auditEvents", "AuditEventFilter", "objectId", 128),
]


@pytest.mark.parametrize(("root", "input_type", "field", "bound"), FILTER_BOUNDS)
async def test_every_filter_string_is_bounded(
    staff_client: GraphQLClient, root: str, input_type: str, field: str, bound: int
) -> None:
    # Given a filter whose one string is a character over its bound, sent as a variable
    query = f"query($f: {input_type}) {{ {root}(first: 1, filter: $f) {{ totalCount }} }}"
    # When staff (who may read every list) send it
    response = await staff_client(query, {"f": {field: "x" * (bound + 1)}})
    # Then it is refused on that field, naming the bound
    assert f"longer than {bound} characters" in refused(response, f"filter.{field}")


@pytest.mark.parametrize(("root", "input_type", "field", "bound"), FILTER_BOUNDS)
def test_every_filter_bound_is_in_the_schema(
    app: Starlette, root: str, input_type: str, field: str, bound: int
) -> None:
    # Given the printed schema, then each bound is declared beside its field
    sdl = app.state.schema.as_str()
    block = sdl.split(f"input {input_type} {{", 1)[1].split("}", 1)[0]
    assert f"{field}: " in block
    line = next(line for line in block.splitlines() if line.strip().startswith(f"{field}:"))
    assert line.strip().endswith(f"@maxLength(chars: {bound})"), line


async def test_any_string_has_a_bound_even_undeclared(admin_client: GraphQLClient) -> None:
    # Given a cursor of 10,001 characters (no bound is declared on `after`)
    cursor = "x" * 10_001
    # When it is sent, inline or as a variable, then the default bound refuses it
    inline = await admin_client(f'{{ documents(after: "{cursor}") {{ totalCount }} }}')
    assert "longer than 10000 characters" in refused(inline, "after")
    variable = await admin_client(
        "query($a: String) { documents(after: $a) { totalCount } }", {"a": cursor}
    )
    assert "longer than 10000 characters" in refused(variable, "after")


async def test_lists_in_variables_are_bounded(admin_client: GraphQLClient) -> None:
    # Given 1,001 ids in a variable
    ids = [f"id-{n}" for n in range(1001)]
    # When they are sent, then the list is refused before any id is looked at
    response = await admin_client("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids})
    assert "more than 1000 items" in refused(response, "ids")
