"""Scalars name their standard (``specifiedByURL`` in introspection) and hold to it."""

from __future__ import annotations

import pytest

from tests.support.graphql import GraphQLClient

SCALARS = "{ __schema { types { name kind specifiedByURL } } }"
SEARCH = "query ($after: DateTime) { documents(filter: {postedAfter: $after}) { totalCount } }"


async def test_date_datetime_and_json_name_their_specification(
    admin_client: GraphQLClient,
) -> None:
    types = (await admin_client(SCALARS)).ok()["__schema"]["types"]
    urls = {t["name"]: t["specifiedByURL"] for t in types if t["kind"] == "SCALAR"}
    assert urls["DateTime"] == "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
    assert urls["Date"] == "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
    assert urls["JSON"] is not None
    assert "ECMA-404" in urls["JSON"]


@pytest.mark.parametrize("value", ["2026-01-01T00:00:00Z", "2026-01-01T02:00:00+02:00"])
async def test_an_rfc3339_date_time_is_accepted(admin_client: GraphQLClient, value: str) -> None:
    answer = (await admin_client(SEARCH, {"after": value})).ok()
    assert answer["documents"]["totalCount"] >= 0


@pytest.mark.parametrize(
    ("literal", "says"),
    [
        ('"2026-01-01T00:00:00"', "UTC offset"),
        ('"2026-01-01"', "UTC offset"),
        ('"yesterday"', "not an RFC 3339 date-time"),
        ('"' + "x" * 500 + '"', "must be a string such as"),
        ("1767225600", "must be a string such as"),
    ],
)
async def test_a_date_time_without_offset_or_malformed_is_bad_input(
    admin_client: GraphQLClient, literal: str, says: str
) -> None:
    # Given a DateTime written in the operation without an offset, or not a date-time at all
    answer = await admin_client(
        f"{{ documents(filter: {{postedAfter: {literal}}}) {{ totalCount }} }}"
    )
    # Then nothing runs and the error says what is expected
    assert answer.data is None
    assert answer.error_codes() == ["BAD_USER_INPUT"], answer.body
    assert says in answer.errors[0]["message"]


async def test_date_times_are_answered_in_utc(admin_client: GraphQLClient) -> None:
    answer = (await admin_client("{ documents(first: 3) { nodes { postedAt } } }")).ok()
    posted = [node["postedAt"] for node in answer["documents"]["nodes"]]
    assert posted
    assert all(value.endswith("+00:00") for value in posted), posted
