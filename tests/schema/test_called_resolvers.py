"""Fields whose resolver Strawberry would call with nothing more than its arguments (no
extensions, no permission classes, arguments that need no conversion) are given that resolver
directly (schema/execution.py ``_called_resolver``): the same answers and errors, without
Strawberry's wrappers around each call."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import strawberry
from graphql import ExecutionResult, GraphQLObjectType, execute, parse
from strawberry.types import Info

from portal.schema.execution import mark_plain_fields


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


QUERY = """
{
  item(name: "box") {
    name shout once: shout(times: 2, suffix: "?") parentName later(tags: ["a", "b"]) fails
  }
  contextValue
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
    assert expected.data["item"]["once"] == "BOX?BOX? (shout)"
    assert expected.data["item"]["later"] == ["box:a", "box:b"]
    assert expected.data["contextValue"] == "me"
    assert [error.message for error in answered.errors or ()] == ["no luck"]
    assert [error.path for error in answered.errors or ()] == [
        error.path for error in expected.errors or ()
    ]
