"""``documents(filter:)``: every criterion, each visibility rule, pagination, denials, audit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col

from portal.models import AuditEvent
from portal.models.db import AccountScope, set_scope
from portal.schema.accounts import Location
from portal.schema.catalog import MedicalCenter
from portal.schema.relay import global_id
from tests.support.graphql import GraphQLClient, assert_forbidden, assert_unauthenticated
from tests.support.world import World

SEARCH = """
query ($first: Int, $after: String, $last: Int, $before: String, $filter: DocumentFilter) {
  documents(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
    edges { cursor node { id name postedAt } }
  }
}
"""

ALL = ["subscribed", "other_type", "other_location", "archived", "restored", "retracted"]
ALL += ["globex", "contoso"]


def _names_by_id(world: World) -> dict[str, str]:
    from portal.schema.documents import Document

    return {global_id(Document, getattr(world.results, name).id): name for name in ALL}


async def _search(
    client: GraphQLClient, world: World, filter: dict[str, Any] | None = None, **page: Any
) -> list[str]:
    variables: dict[str, Any] = {"filter": filter, "first": 100, **page}
    data = (await client(SEARCH, variables)).ok()["documents"]
    names = _names_by_id(world)
    found = [names[edge["node"]["id"]] for edge in data["edges"]]
    assert data["totalCount"] == len(found)
    return found


@pytest.mark.parametrize(
    ("client_fixture", "expected"),
    [
        ("admin_client", ["subscribed", "other_type", "other_location", "restored"]),
        ("api_client", ["subscribed", "other_type", "other_location", "restored"]),
        ("basic_client", ["subscribed", "restored"]),
        ("visits_client", []),
        ("globex_client", ["globex"]),
        ("tpa_client", ["contoso"]),
        (
            "staff_client",
            [
                "subscribed",
                "retracted",
                "other_type",
                "globex",
                "other_location",
                "contoso",
                "restored",
                "archived",
            ],
        ),
    ],
)
async def test_each_caller_lists_exactly_the_documents_its_rule_allows_newest_first(
    request: pytest.FixtureRequest,
    http: httpx.AsyncClient,
    world: World,
    client_fixture: str,
    expected: list[str],
) -> None:
    # given the world's documents (a Basic user subscribed to one report type at Dallas only;
    # ``http`` is requested first so the client fixtures can be looked up by name)
    client: GraphQLClient = request.getfixturevalue(client_fixture)

    # when the caller lists documents without a filter
    found = await _search(client, world)

    # then exactly its documents come back, newest first: no archived or retracted one for
    # employers, no other tenant's, the TPA its client's
    assert found == expected


NOW = datetime.now(UTC)


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"employeeName": "smi ali"}, ["subscribed", "other_type", "restored"]),
        ({"employeeName": "Smith, Alice"}, ["subscribed", "other_type", "restored"]),
        ({"employeeName": "  JONES "}, ["other_location"]),
        ({"employeeName": "alice jones"}, []),
        # inside a word, not only at its start (the name trigrams find "mith" in "smith")
        ({"employeeName": "mith"}, ["subscribed", "other_type", "restored"]),
        ({"employeeName": "smithe"}, []),
        # words under three letters have no trigram: LIKE alone decides, with or without a
        # longer word beside them
        ({"employeeName": "li sm"}, ["subscribed", "other_type", "restored"]),
        ({"employeeName": "ce jones"}, []),
        ({"employeeName": "o"}, ["other_location"]),
        ({"dateOfBirth": "1979-11-30"}, ["other_location"]),
        ({"state": "az"}, ["other_location"]),
        ({"state": "TX"}, ["subscribed", "other_type", "restored"]),
        ({"visitType": "NON_INJURY"}, ["other_type"]),
        ({"visitType": "INJURY"}, ["subscribed", "other_location", "restored"]),
        ({"claimNumber": "clm-1001"}, ["subscribed"]),
        ({"claimNumber": "CLM-10"}, []),
        ({"name": "dot med"}, ["other_type"]),
        ({"name": "WORK STATUS"}, ["subscribed", "other_location", "restored"]),
        ({"name": "100%"}, []),
        ({"reportType": "MEC_DOT_CARD"}, ["other_type"]),
        ({"reportType": "NO_SUCH_TYPE"}, []),
        (
            {"postedAfter": (NOW - timedelta(days=2, hours=12)).isoformat()},
            ["subscribed", "other_type"],
        ),
        (
            {"postedBefore": (NOW - timedelta(days=2, hours=12)).isoformat()},
            ["other_location", "restored"],
        ),
        (
            {"employeeName": "alice", "visitType": "INJURY", "state": "TX"},
            ["subscribed", "restored"],
        ),
    ],
)
async def test_each_filter_criterion_narrows_the_admins_documents(
    admin_client: GraphQLClient, world: World, filter: dict[str, Any], expected: list[str]
) -> None:
    # given Acme's four current documents (Alice's three, Bob's one)
    # when the admin searches with one criterion (or several combined)
    found = await _search(admin_client, world, filter)

    # then only the matching ones come back, newest first
    assert found == expected


async def test_filters_by_medical_center_and_location_global_ids(
    admin_client: GraphQLClient, world: World
) -> None:
    # given Alice's physical at the Houston center and Bob's injury at the Phoenix location
    houston = global_id(MedicalCenter, world.centers[1].id)
    phoenix = global_id(Location, world.acme_phoenix.id)

    # when the admin filters by each id
    by_center = await _search(admin_client, world, {"medicalCenterId": houston})
    by_location = await _search(admin_client, world, {"locationId": phoenix})

    # then each finds its one document
    assert by_center == ["other_type"]
    assert by_location == ["other_location"]


@pytest.mark.parametrize(
    ("filter", "field"),
    [
        ({"locationId": "not-an-id"}, "filter.locationId"),
        ({"medicalCenterId": "TG9jYXRpb246MQ=="}, "filter.medicalCenterId"),
        ({"state": "XX"}, "filter.state"),
        ({"employeeName": " , "}, "filter.employeeName"),
        ({"archived": True}, "filter.archived"),
        ({"archived": False}, "filter.archived"),
    ],
)
async def test_bad_criteria_are_bad_user_input(
    admin_client: GraphQLClient, world: World, filter: dict[str, Any], field: str
) -> None:
    # given a malformed or (for `archived`) staff-only criterion
    # when an employer searches with it
    answer = await admin_client(SEARCH, {"filter": filter})

    # then the search is refused as bad input naming the field, and nothing is listed
    assert answer.error_codes() == ["BAD_USER_INPUT"], answer.body
    assert answer.errors[0]["extensions"]["field"] == field
    assert answer.data == {"documents": None}


async def test_a_location_id_of_the_wrong_type_is_bad_input(
    admin_client: GraphQLClient, world: World
) -> None:
    # given a medical center's global id passed where a location's is expected
    wrong = global_id(MedicalCenter, world.centers[0].id)

    # when the admin filters by it
    answer = await admin_client(SEARCH, {"filter": {"locationId": wrong}})

    # then it is bad input
    assert answer.error_codes() == ["BAD_USER_INPUT"]


@pytest.mark.parametrize(
    ("client_fixture", "employee_name", "expected"),
    [
        ("staff_client", "lopez gin", ["globex"]),
        ("staff_client", "eyer", ["contoso"]),
        ("tpa_client", "meyer", ["contoso"]),
        ("globex_client", "smith", []),
        ("globex_client", "lope", ["globex"]),
        # a Basic user: only the subscribed pairs among Alice Smith's documents
        ("basic_client", "smith", ["subscribed", "restored"]),
    ],
)
async def test_the_name_search_reaches_every_account_the_caller_sees_and_no_other(
    request: pytest.FixtureRequest,
    http: httpx.AsyncClient,
    world: World,
    client_fixture: str,
    employee_name: str,
    expected: list[str],
) -> None:
    # given Gina Lopez (Globex) and Carl Meyer (Contoso, a client of the TPA) besides Acme's
    client: GraphQLClient = request.getfixturevalue(client_fixture)

    # when the caller searches by an employee's name
    found = await _search(client, world, {"employeeName": employee_name})

    # then staff find any account's employee, a TPA its client's, a tenant only its own
    assert found == expected


async def test_staff_filter_on_archived(staff_client: GraphQLClient, world: World) -> None:
    # given one archived document (posted 120 days ago; Acme keeps 90) and one restored
    # when staff ask for archived documents, then for current ones
    archived = await _search(staff_client, world, {"archived": True})
    current = await _search(staff_client, world, {"archived": False})

    # then the archive is derived from the dates and the restore, with no job having run
    assert archived == ["archived"]
    assert "archived" not in current
    assert {"restored", "retracted", "globex", "contoso"} <= set(current)


async def test_a_foreign_location_id_finds_nothing(
    admin_client: GraphQLClient, world: World
) -> None:
    # given Globex's location id
    chicago = global_id(Location, world.globex_chicago.id)

    # when Acme's admin filters by it
    found = await _search(admin_client, world, {"locationId": chicago})

    # then nothing comes back (exactly like an unknown location)
    assert found == []


async def test_cursor_pagination_forward_and_backward(
    admin_client: GraphQLClient, world: World
) -> None:
    # given the admin's four documents, newest first
    expected = ["subscribed", "other_type", "other_location", "restored"]
    names = _names_by_id(world)

    # when paging forward two at a time
    first = (await admin_client(SEARCH, {"first": 2})).ok()["documents"]
    second = (
        await admin_client(SEARCH, {"first": 2, "after": first["pageInfo"]["endCursor"]})
    ).ok()["documents"]
    # and back from the end of the second page
    back = (
        await admin_client(SEARCH, {"last": 2, "before": second["pageInfo"]["startCursor"]})
    ).ok()["documents"]

    # then the pages tile the list in order, with the whole count on each
    assert [names[e["node"]["id"]] for e in first["edges"]] == expected[:2]
    assert [names[e["node"]["id"]] for e in second["edges"]] == expected[2:]
    assert [names[e["node"]["id"]] for e in back["edges"]] == expected[:2]
    assert first["pageInfo"]["hasNextPage"] is True
    assert second["pageInfo"]["hasNextPage"] is False
    assert first["totalCount"] == second["totalCount"] == 4

    # and a forged cursor is bad input
    forged = await admin_client(SEARCH, {"first": 2, "after": "bm9wZQ"})
    assert forged.error_codes() == ["BAD_USER_INPUT"]


COUNT_IN_FRAGMENT = """
fragment Counted on DocumentConnection { totalCount }
query { documents(first: 1) { ...Counted edges { node { id } } } }
"""


async def test_total_count_on_an_empty_page_and_through_a_fragment(
    admin_client: GraphQLClient,
) -> None:
    # given the admin's four documents, read in one page
    whole = (await admin_client(SEARCH, {"first": 4})).ok()["documents"]

    # when asking for the page after the last one, and for the count through a fragment
    after_last = (
        await admin_client(SEARCH, {"first": 2, "after": whole["pageInfo"]["endCursor"]})
    ).ok()["documents"]
    fragment = (await admin_client(COUNT_IN_FRAGMENT, {})).ok()["documents"]

    # then the empty page and the fragment both carry the whole count
    assert whole["totalCount"] == 4
    assert after_last["edges"] == []
    assert after_last["totalCount"] == 4
    assert len(fragment["edges"]) == 1
    assert fragment["totalCount"] == 4


async def test_denied_callers(
    anonymous_client: GraphQLClient, account_only_client: GraphQLClient
) -> None:
    # given a caller without a token and an API client without `documents:read`
    # when each lists documents
    anonymous = await anonymous_client(SEARCH, {})
    unscoped = await account_only_client(SEARCH, {})

    # then the first must sign in and the second is forbidden
    assert_unauthenticated(anonymous)
    assert_forbidden(unscoped)


async def test_a_search_is_audited_once_with_the_ids_returned_and_the_filter(
    committing_clients: dict[str, GraphQLClient], world: World, engine: AsyncEngine
) -> None:
    # given the Basic user, and a unique request id to find this request's events
    marker = f"audit-{uuid.uuid4().hex}"
    query = """
    query ($filter: DocumentFilter) {
      documents(filter: $filter) { edges { node { id employee { firstName } visit { id } } } }
    }
    """

    # when they search by employee name with the employee and visit nested
    answer = await committing_clients["basic"](
        query, {"filter": {"employeeName": "alice"}}, headers={"X-Request-ID": marker}
    )
    answer.ok()

    # then one audit event names the documents returned and the filter
    async with AsyncSession(engine) as session:
        set_scope(session, AccountScope.everything())
        rows = list(
            await session.scalars(
                sa.select(AuditEvent).where(
                    col(AuditEvent.request_id) == answer.headers["x-request-id"]
                )
            )
        )
    by_action: dict[str, list[Any]] = {}
    for row in rows:
        by_action.setdefault(row.action, []).append(row)
    [searched] = by_action["documents.searched"]
    assert set(searched.object_ids) == {
        str(world.results.subscribed.id),
        str(world.results.restored.id),
    }
    assert searched.details == {"filter": {"employee_name": "alice"}}
    assert searched.actor_id == world.acme_basic.id
    # and the nested employee and visit reads are audited too, one event each
    [employees] = by_action["employees.read"]
    assert employees.object_ids == [str(world.results.alice.id)]
    [visits] = by_action["visits.read"]
    assert set(visits.object_ids) == {
        str(world.results.alice_injury.id),
        str(world.results.alice_old_injury.id),
    }
