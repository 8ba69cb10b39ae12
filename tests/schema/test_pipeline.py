"""Operations that pass every check run through ``OperationPipeline`` (schema/pipeline.py), with
the answers, errors and audit entries of Strawberry's usual path; anything unusual takes the
usual path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from portal.schema.pipeline import OperationPipeline
from tests.support.graphql import GraphQLClient, GraphQLResponse

PAGE = """
query Page {
  documents(first: 10) {
    totalCount
    edges { cursor node { id name postedAt employee { id firstName dateOfBirth }
      visit { id status } reportType { code } } }
  }
}
"""


class Paths:
    """Switches the app's schema between the pipeline and the usual path."""

    def __init__(self, app: Starlette) -> None:
        self.schema = app.state.graphql.schema
        pipeline = self.schema.pipeline
        assert isinstance(pipeline, OperationPipeline)
        self.pipeline = pipeline

    def usual(self) -> None:
        self.schema.pipeline = None

    def plain(self) -> None:
        self.schema.pipeline = self.pipeline


@pytest.fixture
def paths(app: Starlette) -> Iterator[Paths]:
    switch = Paths(app)
    yield switch
    switch.plain()


def same_answer(response: GraphQLResponse) -> tuple[int, Any, list[dict[str, Any]]]:
    """What must be equal: status, data, and the errors without their request ids."""
    errors = [
        {**error, "extensions": {k: v for k, v in error["extensions"].items() if k != "requestId"}}
        for error in response.errors
    ]
    return response.status_code, response.data, errors


async def audited(db: AsyncSession, response: GraphQLResponse) -> list[tuple[Any, ...]]:
    rows = await db.execute(
        sa.text(
            "SELECT action, result, object_ids, operation_name, details FROM audit_events "
            "WHERE request_id = :request_id ORDER BY action"
        ),
        {"request_id": response.headers["x-request-id"]},
    )
    return [tuple(row) for row in rows]


@pytest.fixture(params=["User Admin", "Basic user"])
def reader(
    request: pytest.FixtureRequest, admin_client: GraphQLClient, basic_client: GraphQLClient
) -> GraphQLClient:
    return admin_client if request.param == "User Admin" else basic_client


async def test_a_page_through_the_pipeline_answers_and_audits_as_the_usual_path(
    reader: GraphQLClient, paths: Paths, db: AsyncSession
) -> None:
    # given a User Admin (who may read every field) or a Basic user (refused some)
    client = reader

    # when the same page is asked through the pipeline and through the usual path
    served = paths.pipeline.served
    plain = await client(PAGE)
    assert paths.pipeline.served == served + 1
    paths.usual()
    usual = await client(PAGE)
    assert paths.pipeline.served == served + 1

    # then the answers, their errors and the audit entries they left are the same
    assert same_answer(plain) == same_answer(usual)
    assert plain.data["documents"]["edges"], plain.body
    assert await audited(db, plain) == await audited(db, usual)
    assert await audited(db, plain), "the PHI read was not audited"


UNUSUAL = {
    "syntax error": ("{ viewer { email }", None, ["BAD_USER_INPUT"]),
    "introspection": ("{ __schema { queryType { name } } }", None, []),
    "a field repeated": ("{ viewer { " + "email " * 11 + "} }", None, ["QUERY_TOO_COMPLEX"]),
    "unknown field": ("{ viewer { emial } }", None, ["BAD_USER_INPUT"]),
    "too many aliases": (
        "{ " + " ".join(f"a{n}: viewer {{ email }}" for n in range(40)) + " }",
        None,
        ["QUERY_TOO_COMPLEX"],
    ),
    "string too long": (
        "query ($n: String) { documents(first: 1, filter: {employeeName: $n}) { totalCount } }",
        {"n": "x" * 20_000},
        ["BAD_USER_INPUT"],
    ),
}


@pytest.mark.parametrize("case", sorted(UNUSUAL))
async def test_documents_refused_before_any_work_take_the_usual_path(
    case: str, admin_client: GraphQLClient, paths: Paths
) -> None:
    # given a document the checks refuse (or one only the usual path serves: introspection)
    query, variables, codes = UNUSUAL[case]
    served = paths.pipeline.served

    # when it is sent
    response = await admin_client(query, variables)

    # then the usual path answered it, with its own codes
    assert paths.pipeline.served == served
    assert response.error_codes() == codes, response.body


async def test_an_unknown_operation_name_is_refused_as_before(
    admin_client: GraphQLClient, paths: Paths
) -> None:
    served = paths.pipeline.served
    response = await admin_client("query A { viewer { email } }", operation_name="B")
    assert paths.pipeline.served == served
    assert response.status_code == 400
    assert response.error_codes() == ["BAD_USER_INPUT"]


async def test_a_mutation_runs_through_the_pipeline(
    admin_client: GraphQLClient, paths: Paths
) -> None:
    # given a mutation that answers a user error (nothing to change)
    served = paths.pipeline.served
    query = (
        "mutation { prepareDocumentDownload(input: {documentIds: []}) { url userErrors { code } } }"
    )
    # when it is sent through the pipeline and the usual path
    plain = await admin_client(query)
    paths.usual()
    usual = await admin_client(query)
    # then the pipeline ran it, with the usual answer
    assert paths.pipeline.served == served + 1
    assert same_answer(plain) == same_answer(usual)
    assert plain.data["prepareDocumentDownload"]["userErrors"], plain.body
