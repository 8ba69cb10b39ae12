"""Hardening 9 and graphql-cop "directive overloading": ten unknown directives answer one error
(not ten), and so do directives repeated where each is allowed once; a single misuse keeps
graphql-core's own message."""

from __future__ import annotations

from tests.support.graphql import GraphQLClient


async def test_ten_unknown_directives_answer_one_error(admin_client: GraphQLClient) -> None:
    # Given an operation with ten unknown directives on one field
    directives = " ".join(f"@unknown{n}" for n in range(10))
    # When it is sent
    response = await admin_client(f"{{ viewer {directives} {{ email }} }}")
    # Then one error answers for all of them, naming the first few
    assert response.data is None
    assert response.error_codes() == ["BAD_USER_INPUT"]
    message = response.body["errors"][0]["message"]
    assert message == (
        "Unknown directives: @unknown0, @unknown1, @unknown2, @unknown3, @unknown4 and 5 more."
    )


async def test_repeated_directives_answer_one_error(admin_client: GraphQLClient) -> None:
    repeated = "@include(if: true) " * 20 + "@skip(if: false) " * 20
    response = await admin_client(f"{{ viewer {repeated} {{ email }} }}")
    assert response.error_codes() == ["BAD_USER_INPUT"]
    assert response.body["errors"][0]["message"] == (
        "Directives used more than once where each is allowed once: @include, @skip."
    )


async def test_one_unknown_directive_keeps_its_own_message(admin_client: GraphQLClient) -> None:
    response = await admin_client("{ viewer @cached { email } }")
    assert response.error_codes() == ["BAD_USER_INPUT"]
    assert response.body["errors"][0]["message"] == "Unknown directive '@cached'."


async def test_other_validation_errors_are_kept_beside_it(admin_client: GraphQLClient) -> None:
    response = await admin_client("{ viewer @a @b { email nope } }")
    messages = [error["message"] for error in response.body["errors"]]
    assert "Unknown directives: @a, @b." in messages
    assert any("nope" in message for message in messages)
    assert len(messages) == 2
