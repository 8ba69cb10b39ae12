"""Stop-the-line item 5: the anonymous fragment-spread bomb, and the measurement that refuses it.

Every operation is measured with its fragments expanded (depth, aliases, fields), fragments once
each, right after parsing and before graphql-core validates it; the validation that follows goes
through one cache per schema, which identical documents hit."""

from __future__ import annotations

import time

import pytest
from graphql import parse
from starlette.applications import Starlette

from portal.schema import PortalSchema
from portal.schema.limits.measure import SATURATED, FragmentCycle, Measure, measure_operations
from tests.support.graphql import GraphQLClient


def fragment_bomb(fragments: int) -> str:
    """``fragments`` fragments, each spreading the previous one twice: 2**fragments fields."""
    definitions = ["fragment F0 on Query { viewer { email } }"]
    definitions += [
        f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}" for i in range(1, fragments)
    ]
    return f"query {{ ...F{fragments - 1} }} " + " ".join(definitions)


def validation_calls(app: Starlette) -> tuple[int, int]:
    """How often graphql-core's validation was found in the cache, and how often it ran."""
    schema: PortalSchema = app.state.schema
    limits = schema.operation_limits
    return limits.validation_hits, limits.validation_misses


async def test_the_fragment_spread_bomb_is_refused_before_validation(
    anonymous_client: GraphQLClient, app: Starlette
) -> None:
    # Given the 20-fragment bomb (under 1 KB) that blocked the event loop for 10-18 s
    bomb = fragment_bomb(20)
    assert len(bomb) < 1000
    calls_before = validation_calls(app)
    # When an anonymous caller sends it
    started = time.perf_counter()
    response = await anonymous_client(bomb)
    elapsed = time.perf_counter() - started
    # Then it is refused as too complex, with what was measured, and nothing was validated
    assert response.status_code == 200, response.body
    assert response.data is None
    [error] = response.errors
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["limit"] == "fields"
    assert error["extensions"]["measured"] == 2**20  # 2**19 viewers and their emails
    assert error["extensions"]["maximum"] == 1000
    assert validation_calls(app) == calls_before
    # (the refusal takes milliseconds; the bound is loose so a busy machine cannot flake it)
    assert elapsed < 5


async def test_a_deeper_bomb_costs_no_more(anonymous_client: GraphQLClient) -> None:
    # Given a bomb of 400 nested fragments (2**400 fields once expanded), under the token limit
    bomb = fragment_bomb(400)
    # When it is sent
    started = time.perf_counter()
    response = await anonymous_client(bomb)
    # Then it is refused at once on its field count, never expanded
    [error] = response.errors
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["limit"] == "fields"
    assert error["message"].startswith("The operation is too complex: more than 1000 fields")
    assert time.perf_counter() - started < 5


async def test_depth_counts_through_fragments(admin_client: GraphQLClient) -> None:
    # Given 13 levels of nesting spread over fragments, each level alone shallow
    levels = 13
    definitions = [f"fragment L{levels} on Account {{ name }}"]
    definitions += [
        f"fragment L{i} on Account {{ parentAccount {{ ...L{i + 1} }} }}" for i in range(1, levels)
    ]
    query = "{ account { ...L1 } } " + " ".join(definitions)
    # When it is sent
    response = await admin_client(query)
    # Then the expanded depth (13 > 12) is refused
    [error] = response.errors
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["limit"] == "levels of depth"
    assert error["extensions"]["measured"] == 13
    assert error["extensions"]["maximum"] == 12


async def test_aliases_count_in_every_spread(admin_client: GraphQLClient) -> None:
    # Given a fragment of 4 aliases spread through 8 inline fragments (32 aliases in all)
    fragment = "fragment Four on Query { a: viewer { email } b: viewer { email } " + (
        "c: viewer { email } d: viewer { email } }"
    )
    spreads = " ".join("... on Query { ...Four }" for _ in range(8))
    # When it is sent
    response = await admin_client(f"{{ {spreads} }} {fragment}")
    # Then the 32 aliases are over the 30 allowed
    [error] = response.errors
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert error["extensions"]["limit"] == "aliases"
    assert error["extensions"]["measured"] == 32


async def test_a_fragment_that_spreads_itself_is_refused(admin_client: GraphQLClient) -> None:
    # Given two fragments that spread each other
    query = "{ ...A } fragment A on Query { viewer { email } ...B } fragment B on Query { ...A }"
    # When it is sent
    response = await admin_client(query)
    # Then it is the caller's error, named
    [error] = response.errors
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "A -> B -> A" in error["message"]


async def test_an_ordinary_page_query_passes(admin_client: GraphQLClient) -> None:
    # Given the documents page the clients rely on, with a fragment
    query = """
    query Page { documents(first: 50) { totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { ...Doc } } } }
    fragment Doc on Document { id name postedAt pageCount
      reportType { code name category } employee { id firstName lastName dateOfBirth }
      visit { id visitType claimNumber status } medicalCenter { id name state }
      location { id name state } }
    """
    # When it is sent, then it is answered
    assert (await admin_client(query)).ok()["documents"]["totalCount"] >= 1


async def test_identical_documents_hit_the_validation_cache(
    admin_client: GraphQLClient, app: Starlette
) -> None:
    # Given a document never sent before
    query = "query CacheProbe { viewer { email role } }"
    hits_before, misses_before = validation_calls(app)
    # When it is sent three times
    for _ in range(3):
        (await admin_client(query)).ok()
    # Then it was validated once and found in the cache twice
    hits, misses = validation_calls(app)
    assert misses - misses_before == 1
    assert hits - hits_before == 2


def test_the_measure_is_exact_on_a_small_document() -> None:
    # Given an operation with an alias, an inline fragment and a fragment spread twice
    document = parse(
        "query Q { me: viewer { email account { name } } ... on Query { ...V ...V } } "
        "fragment V on Query { viewer { email } }"
    )
    # When it is measured, then every spread counts, once expanded
    assert measure_operations(document) == [("Q", Measure(depth=2, aliases=1, fields=8, cost=4))]


def test_the_measure_is_linear_and_saturates() -> None:
    # Given 2,000 nested fragments (2**1999 fields once expanded)
    document = parse(fragment_bomb(2000), max_tokens=None)
    # When it is measured
    started = time.perf_counter()
    [(name, measure)] = measure_operations(document)
    # Then it is measured without expanding anything, the count saturated
    assert time.perf_counter() - started < 5
    assert name is None
    assert measure.fields == SATURATED


def test_a_cycle_through_many_fragments_is_found_without_recursing() -> None:
    # Given a chain of 3,000 fragments whose last spreads the first
    chain = [f"fragment C{i} on Query {{ ...C{i + 1} }}" for i in range(2999)]
    chain.append("fragment C2999 on Query { ...C0 }")
    document = parse("{ ...C0 } " + " ".join(chain), max_tokens=None)
    # When it is measured, then the cycle is reported
    with pytest.raises(FragmentCycle) as raised:
        measure_operations(document)
    assert raised.value.names[0] == raised.value.names[-1]
    assert len(raised.value.names) == 3001
