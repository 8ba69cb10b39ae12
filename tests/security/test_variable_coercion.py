"""Stop-the-line item 7: a variable that does not fit its type is the caller's error.

Every generated client sends variables; a bad Date or DateTime, "abc" for an Int, an unknown enum
value answered INTERNAL with a logged stack trace, while the same values inline were
BAD_USER_INPUT. Now both are BAD_USER_INPUT, a variable's with its path (``$d``,
``$filter.postedAfter``), before execution, and nothing is logged as unexpected."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from graphql import GraphQLScalarType, OperationDefinitionNode, build_schema
from graphql import parse as gql_parse

from portal.schema.limits.inputs import InputLimits, check_inputs
from tests.support.graphql import GraphQLClient
from tests.support.world import World

CASES = [
    # (scalar, variable type, field using it, bad value)
    ("Date", "Date", "employees(filter: {dateOfBirth: $v}) { totalCount }", "1990-13-45"),
    ("DateTime", "DateTime", "documents(filter: {postedAfter: $v}) { totalCount }", "yesterday"),
    ("Int", "Int", "documents(first: $v) { totalCount }", "abc"),
    ("Int (float)", "Int", "documents(first: $v) { totalCount }", 2.5),
    ("Int (too big)", "Int", "documents(first: $v) { totalCount }", 2**40),
    ("Boolean", "Boolean", "documents(filter: {archived: $v}) { totalCount }", "yes"),
    ("ID", "ID!", "node(id: $v) { id }", {"not": "an id"}),
    ("String", "String", "documents(filter: {name: $v}) { totalCount }", ["a", "list"]),
    ("enum", "VisitType", "documents(filter: {visitType: $v}) { totalCount }", "SURGERY"),
    (
        "enum (lower case)",
        "VisitType",
        "documents(filter: {visitType: $v}) { totalCount }",
        "injury",
    ),
]


@pytest.mark.parametrize(
    ("type_name", "query", "value"),
    [pytest.param(t, f"query($v: {t}) {{ {q} }}", v, id=name) for name, t, q, v in CASES],
)
async def test_a_variable_of_the_wrong_type_is_bad_input(
    staff_client: GraphQLClient,
    caplog: pytest.LogCaptureFixture,
    type_name: str,
    query: str,
    value: Any,
) -> None:
    # Given a value that does not fit the variable's type
    # When it is sent as a variable
    with caplog.at_level(logging.ERROR):
        response = await staff_client(query, {"v": value})
    # Then it is the caller's error, on the variable, before anything ran
    assert response.status_code == 200, response.body
    assert response.data is None
    [error] = response.errors
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["field"] == "$v"
    assert "$v" in error["message"]
    assert type_name.rstrip("!") in error["message"] or "Enum" in error["message"]
    # and nothing was logged as an unexpected failure
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_the_path_inside_an_input_object_is_given(staff_client: GraphQLClient) -> None:
    # Given a filter variable whose postedAfter is not a DateTime
    response = await staff_client(
        "query($filter: DocumentFilter) { documents(filter: $filter) { totalCount } }",
        {"filter": {"claimNumber": "CLM-1001", "postedAfter": "last tuesday"}},
    )
    # Then the error names the path inside the variable
    [error] = response.errors
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "$filter.postedAfter"}
    assert "DateTime" in error["message"]


async def test_a_date_that_does_not_exist_is_bad_input(staff_client: GraphQLClient) -> None:
    # Given a Date that has the right shape but does not exist
    response = await staff_client(
        "query($filter: EmployeeFilter) { employees(filter: $filter) { totalCount } }",
        {"filter": {"dateOfBirth": "1990-02-30"}},
    )
    # Then the caller reads what is wrong at the variable's path
    [error] = response.errors
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "$filter.dateOfBirth"}
    assert "Date" in error["message"]


def test_a_scalar_parser_exception_text_is_not_shown() -> None:
    # Given a scalar whose parser fails with a plain Python exception (not a GraphQLError)
    def parse(value: object) -> object:
        raise ValueError("internal detail: /srv/portal/secret.py line 3")

    schema = build_schema("scalar Odd type Query { echo(value: Odd): Int }")
    odd = schema.type_map["Odd"]
    assert isinstance(odd, GraphQLScalarType)
    odd.coerce_input_value = parse
    document = gql_parse("query($v: Odd) { echo(value: $v) }")
    operation = document.definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    # When a variable of that scalar is checked
    [error] = check_inputs(
        schema=schema,
        document=document,
        operation=operation,
        variables={"v": "x"},
        limits=InputLimits(max_string_length=100, max_list_length=10),
    )
    # Then the caller reads the expected type, never the exception's text
    assert (
        error.message
        == "Variable `$v` has an invalid value at `$v`: Expected a value of type `Odd`."
    )
    assert error.extensions == {"code": "BAD_USER_INPUT", "field": "$v"}


async def test_an_unknown_field_in_an_input_variable_is_bad_input(
    staff_client: GraphQLClient,
) -> None:
    response = await staff_client(
        "query($filter: DocumentFilter) { documents(filter: $filter) { totalCount } }",
        {"filter": {"employeName": "smith"}},
    )
    [error] = response.errors
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "$filter"}
    assert "employeName" in error["message"]


async def test_a_missing_required_variable_is_bad_input(staff_client: GraphQLClient) -> None:
    response = await staff_client("query($id: ID!) { node(id: $id) { id } }", {})
    [error] = response.errors
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "$id"}
    assert "was not provided" in error["message"]


async def test_a_null_for_a_required_variable_is_bad_input(staff_client: GraphQLClient) -> None:
    response = await staff_client("query($id: ID!) { node(id: $id) { id } }", {"id": None})
    [error] = response.errors
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "$id"}


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("1990-13-45", id="Date"),
        pytest.param(True, id="Date given a Boolean"),
    ],
)
async def test_the_same_values_inline_are_bad_input_too(
    staff_client: GraphQLClient, value: Any
) -> None:
    literal = f'"{value}"' if isinstance(value, str) else str(value).lower()
    response = await staff_client(
        f"{{ employees(filter: {{dateOfBirth: {literal}}}) {{ totalCount }} }}"
    )
    assert response.error_codes() == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("%PDF-1.4 pretend", id="a text"),
        pytest.param(42, id="a number"),
        pytest.param({"filename": "x.pdf"}, id="an object"),
        pytest.param(["a", "b"], id="a list"),
    ],
)
async def test_an_upload_variable_that_is_not_a_file_part_is_a_user_error(
    staff_client: GraphQLClient,
    world: World,
    caplog: pytest.LogCaptureFixture,
    value: Any,
) -> None:
    # Given postDocument sent as plain JSON, the Upload variable holding something else
    from portal.schema.relay import global_id
    from portal.schema.visits import Visit

    payload = {
        "visitId": global_id(Visit, world.results.alice_injury.id),
        "reportType": "INJURY_ACTIVITY_STATUS_REPORT",
        "name": "Result",
        "file": value,
    }
    with caplog.at_level(logging.ERROR):
        response = await staff_client(
            "mutation($input: PostDocumentInput!) { postDocument(input: $input) "
            "{ document { id } userErrors { field code } } }",
            {"input": payload},
        )
    # Then it is never INTERNAL: the mutation's own user error on the file
    assert response.ok()["postDocument"]["userErrors"] == [{"field": "file", "code": "EMPTY_FILE"}]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
