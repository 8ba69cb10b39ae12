"""Stop-the-line item 8: NUL characters and unpaired surrogates are refused at the edge.

PostgreSQL stores neither and UTF-8 cannot encode a lone surrogate: such a string in any argument,
variable or upload file name reached the database driver, answered INTERNAL and logged a traceback
carrying the SQL parameters (employee names). Now every string of the request is checked before
execution: BAD_USER_INPUT naming the field, nothing run, nothing logged."""

from __future__ import annotations

import json
import logging
from typing import Any

import httpx
import pytest

from portal.schema.relay import global_id
from portal.schema.visits import Visit
from tests.conftest import StatementCounter
from tests.schema.ingestion.conftest import make_pdf
from tests.support.graphql import GraphQLClient, GraphQLResponse
from tests.support.world import SUBSCRIBED_REPORT_TYPE, World

NUL = "\x00"
LONE_SURROGATE = "\ud800"
BAD_TEXTS = [
    pytest.param(f"Smi{NUL}th", id="NUL"),
    pytest.param(f"Smi{LONE_SURROGATE}th", id="surrogate"),
]


async def post_raw(
    http: httpx.AsyncClient, token: str | None, payload: dict[str, Any]
) -> GraphQLResponse:
    """JSON with \\u escapes (a lone surrogate cannot be encoded as UTF-8 text)."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    response = await http.post(
        "/graphql", content=json.dumps(payload, ensure_ascii=True).encode(), headers=headers
    )
    return GraphQLResponse(response.status_code, response.json(), response.headers)


def assert_refused(response: GraphQLResponse, field: str) -> None:
    assert response.status_code == 200, response.body
    assert response.data is None, response.body
    [error] = response.errors
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}, error
    assert "NUL" in error["message"] or "surrogate" in error["message"]


@pytest.fixture
def quiet(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


def nothing_logged(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "Smi" not in caplog.text


@pytest.mark.parametrize("text", BAD_TEXTS)
async def test_in_a_variable(
    http: httpx.AsyncClient,
    admin_client: GraphQLClient,
    count_queries: StatementCounter,
    quiet: pytest.LogCaptureFixture,
    text: str,
) -> None:
    # Given a name search whose variable holds the bad character
    count_queries.reset()
    response = await post_raw(
        http,
        admin_client.token,
        {
            "query": "query($n: String) { employees(filter: {name: $n}) { totalCount } }",
            "variables": {"n": text},
        },
    )
    # Then it is refused on the field before any search ran, and nothing was logged
    assert_refused(response, "filter.name")
    assert not [s for s in count_queries.statements if "employees" in s]
    nothing_logged(quiet)


@pytest.mark.parametrize("text", BAD_TEXTS)
async def test_inside_an_input_object_variable(
    http: httpx.AsyncClient, admin_client: GraphQLClient, quiet: pytest.LogCaptureFixture, text: str
) -> None:
    response = await post_raw(
        http,
        admin_client.token,
        {
            "query": "query($f: DocumentFilter) { documents(filter: $f) { totalCount } }",
            "variables": {"f": {"claimNumber": "CLM-1001", "employeeName": text}},
        },
    )
    assert_refused(response, "filter.employeeName")
    nothing_logged(quiet)


@pytest.mark.parametrize("text", BAD_TEXTS)
async def test_in_a_list_variable(
    http: httpx.AsyncClient, admin_client: GraphQLClient, text: str
) -> None:
    response = await post_raw(
        http,
        admin_client.token,
        {
            "query": "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            "variables": {"ids": ["a", text]},
        },
    )
    assert_refused(response, "ids.1")


@pytest.mark.parametrize("text", BAD_TEXTS)
async def test_inline(
    http: httpx.AsyncClient, admin_client: GraphQLClient, quiet: pytest.LogCaptureFixture, text: str
) -> None:
    # Given the character written raw inside a string of the document (the \\u0000 escape is
    # tested below; the lexer refuses a \\uD800 escape itself)
    query = f'{{ documents(filter: {{employeeName: "{text}"}}) {{ totalCount }} }}'
    response = await post_raw(http, admin_client.token, {"query": query})
    # Then it is the caller's error (the lexer or the check refuses it), never INTERNAL
    assert response.error_codes() == ["BAD_USER_INPUT"], response.body
    nothing_logged(quiet)


async def test_an_escaped_nul_inline(
    admin_client: GraphQLClient, quiet: pytest.LogCaptureFixture
) -> None:
    response = await admin_client(
        '{ documents(filter: {employeeName: "Smi\\u0000th"}) { totalCount } }'
    )
    assert_refused(response, "filter.employeeName")
    nothing_logged(quiet)


@pytest.mark.parametrize("text", BAD_TEXTS)
async def test_in_a_mutation_anyone_may_call(
    http: httpx.AsyncClient, quiet: pytest.LogCaptureFixture, text: str
) -> None:
    # Given an anonymous sign-in whose email holds the bad character
    response = await post_raw(
        http,
        None,
        {
            "query": "mutation($input: LoginInput!) { login(input: $input) "
            "{ accessToken userErrors { code } } }",
            "variables": {"input": {"email": f"admin{text}@acme.example", "password": "x" * 20}},
        },
    )
    assert_refused(response, "input.email")
    nothing_logged(quiet)


async def test_in_a_field_name_of_an_input_variable(
    http: httpx.AsyncClient, admin_client: GraphQLClient
) -> None:
    response = await post_raw(
        http,
        admin_client.token,
        {
            "query": "query($f: DocumentFilter) { documents(filter: $f) { totalCount } }",
            "variables": {"f": {f"name{NUL}": "x"}},
        },
    )
    assert_refused(response, "filter")


async def test_a_huge_field_name_in_an_input_variable(admin_client: GraphQLClient) -> None:
    # Given an input object whose one field name is 100,000 characters long
    response = await admin_client(
        "query($f: DocumentFilter) { documents(filter: $f) { totalCount } }",
        {"f": {"x" * 100_000: "y"}},
    )
    # Then it is refused on the argument, and the answer does not echo the name back
    [error] = response.errors
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "filter"}
    assert len(str(response.body)) < 1_000


async def test_in_an_upload_file_name(
    http: httpx.AsyncClient,
    staff_client: GraphQLClient,
    world: World,
    quiet: pytest.LogCaptureFixture,
) -> None:
    # Given a PDF upload whose part's file name holds a raw NUL byte (built by hand: clients
    # percent-encode it)
    operations = {
        "query": "mutation($input: PostDocumentInput!) { postDocument(input: $input) "
        "{ document { id } userErrors { code } } }",
        "variables": {
            "input": {
                "visitId": global_id(Visit, world.results.alice_injury.id),
                "reportType": SUBSCRIBED_REPORT_TYPE,
                "name": "Work Status Report",
                "file": None,
            }
        },
    }
    boundary = "portal-test-boundary"
    parts = [
        (b'name="operations"', json.dumps(operations).encode()),
        (b'name="map"', json.dumps({"0": ["variables.input.file"]}).encode()),
        (b'name="0"; filename="re\x00port.pdf"\r\nContent-Type: application/pdf', make_pdf(1)),
    ]
    body = (
        b"".join(
            b"--"
            + boundary.encode()
            + b"\r\nContent-Disposition: form-data; "
            + header
            + b"\r\n\r\n"
            + content
            + b"\r\n"
            for header, content in parts
        )
        + b"--"
        + boundary.encode()
        + b"--\r\n"
    )
    raw = await http.post(
        "/graphql",
        content=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Authorization": f"Bearer {staff_client.token}",
        },
    )
    response = GraphQLResponse(raw.status_code, raw.json(), raw.headers)
    # Then it is refused on the file name before the mutation ran
    assert_refused(response, "input.file.filename")
    nothing_logged(quiet)
