"""Variables that do not fit their declared types (an unknown enum value, an input field the
type does not have) are the client's mistake: BAD_USER_INPUT naming the problem, not a masked
INTERNAL error logged as an unexpected failure. Found by the generated operations of
``test_schemathesis.py`` and the mass-assignment probe of ``test_owasp_api_top_10.py``."""

from __future__ import annotations

import logging

import pytest

from tests.schema.accounts.test_contacts import ADD_CONTACT, NEWCOMER
from tests.schema.api_clients.test_api_clients import CREATE as CREATE_API_CLIENT
from tests.support.graphql import GraphQLClient


async def test_an_unknown_enum_value_in_variables_is_bad_input(
    admin_client: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    # Given a scope spelled as the OAuth scope string instead of the enum value
    with caplog.at_level(logging.ERROR):
        response = await admin_client(
            CREATE_API_CLIENT, {"name": "HR sync", "scopes": ["visits:read"]}
        )
    # Then it is the client's input at fault, said so, and nothing is logged as a failure
    assert response.status_code == 200
    assert response.error_codes() == ["BAD_USER_INPUT"]
    assert "visits:read" in response.errors[0]["message"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_an_unknown_input_field_in_variables_is_bad_input(
    admin_client: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        response = await admin_client(ADD_CONTACT, {"input": {**NEWCOMER, "role": "USER_ADMIN"}})
    assert response.status_code == 200
    assert response.data is None
    assert response.error_codes() == ["BAD_USER_INPUT"]
    assert "role" in response.errors[0]["message"]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_anonymous_callers_get_no_value_suggestions(
    anonymous_client: GraphQLClient,
) -> None:
    response = await anonymous_client(
        "query ($s: [Scope!]!) { __typename @include(if: true) }", {"s": ["visits:read"]}
    )
    assert response.error_codes() == ["BAD_USER_INPUT"] or response.error_codes() == []
    for error in response.errors:
        assert "Did you mean" not in error["message"]
