"""Every error has ``extensions.code``; unexpected failures are masked and traceable."""

from __future__ import annotations

import logging

import pytest

from portal.resolvers import accounts
from tests.support.graphql import GraphQLClient


async def test_unexpected_errors_are_masked_with_a_request_id(
    admin_client: GraphQLClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode(**kwargs: object) -> object:
        raise RuntimeError("secret connection string postgres://user:pw@db")

    monkeypatch.setattr(accounts, "load_accounts", explode)
    with caplog.at_level(logging.ERROR, logger="portal.failures"):
        response = await admin_client("{ viewer { email } account { name } }")
    assert response.status_code == 200
    [error] = response.errors
    assert error["extensions"]["code"] == "INTERNAL"
    assert "secret" not in str(response.body)
    assert "Traceback" not in str(response.body)
    request_id = error["extensions"]["requestId"]
    assert request_id == response.headers["x-request-id"]
    # the failed field is null at its path and the rest of the answer still arrives
    assert error["path"] == ["account"]
    assert response.data == {"viewer": {"email": "admin@acme.example"}, "account": None}
    # and the log has the details (the error and where it was raised), tied to the request id,
    # once
    [logged] = [record.getMessage() for record in caplog.records]
    assert request_id in logged
    assert "RuntimeError" in logged
    assert "explode" in logged


async def test_syntax_errors_are_bad_input(admin_client: GraphQLClient) -> None:
    response = await admin_client("{ viewer { email ")
    assert response.error_codes() == ["BAD_USER_INPUT"]


async def test_unknown_fields_are_bad_input(admin_client: GraphQLClient) -> None:
    response = await admin_client("{ viewer { password } }")
    assert response.error_codes() == ["BAD_USER_INPUT"]


async def test_too_deep_queries_are_refused(admin_client: GraphQLClient) -> None:
    nested = "{ account { " + "parentAccount { " * 14 + "name" + " }" * 14 + " } }"
    response = await admin_client(nested)
    assert "QUERY_TOO_COMPLEX" in response.error_codes()


async def test_too_many_aliases_are_refused(admin_client: GraphQLClient) -> None:
    aliases = " ".join(f"a{i}: viewer {{ email }}" for i in range(40))
    response = await admin_client("{ " + aliases + " }")
    assert "QUERY_TOO_COMPLEX" in response.error_codes()
