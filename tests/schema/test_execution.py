"""Plain fields are answered straight from the object (schema/execution.py), with the same
answers and the same errors as the usual path, and every field takes the usual path when an
extension must see each one."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
import strawberry
from graphql import GraphQLObjectType
from starlette.applications import Starlette
from strawberry.extensions import SchemaExtension

from portal.ids import global_id
from portal.schema.execution import PLAIN_FIELD, PortalExecutionContext, mark_plain_fields
from tests.support.graphql import GraphQLClient
from tests.support.world import World

PAGE = "{ documents(first: 20) { edges { cursor node { id name pageCount } } } }"


class CountedResolvers:
    """Wraps chosen fields' resolvers of a built schema and counts their calls."""

    def __init__(self) -> None:
        self.calls = 0
        self._restore: list[tuple[Any, Any]] = []

    def wrap(self, field: Any) -> None:
        original = field.resolve

        def counted(source: Any, info: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return original(source, info, **kwargs)

        self._restore.append((field, original))
        field.resolve = counted

    def restore(self) -> None:
        for field, original in self._restore:
            field.resolve = original


@pytest.fixture
def document_resolvers(app: Starlette) -> Iterator[tuple[CountedResolvers, Any]]:
    document = app.state.graphql.schema._schema.type_map["Document"]
    assert isinstance(document, GraphQLObjectType)
    counter = CountedResolvers()
    for name in ("id", "name", "pageCount"):
        counter.wrap(document.fields[name])
    yield counter, document
    counter.restore()


async def test_plain_fields_of_a_page_are_read_without_their_resolvers(
    admin_client: GraphQLClient, world: World, document_resolvers: tuple[CountedResolvers, Any]
) -> None:
    # given the Document type's id, name and page count, each marked as a plain field
    counter, document = document_resolvers
    assert all(PLAIN_FIELD in document.fields[name].extensions for name in ("id", "name"))

    # when a page of documents asks for them
    data = (await admin_client(PAGE)).ok()

    # then they are answered, with the usual values, without calling a resolver
    nodes = [edge["node"] for edge in data["documents"]["edges"]]
    assert global_id("Document", world.results.subscribed.id) in {node["id"] for node in nodes}
    assert world.results.subscribed.name in {node["name"] for node in nodes}
    assert counter.calls == 0


@strawberry.type
class Thing:
    name: str
    count: int
    maybe: str | None


@strawberry.type
class Query:
    @strawberry.field
    def things(self) -> list[Thing]:
        return [
            Thing(name="a", count=1, maybe=None),
            Thing(name=None, count=2, maybe="x"),  # type: ignore[arg-type]
            Thing(name="c", count="many", maybe="y"),  # type: ignore[arg-type]
        ]


def _schema(extensions: list[Any] | None = None) -> strawberry.Schema:
    schema = strawberry.Schema(
        query=Query,
        execution_context_class=PortalExecutionContext,
        extensions=extensions or [],
    )
    mark_plain_fields(schema._schema)
    return schema


def _usual(extensions: list[Any] | None = None) -> strawberry.Schema:
    return strawberry.Schema(query=Query, extensions=extensions or [])


QUERY = "{ things { name count maybe } }"


async def test_a_null_or_a_value_that_does_not_serialize_fails_as_on_the_usual_path() -> None:
    # given a list with a null where none may be and an int field holding text
    # when it is read with plain fields answered directly, and the usual way
    direct = await _schema().execute(QUERY)
    usual = await _usual().execute(QUERY)

    # then the data and the errors are the same
    assert direct.data == usual.data
    assert [(e.message, e.path) for e in direct.errors or []] == [
        (e.message, e.path) for e in usual.errors or []
    ]
    assert direct.errors


class EveryField(SchemaExtension):
    """An extension with a per-field hook (as tracing has)."""

    seen: ClassVar[list[str]] = []

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        EveryField.seen.append(info.field_name)
        return _next(root, info, *args, **kwargs)


async def test_an_extension_with_a_per_field_hook_sees_every_field() -> None:
    # given a schema with an extension that must see every field resolved
    EveryField.seen = []

    # when a list of plain fields is read
    result = await _schema([EveryField]).execute("{ things { maybe } }")

    # then every field went through it
    assert result.errors is None
    assert EveryField.seen.count("maybe") == 3
