"""Objects whose selected fields are all read directly are completed by a plan
(schema/plans.py): the usual answer, without graphql-core's per-field execution."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette

from portal.schema.execution import PortalExecutionContext
from tests.support.graphql import GraphQLClient

PAGE = """
{
  documents(first: 10) {
    edges { cursor node { id name pageCount __typename employee { id firstName dateOfBirth }
      visit { id status } reportType { code name } location { name } } }
  }
}
"""
WITH_DIRECTIVE = """
query ($names: Boolean!) {
  documents(first: 10) { edges { node { id name @include(if: $names) } } }
}
"""


class FieldCount:
    """Counts the fields graphql-core executes one by one."""

    def __init__(self) -> None:
        self.calls = 0


@pytest.fixture
def executed_fields(monkeypatch: pytest.MonkeyPatch) -> FieldCount:
    count = FieldCount()
    original = PortalExecutionContext.execute_field

    def counted(self: PortalExecutionContext, *args: Any) -> Any:
        count.calls += 1
        return original(self, *args)

    monkeypatch.setattr(PortalExecutionContext, "execute_field", counted)
    return count


@pytest.fixture
def usual_path(app: Starlette) -> Iterator[Any]:
    schema = app.state.graphql.schema
    pipeline = schema.pipeline

    def switch() -> None:
        schema.pipeline = None

    yield switch
    schema.pipeline = pipeline


async def test_a_page_is_completed_by_plans_with_the_usual_answer(
    admin_client: GraphQLClient, executed_fields: FieldCount, usual_path: Any
) -> None:
    # given a page whose documents and nested objects are all read directly
    # when it is asked (twice: the plans are learnt by the first request)
    await admin_client(PAGE)
    executed_fields.calls = 0
    planned = await admin_client(PAGE)
    by_plan = executed_fields.calls

    # and again through the usual path
    usual_path()
    executed_fields.calls = 0
    usual = await admin_client(PAGE)

    # then the answers are the same
    assert planned.ok() == usual.ok()
    edges = planned.data["documents"]["edges"]
    assert len(edges) > 1
    assert edges[0]["node"]["__typename"] == "Document"
    # and only the root and the connection's own fields were executed one by one
    assert by_plan <= 3, by_plan
    assert executed_fields.calls > 10 * len(edges)


async def test_a_denied_field_leaves_the_object_to_the_usual_path(
    basic_client: GraphQLClient, admin_client: GraphQLClient, usual_path: Any
) -> None:
    # given a Basic user, refused an employee's date of birth
    # when the page is asked through plans and through the usual path
    planned = await basic_client(PAGE)
    usual_path()
    usual = await basic_client(PAGE)

    # then the refusals and the answer are the usual ones
    assert planned.error_codes()
    assert set(planned.error_codes()) == {"FORBIDDEN"}
    assert [e["path"] for e in planned.errors] == [e["path"] for e in usual.errors]
    assert planned.data == usual.data


@pytest.mark.parametrize("names", [True, False])
async def test_a_directive_below_keeps_the_usual_path(
    names: bool, admin_client: GraphQLClient, executed_fields: FieldCount
) -> None:
    # given a selection that depends on a variable (a plan is the same for every request)
    # when the document is asked with the field included, or not
    data = (await admin_client(WITH_DIRECTIVE, {"names": names})).ok()

    # then each answer follows its own variables
    nodes = [edge["node"] for edge in data["documents"]["edges"]]
    assert nodes
    assert all(("name" in node) is names for node in nodes)
    # and the objects were completed field by field
    assert executed_fields.calls > len(nodes)
