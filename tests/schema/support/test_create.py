"""createSupportRequest: what a requester may open, and every user error (nothing written)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import SupportRequest, SupportRequestStatusChange, Visit
from portal.models.enums import VisitStatus, VisitType
from portal.resolvers.visits import NON_INJURY_RESULTS_DELAY
from portal.schema.accounts import Account
from portal.schema.documents import Document
from portal.schema.relay import global_id
from tests.schema.support.conftest import (
    CREATE,
    create,
    create_refused,
    document_id,
    node,
    parse_time,
    request_input,
    stored,
    visit_id,
)
from tests.support.graphql import GraphQLClient
from tests.support.world import World


async def _count(db: AsyncSession) -> tuple[int, int]:
    requests = await db.scalar(sa.select(sa.func.count()).select_from(SupportRequest))
    changes = await db.scalar(sa.select(sa.func.count()).select_from(SupportRequestStatusChange))
    return int(requests or 0), int(changes or 0)


async def test_a_basic_user_opens_a_request_numbered_and_new(
    basic_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # Given a Basic user, When they open an account-update request
    request = await create(basic_client, subject="  Fewer emails  ")
    # Then it is NEW, numbered, not urgent, trimmed, with them as requester and its opening in
    # the history
    assert request["status"] == "NEW"
    assert request["number"].startswith("SR-")
    assert request["urgent"] is False
    assert request["subject"] == "Fewer emails"
    assert request["requester"] == {"name": "Basic Acme", "isStaff": False}
    [opened] = request["history"]
    assert (opened["fromStatus"], opened["toStatus"]) == (None, "NEW")
    assert opened["changedBy"]["name"] == "Basic Acme"
    row = await db.scalar(
        sa.select(SupportRequest).where(col(SupportRequest.number) == request["number"])
    )
    assert row is not None
    assert row.account_id == world.acme.id
    assert row.requester_user_id == world.acme_basic.id


async def test_numbers_are_unique_and_increasing(admin_client: GraphQLClient) -> None:
    first = await create(admin_client)
    second = await create(admin_client)
    assert int(second["number"][3:]) > int(first["number"][3:])


async def test_a_privacy_request_about_a_visible_document_is_urgent(
    basic_client: GraphQLClient, world: World
) -> None:
    # Given a document the Basic user's subscriptions show them
    # When they report it as received in error
    request = await create(
        basic_client,
        type="TREATMENT_RESULT",
        topic="PRIVACY",
        subject="Not our employee",
        description="This result is for someone we do not employ.",
        documentId=document_id(world.results.subscribed),
    )
    # Then the request is urgent
    assert request["urgent"] is True
    assert request["topic"] == "PRIVACY"


async def test_a_topic_of_the_other_type_is_a_user_error_before_the_database(
    basic_client: GraphQLClient, db: AsyncSession
) -> None:
    before = await _count(db)
    # When an ACCOUNT_UPDATE request names a TREATMENT_RESULT topic
    payload = await create_refused(basic_client, type="ACCOUNT_UPDATE", topic="PRIVACY")
    # Then it is TOPIC_NOT_IN_TYPE on `topic`, and nothing is written
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == ("topic", "TOPIC_NOT_IN_TYPE")
    assert "PRIVACY" in error["message"]
    assert await _count(db) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"description": ""}, "description"),
        ({"description": "   \n  "}, "description"),
        ({"description": "x" * 5001}, "description"),
        ({"subject": ""}, "subject"),
        ({"subject": "s" * 201}, "subject"),
    ],
    ids=["empty", "blank", "oversized", "no-subject", "long-subject"],
)
async def test_an_empty_or_oversized_text_is_a_user_error(
    basic_client: GraphQLClient, db: AsyncSession, changes: dict[str, str], field: str
) -> None:
    before = await _count(db)
    payload = await create_refused(basic_client, **changes)
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == (field, "BAD_USER_INPUT")
    assert await _count(db) == before


async def test_a_description_of_exactly_the_limit_is_accepted(
    basic_client: GraphQLClient,
) -> None:
    request = await create(basic_client, description="x" * 5000)
    assert len(request["description"]) == 5000


@pytest.mark.parametrize(
    "document",
    ["globex", "other_type", "other_location", "retracted", "archived"],
)
async def test_a_document_the_requester_may_not_see_answers_like_an_unknown_id(
    basic_client: GraphQLClient, db: AsyncSession, world: World, document: str
) -> None:
    # Given a document of another tenant, outside the Basic user's subscriptions, retracted or
    # archived
    row = getattr(world.results, document)
    before = await _count(db)
    # When the Basic user names it
    payload = await create_refused(
        basic_client, type="TREATMENT_RESULT", topic="PRIVACY", documentId=document_id(row)
    )
    # Then it answers exactly like an id that does not exist
    unknown = await create_refused(
        basic_client,
        type="TREATMENT_RESULT",
        topic="PRIVACY",
        documentId=str(global_id(Document, uuid.uuid4())),
    )
    assert payload["userErrors"] == unknown["userErrors"]
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == ("documentId", "NOT_FOUND")
    assert await _count(db) == before


async def test_a_user_admin_may_name_any_current_document_of_the_account(
    admin_client: GraphQLClient, world: World
) -> None:
    request = await create(
        admin_client,
        type="TREATMENT_RESULT",
        topic="SERVICES_QUESTION",
        documentId=document_id(world.results.other_location),
    )
    assert request["status"] == "NEW"


async def test_a_visit_needs_visit_activity(
    basic_client: GraphQLClient, visits_client: GraphQLClient, world: World
) -> None:
    visit = visit_id(world.results.alice_injury)
    # Given a Basic user without VIEW_VISIT_ACTIVITY: the visit is unknown to them
    payload = await create_refused(
        basic_client, type="TREATMENT_RESULT", topic="BILLING", visitId=visit
    )
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == ("visitId", "NOT_FOUND")
    # And a Basic user holding it may name the visit
    request = await create(visits_client, type="TREATMENT_RESULT", topic="BILLING", visitId=visit)
    assert request["status"] == "NEW"


async def test_another_tenants_visit_answers_like_an_unknown_id(
    admin_client: GraphQLClient, world: World
) -> None:
    payload = await create_refused(
        admin_client,
        type="TREATMENT_RESULT",
        topic="BILLING",
        visitId=visit_id(world.results.gina_physical),
    )
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == ("visitId", "NOT_FOUND")


async def test_a_document_of_another_visit_is_a_user_error(
    admin_client: GraphQLClient, world: World
) -> None:
    payload = await create_refused(
        admin_client,
        type="TREATMENT_RESULT",
        topic="SERVICES_QUESTION",
        documentId=document_id(world.results.subscribed),
        visitId=visit_id(world.results.bob_injury),
    )
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == ("visitId", "BAD_USER_INPUT")


async def _recent_physical(db: AsyncSession, world: World, hours_ago: float) -> Visit:
    now = datetime.now(UTC)
    alice = world.results.alice
    visit = Visit(
        account_id=alice.account_id,
        employee_id=alice.id,
        location_id=alice.location_id,
        medical_center_id=world.centers[0].id,
        visited_at=now - timedelta(hours=hours_ago),
        visit_type=VisitType.NON_INJURY,
        status=VisitStatus.CHECKED_OUT,
        checked_out_at=now - timedelta(hours=hours_ago - 1),
    )
    db.add(visit)
    await db.commit()
    return visit


async def test_missing_results_before_they_are_due_says_when_they_are_expected(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # Given a non-injury visit 10 hours ago (results due 72 hours after the visit)
    visit = await _recent_physical(db, world, hours_ago=10)
    expected = visit.visited_at + NON_INJURY_RESULTS_DELAY
    before = await _count(db)
    # When the admin reports its results missing
    payload = await create_refused(
        admin_client, type="TREATMENT_RESULT", topic="MISSING_RESULTS", visitId=visit_id(visit)
    )
    # Then it is RESULTS_NOT_YET_DUE, with the expected time in the message and the payload
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == ("visitId", "RESULTS_NOT_YET_DUE")
    assert expected.isoformat(timespec="minutes") in error["message"]
    assert parse_time(payload["resultsExpectedAt"]) == expected
    assert await _count(db) == before


async def test_missing_injury_results_before_check_out_are_not_due(
    admin_client: GraphQLClient, world: World
) -> None:
    # Given an injury visit still checked in (its work-status report comes at check-out)
    payload = await create_refused(
        admin_client,
        type="TREATMENT_RESULT",
        topic="MISSING_RESULTS",
        visitId=visit_id(world.results.bob_injury),
    )
    [error] = payload["userErrors"]
    assert error["code"] == "RESULTS_NOT_YET_DUE"
    assert "check-out" in error["message"]
    assert payload["resultsExpectedAt"] is None


async def test_missing_results_once_due_are_accepted_with_the_visits_status(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # Given a non-injury visit 73 hours ago, and the world's checked-out injury visit
    visit = await _recent_physical(db, world, hours_ago=73)
    # When the admin reports their results missing
    late = await create(
        admin_client, type="TREATMENT_RESULT", topic="MISSING_RESULTS", visitId=visit_id(visit)
    )
    injury = await create(
        admin_client,
        type="TREATMENT_RESULT",
        topic="MISSING_RESULTS",
        visitId=visit_id(world.results.alice_injury),
    )
    # Then both are opened, carrying the visit's status
    assert late["visitStatus"] == "CHECKED_OUT"
    assert injury["visitStatus"] == "CHECKED_OUT"


async def test_a_malformed_id_is_a_user_error(basic_client: GraphQLClient) -> None:
    payload = await create_refused(
        basic_client, type="TREATMENT_RESULT", topic="PRIVACY", documentId="nonsense"
    )
    assert payload["userErrors"][0]["field"] == "documentId"


async def test_a_retry_with_the_same_key_answers_the_first_request(
    basic_client: GraphQLClient, db: AsyncSession
) -> None:
    # Given a request opened with an idempotency key
    first = await create(basic_client, idempotencyKey="retry-7f3c")
    before = await _count(db)
    # When the same call is sent again (a retry after a lost answer)
    again = await create(basic_client, idempotencyKey="retry-7f3c")
    # Then it answers the same request and writes nothing
    assert (again["id"], again["number"]) == (first["id"], first["number"])
    assert await _count(db) == before


async def test_a_key_reused_with_another_input_is_a_user_error(
    basic_client: GraphQLClient, db: AsyncSession
) -> None:
    await create(basic_client, idempotencyKey="reuse-91ab")
    before = await _count(db)
    payload = await create_refused(
        basic_client, idempotencyKey="reuse-91ab", description="Something else entirely."
    )
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == ("idempotencyKey", "IDEMPOTENCY_KEY_REUSED")
    assert await _count(db) == before


async def test_keys_are_per_person(
    basic_client: GraphQLClient, admin_client: GraphQLClient
) -> None:
    mine = await create(basic_client, idempotencyKey="shared-key")
    theirs = await create(admin_client, idempotencyKey="shared-key")
    assert mine["id"] != theirs["id"]


async def test_a_refused_call_does_not_use_up_its_key(basic_client: GraphQLClient) -> None:
    # Given a call refused for an empty description
    await create_refused(basic_client, idempotencyKey="fix-and-retry", description="")
    # When corrected and sent with the same key, Then it opens the request
    request = await create(basic_client, idempotencyKey="fix-and-retry")
    assert request["status"] == "NEW"


async def test_staff_open_a_request_for_an_account_they_took_by_phone(
    staff_client: GraphQLClient, globex_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # When staff open a request naming Globex
    request = await create(
        staff_client, subject="Phone: add a location", accountId=_account_id(world.globex.id)
    )
    # Then it is Globex's, opened by staff, and Globex's admin sees it
    assert request["requester"] == {"name": "Sam Support", "isStaff": True}
    row = await stored(db, request["number"])
    assert (row.account_id, row.requester_staff_id) == (world.globex.id, world.staff.id)
    answer = (await node(globex_client, request["id"])).ok()["node"]
    assert answer["number"] == request["number"]


async def test_staff_must_name_the_account(staff_client: GraphQLClient) -> None:
    [error] = (await create_refused(staff_client))["userErrors"]
    assert (error["field"], error["code"]) == ("accountId", "BAD_USER_INPUT")


async def test_a_tpa_admin_may_name_a_client_account_and_no_other(
    tpa_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    request = await create(tpa_client, accountId=_account_id(world.contoso.id))
    assert (await stored(db, request["number"])).account_id == world.contoso.id
    [error] = (await create_refused(tpa_client, accountId=_account_id(world.acme.id)))["userErrors"]
    assert (error["field"], error["code"]) == ("accountId", "NOT_FOUND")


async def test_a_named_account_must_be_the_documents(
    staff_client: GraphQLClient, world: World
) -> None:
    payload = await create_refused(
        staff_client,
        type="TREATMENT_RESULT",
        topic="PRIVACY",
        documentId=document_id(world.results.subscribed),
        accountId=_account_id(world.globex.id),
    )
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == ("documentId", "BAD_USER_INPUT")


def _account_id(account_id: uuid.UUID) -> str:
    return str(global_id(Account, account_id))


async def test_a_nul_character_is_refused_before_anything_runs(
    basic_client: GraphQLClient,
) -> None:
    # A NUL character is refused at the edge, for every input (see tests/security), naming it
    response = await basic_client(CREATE, {"input": request_input(description="before\x00after")})
    assert response.data is None
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in response.errors] == [
        ("BAD_USER_INPUT", "input.description")
    ]
