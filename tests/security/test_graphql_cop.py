"""The probes of graphql-cop (the GraphQL security auditor), each answered as it should be, over
HTTP. Probes already covered elsewhere are not repeated here:

- alias overloading: ``tests/schema/test_errors.py::test_too_many_aliases_are_refused``
  (QUERY_TOO_COMPLEX past the alias limit);
- batch queries: ``tests/test_app.py::test_batched_operations_are_refused`` (a JSON array of
  operations is a 400 BATCH_NOT_SUPPORTED);
- directive overloading: ``tests/security/test_directive_overloading.py`` (one error for many);
- GET-based queries: ``tests/test_app.py::test_queries_over_get_are_refused`` (405, nothing ran);
- introspection: ``tests/security/test_production_mode.py::test_anonymous_callers_never_introspect``
  and ``test_in_production_only_staff_introspect``;
- field suggestions in production:
  ``tests/security/test_production_mode.py::test_in_production_only_staff_get_field_suggestions``.

Here: field duplication, circular introspection and fragment cycles, GET-based mutations, CSRF
through simple (form and text) posts and through multipart without a bearer token, trace and
debug modes, and field suggestions for anonymous callers."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import AuthSession
from portal.schema.repeated_fields import MAX_REPEATS
from tests.support.graphql import GraphQLClient

TYPENAME = '{"query": "{ __typename }"}'


def codes(response: httpx.Response) -> list[str]:
    return [error["extensions"]["code"] for error in response.json()["errors"]]


async def test_field_duplication(admin_client: GraphQLClient) -> None:
    # Given graphql-cop's probe: one field selected 500 times in one place
    response = await admin_client("query { " + "__typename " * 500 + "}")
    # Then it is refused before validation, naming the field and the limit
    assert response.data is None
    assert response.error_codes() == ["QUERY_TOO_COMPLEX"]
    assert "`__typename` is selected 500 times" in response.errors[0]["message"]
    # And a few repeats (what generated fragments produce) still answer
    few = await admin_client("{ viewer { " + "email " * MAX_REPEATS + "} }")
    assert few.ok()["viewer"]["email"] == "admin@acme.example"


async def test_field_duplication_through_aliases_of_one_name(admin_client: GraphQLClient) -> None:
    response = await admin_client("{ viewer { " + "e: email " * 200 + "} }")
    assert response.error_codes() == ["QUERY_TOO_COMPLEX"]


async def test_circular_introspection(admin_client: GraphQLClient) -> None:
    # Given graphql-cop's circular introspection query (types -> fields -> type -> fields ...)
    nested = "fields { type { " * 12 + "name" + " } }" * 12
    response = await admin_client("{ __schema { types { " + nested + " } } }")
    # Then the introspection depth limit refuses it, as too complex
    assert response.data is None
    assert response.error_codes() == ["QUERY_TOO_COMPLEX"]
    assert response.errors[0]["message"] == "Maximum introspection depth exceeded"


async def test_fragment_cycles(admin_client: GraphQLClient) -> None:
    response = await admin_client(
        "{ viewer { ...A } } fragment A on Viewer { email ...B } fragment B on Viewer { ...A }"
    )
    assert response.data is None
    assert response.error_codes() == ["BAD_USER_INPUT"]
    assert "itself" in response.errors[0]["message"]


async def test_get_based_mutation(
    http: httpx.AsyncClient, admin_client: GraphQLClient, db: AsyncSession
) -> None:
    # Given a signed-in user's token, and a mutation sent in a URL (a link, an <img>)
    sessions_before = await db.scalar(sa.select(sa.func.count()).select_from(AuthSession))
    response = await http.get(
        "/graphql",
        params={
            "query": 'mutation { login(input: {email: "admin@acme.example", password: "x"}) '
            "{ accessToken } }"
        },
        headers={"Authorization": f"Bearer {admin_client.token}"},
    )
    # Then it is refused as a JSON 405 and nothing ran
    assert response.status_code == 405
    assert codes(response) == ["METHOD_NOT_ALLOWED"]
    assert await db.scalar(sa.select(sa.func.count()).select_from(AuthSession)) == sessions_before


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", "query=%7B__typename%7D"),
        ("text/plain", TYPENAME),
        ("text/plain;charset=UTF-8", TYPENAME),
    ],
    ids=["form", "text", "text-utf8"],
)
async def test_csrf_through_a_simple_post(
    http: httpx.AsyncClient, content_type: str, body: str
) -> None:
    # Given what a cross-site HTML form can send without a CORS preflight
    response = await http.post("/graphql", content=body, headers={"content-type": content_type})
    # Then it is refused inside the error contract, and nothing ran
    assert response.status_code == 400
    assert response.json()["data"] is None
    assert codes(response) == ["BAD_USER_INPUT"]
    assert "Query" not in response.text


async def test_csrf_through_a_multipart_post_without_a_bearer_token(
    http: httpx.AsyncClient,
) -> None:
    # Given a multipart form post (a cross-site form can send one) carrying no bearer token
    response = await http.post(
        "/graphql",
        data={"operations": TYPENAME, "map": "{}"},
        files={"0": ("a.pdf", b"%PDF-1.4", "application/pdf")},
    )
    # Then it is refused: cookies are never credentials here, and uploads need the header
    assert response.status_code == 400
    assert codes(response) == ["BAD_USER_INPUT"]
    assert "Authorization" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize("path", ["/graphql", "/graphql?debug=1", "/graphql?trace=1"])
async def test_trace_mode_and_debug_mode(http: httpx.AsyncClient, path: str) -> None:
    # Given a failing operation, asked with the switches debug servers honour
    response = await http.post(
        path,
        json={"query": "{ __typename nope }", "extensions": {"tracing": True}},
        headers={"X-Debug": "1", "Apollo-Tracing": "1"},
    )
    body = response.json()
    # Then no tracing, timing or stack trace is answered, only the error and its code (and the
    # operation's query cost)
    assert set(body) <= {"data", "errors", "extensions"}
    assert set(body.get("extensions", {})) <= {"cost"}
    for error in body["errors"]:
        assert set(error.get("extensions", {})) <= {"code", "requestId"}
    for leak in ("tracing", "stacktrace", "Traceback", "exception", 'File "'):
        assert leak not in response.text


async def test_field_suggestions_for_anonymous_callers(http: httpx.AsyncClient) -> None:
    # Given graphql-cop's probe, anonymous, in development mode
    response = await http.post("/graphql", json={"query": "{ signOnLink { url } }"})
    # Then the error names the unknown field without suggesting real ones
    message = response.json()["errors"][0]["message"]
    assert "signOnLink" in message
    assert "Did you mean" not in message
    assert "signOnLinks" not in message.replace("'signOnLink'", "")
