"""Hardening 9, a JSON body nested 50,000 levels deep answers 400 inside the error contract (JSON,
``extensions.code``, request id, security headers), never a 500: whether the nesting is the
operation itself, its variables, or the ``operations`` part of an upload."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.security.test_error_contract import assert_contract

DEPTH = 50_000
NESTED = "[" * DEPTH + "]" * DEPTH


@pytest.mark.parametrize(
    "body",
    [
        pytest.param('{"query": ' + NESTED + "}", id="query"),
        pytest.param(
            '{"query": "{ viewer { email } }", "variables": '
            + '{"a": ' * DEPTH
            + "1"
            + "}" * DEPTH
            + "}",
            id="variables",
        ),
        pytest.param(
            '{"query": "{ viewer { email } }", "extensions": {"x": ' + NESTED + "}}",
            id="extensions",
        ),
    ],
)
async def test_a_json_body_nested_50000_levels_answers_400(
    http: httpx.AsyncClient, body: str
) -> None:
    # When a body nested 50,000 levels deep is posted
    response = await http.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    # Then it is refused as unreadable, inside the error contract
    answer = assert_contract(response, status=400, code="BAD_USER_INPUT")
    assert "nested too deeply" in json.dumps(answer)


async def test_an_upload_whose_operations_are_nested_50000_levels_answers_400(
    http: httpx.AsyncClient,
) -> None:
    response = await http.post(
        "/graphql",
        data={"operations": '{"query": ' + NESTED + "}", "map": "{}"},
        files={"0": ("report.pdf", b"%PDF-1.4", "application/pdf")},
        headers={"Apollo-Require-Preflight": "true"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["extensions"]["code"]
