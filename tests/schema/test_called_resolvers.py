"""Fields whose resolver Strawberry would call with nothing more than its arguments (no
extensions but ``@requires``, no permission classes, arguments that need no conversion or inputs
of leaves) are given that resolver directly (schema/execution.py ``_called_resolver``): the same
answers and errors, without Strawberry's wrappers around each call."""

from __future__ import annotations

import copy
import enum
from datetime import date
from typing import Any

import pytest
import strawberry
from graphql import ExecutionResult, GraphQLObjectType, execute, parse
from strawberry.types import Info

from portal.schema import build_schema
from portal.schema.execution import mark_plain_fields


@strawberry.enum
class Size(enum.Enum):
    SMALL = "small"
    BIG = "big"


@strawberry.input
class Filter:
    name: str | None = None
    size: Size | None = None
    since: date | None = None
    ref: strawberry.ID | None = None
    limit: int = 3


@strawberry.input
class Nested:
    inner: Filter | None = None
    tags: list[str] | None = None


@strawberry.type
class Item:
    name: str

    @strawberry.field
    def shout(self, info: Info, times: int = 1, suffix: str | None = None) -> str:
        return (self.name.upper() + (suffix or "!")) * times + f" ({info.field_name})"

    @strawberry.field
    def parent_name(self, root: Item) -> str:
        return f"root {root.name}"

    @strawberry.field
    async def later(self, tags: list[str]) -> list[str]:
        return [f"{self.name}:{tag}" for tag in tags]

    @strawberry.field
    def fails(self) -> str | None:
        raise ValueError("no luck")


@strawberry.type
class Query:
    @strawberry.field
    def item(self, name: str) -> Item:
        return Item(name=name)

    @strawberry.field
    def context_value(self, info: Info) -> str:
        return str(info.context["who"])

    @strawberry.field
    async def search(self, filter: Filter | None = None, first: int = 1) -> str:
        return f"{filter!r} {first}"

    @strawberry.field
    def nested(self, given: Nested) -> str:
        return repr(given)


QUERY = """
{
  item(name: "box") {
    name shout once: shout(times: 2, suffix: "?") parentName later(tags: ["a", "b"]) fails
  }
  contextValue
  search(filter: { name: "ann", size: BIG, since: "2020-02-03", ref: "x1" }, first: 2)
  bare: search
  empty: search(filter: {})
  nested(given: { inner: { name: "in" }, tags: ["t"] })
}
"""


def _schema(marked: bool) -> Any:
    schema = strawberry.Schema(query=Query)
    graphql_schema = copy.copy(schema._schema) if not marked else schema._schema
    if marked:
        mark_plain_fields(graphql_schema, info_class=schema.config.info_class)
    return graphql_schema


async def _run(graphql_schema: Any) -> ExecutionResult:
    result = execute(graphql_schema, parse(QUERY), context_value={"who": "me"})
    if not isinstance(result, ExecutionResult):
        result = await result
    return result


@pytest.mark.parametrize("field", ["shout", "parentName", "later", "fails"])
def test_a_field_strawberry_would_call_plainly_gets_its_resolver_directly(field: str) -> None:
    # given the schema, marked as the portal's is
    graphql_schema = _schema(marked=True)

    # when its fields are looked at
    item = graphql_schema.type_map["Item"]
    assert isinstance(item, GraphQLObjectType)

    # then the field's resolver is called without Strawberry's wrappers
    assert item.fields[field].resolve.__qualname__.startswith("_called_resolver")


async def test_direct_calls_answer_as_strawberrys_wrappers_do() -> None:
    # given the same schema marked and left as Strawberry built it
    plain, marked = _schema(marked=False), _schema(marked=True)

    # when the same operation runs on both
    expected, answered = await _run(plain), await _run(marked)

    # then the data and the errors are the same
    assert answered.data == expected.data
    assert expected.data is not None
    assert expected.data["search"] == (
        "Filter(name='ann', size=<Size.BIG: 'big'>, since=datetime.date(2020, 2, 3), "
        "ref='x1', limit=3) 2"
    )
    assert expected.data["bare"] == "None 1"
    assert expected.data["item"]["once"] == "BOX?BOX? (shout)"
    assert expected.data["item"]["later"] == ["box:a", "box:b"]
    assert expected.data["contextValue"] == "me"
    assert [error.message for error in answered.errors or ()] == ["no luck"]
    assert [error.path for error in answered.errors or ()] == [
        error.path for error in expected.errors or ()
    ]


def test_a_field_taking_an_input_of_leaves_gets_its_resolver_directly() -> None:
    # given the schema, marked as the portal's is
    query = _schema(marked=True).query_type
    assert query is not None

    # when its fields taking inputs are looked at
    search, nested = query.fields["search"].resolve, query.fields["nested"].resolve

    # then an input of leaves is converted here; one holding another input or a list is not
    assert search.__qualname__.startswith("_called_resolver")
    assert not nested.__qualname__.startswith("_called_resolver")


def test_a_field_behind_requires_with_a_filter_is_called_directly_once_allowed() -> None:
    # given the portal's schema
    query = build_schema()._schema.query_type
    assert query is not None

    # when its documents field (@requires, a filter input) is looked at
    resolve = query.fields["documents"].resolve

    # then it decides the rule and calls the resolver itself (a denial takes the usual path,
    # whose answers the permission tests check)
    assert resolve.__qualname__ == "_called_resolver.<locals>.resolve_allowed"
