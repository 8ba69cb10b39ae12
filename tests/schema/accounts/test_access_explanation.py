"""`accessExplanation`: support asks why a user can or cannot see a document. Checked against the
visibility rule's own world (tests/support/world.py `Results`), per reason, and that the answer
flips once the suggested change is made (and the user's own list agrees)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from portal.models import Document, Visit
from portal.schema.accounts import Account as AccountNode
from portal.schema.accounts import Contact as ContactNode
from portal.schema.accounts import Location as LocationNode
from portal.schema.catalog import ReportType as ReportTypeNode
from portal.schema.documents import Document as DocumentNode
from portal.schema.relay import global_id
from portal.schema.users import PortalUser as PortalUserNode
from portal.schema.visits import Visit as VisitNode
from portal.seed.reference import reference_id
from tests.schema.accounts.conftest import committed_events
from tests.support.graphql import GraphQLClient, assert_forbidden, assert_unauthenticated
from tests.support.world import SUBSCRIBED_REPORT_TYPE, World

EXPLAIN = """
query ($user: ID!, $object: ID!) {
  accessExplanation(userId: $user, objectId: $object) {
    visible
    reasons { code message remedy remedyMutation }
    user { email }
    document { name }
    account { name }
  }
}
"""
LIST = "{ documents(first: 100) { nodes { id } } }"


async def explain(client: GraphQLClient, user_id: uuid.UUID, document: Document) -> dict[str, Any]:
    variables = {
        "user": global_id(PortalUserNode, user_id),
        "object": global_id(DocumentNode, document.id),
    }
    answer: dict[str, Any] = (await client(EXPLAIN, variables)).ok()["accessExplanation"]
    return answer


def codes(answer: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in answer["reasons"]]


async def listed(client: GraphQLClient, document: Document) -> bool:
    nodes = (await client(LIST)).ok()["documents"]["nodes"]
    return global_id(DocumentNode, document.id) in {node["id"] for node in nodes}


async def test_the_answer_agrees_with_the_lists_for_every_document(
    staff_client: GraphQLClient,
    admin_client: GraphQLClient,
    basic_client: GraphQLClient,
    tpa_client: GraphQLClient,
    world: World,
) -> None:
    documents = [
        world.results.subscribed,
        world.results.other_type,
        world.results.other_location,
        world.results.archived,
        world.results.restored,
        world.results.retracted,
        world.results.globex,
        world.results.contoso,
    ]
    for client, user in (
        (admin_client, world.acme_admin),
        (basic_client, world.acme_basic),
        (tpa_client, world.northwind_admin),
    ):
        seen = {node["id"] for node in (await client(LIST)).ok()["documents"]["nodes"]}
        for document in documents:
            answer = await explain(staff_client, user.id, document)
            assert answer["visible"] is (global_id(DocumentNode, document.id) in seen)
            # And a visible document has no reason, an invisible one at least one
            assert (answer["reasons"] == []) is answer["visible"]


async def test_a_visible_document_has_no_reasons(staff_client: GraphQLClient, world: World) -> None:
    answer = await explain(staff_client, world.acme_basic.id, world.results.subscribed)
    assert answer["visible"] is True
    assert answer["reasons"] == []
    assert answer["user"] == {"email": "basic@acme.example"}
    assert answer["document"] == {"name": "Work Status Report"}
    assert answer["account"] == {"name": "Acme Logistics"}


@pytest.mark.parametrize("document", ["other_type", "other_location"])
async def test_no_report_subscription_and_the_flip(
    document: str,
    staff_client: GraphQLClient,
    admin_client: GraphQLClient,
    basic_client: GraphQLClient,
    world: World,
) -> None:
    target: Document = getattr(world.results, document)
    # Given the Basic user's one subscription does not name this pair
    answer = await explain(staff_client, world.acme_basic.id, target)
    assert answer["visible"] is False
    assert codes(answer) == ["NO_REPORT_SUBSCRIPTION"]
    [reason] = answer["reasons"]
    assert reason["remedyMutation"] == "setReportSubscriptions"
    location = "Dallas Hub" if document == "other_type" else "Phoenix Yard"
    assert location in reason["message"]
    assert not await listed(basic_client, target)
    # When a User Admin makes the suggested change (adds the pair)
    pairs = [
        {
            "reportTypeId": global_id(
                ReportTypeNode, reference_id("report_type", SUBSCRIBED_REPORT_TYPE)
            ),
            "locationId": global_id(LocationNode, world.acme_dallas.id),
        },
        {
            "reportTypeId": global_id(ReportTypeNode, target.report_type_id),
            "locationId": global_id(LocationNode, target.location_id),
        },
    ]
    change = """
    mutation ($contact: ID!, $pairs: [ReportSubscriptionInput!]!) {
      setReportSubscriptions(input: {contactId: $contact, subscriptions: $pairs}) {
        userErrors { code }
      }
    }
    """
    variables = {"contact": global_id(ContactNode, world.acme_basic.contact_id), "pairs": pairs}
    assert (await admin_client(change, variables)).ok()["setReportSubscriptions"][
        "userErrors"
    ] == []
    # Then the answer flips, and the user's own list agrees
    flipped = await explain(staff_client, world.acme_basic.id, target)
    assert (flipped["visible"], flipped["reasons"]) == (True, [])
    assert await listed(basic_client, target)


async def test_archived_with_its_date_and_the_flip(
    staff_client: GraphQLClient, admin_client: GraphQLClient, world: World
) -> None:
    target = world.results.archived
    answer = await explain(staff_client, world.acme_admin.id, target)
    assert codes(answer) == ["ARCHIVED"]
    [reason] = answer["reasons"]
    archived_on = (target.posted_at + timedelta(days=90)).date().isoformat()
    assert archived_on in reason["message"]
    assert "90 days" in reason["message"]
    assert reason["remedyMutation"] == "restoreDocument"
    # When staff make the suggested change (restore it)
    restore = "mutation ($id: ID!) { restoreDocument(input: {id: $id}) { userErrors { code } } }"
    response = await staff_client(restore, {"id": global_id(DocumentNode, target.id)})
    assert response.ok()["restoreDocument"]["userErrors"] == []
    # Then it flips, and the admin's list agrees
    flipped = await explain(staff_client, world.acme_admin.id, target)
    assert (flipped["visible"], flipped["reasons"]) == (True, [])
    assert await listed(admin_client, target)


async def test_retracted_has_its_date_and_reason_and_no_remedy(
    staff_client: GraphQLClient, world: World
) -> None:
    answer = await explain(staff_client, world.acme_admin.id, world.results.retracted)
    assert codes(answer) == ["RETRACTED"]
    [reason] = answer["reasons"]
    assert "Posted to the wrong patient's record." in reason["message"]
    assert reason["remedyMutation"] is None


async def test_several_reasons_at_once(staff_client: GraphQLClient, world: World) -> None:
    # The Basic user and Globex's document: another account, and no subscription either
    answer = await explain(staff_client, world.acme_basic.id, world.results.globex)
    assert codes(answer) == ["ANOTHER_ACCOUNT", "NO_REPORT_SUBSCRIPTION"]


async def test_another_account_and_the_flip(
    staff_client: GraphQLClient, tpa_client: GraphQLClient, world: World
) -> None:
    target = world.results.globex
    answer = await explain(staff_client, world.northwind_admin.id, target)
    assert codes(answer) == ["ANOTHER_ACCOUNT"]
    [reason] = answer["reasons"]
    assert "Globex Manufacturing" in reason["message"]
    assert reason["remedyMutation"] == "addEmployerClient"
    attach = """
    mutation ($a: ID!, $c: ID!) {
      addEmployerClient(input: {accountId: $a, clientAccountId: $c}) { userErrors { code } }
    }
    """
    variables = {
        "a": global_id(AccountNode, world.northwind.id),
        "c": global_id(AccountNode, world.globex.id),
    }
    assert (await staff_client(attach, variables)).ok()["addEmployerClient"]["userErrors"] == []
    flipped = await explain(staff_client, world.northwind_admin.id, target)
    assert (flipped["visible"], flipped["reasons"]) == (True, [])
    assert await listed(tpa_client, target)


async def test_a_login_that_cannot_sign_in_and_the_flip(
    staff_client: GraphQLClient, admin_client: GraphQLClient, world: World
) -> None:
    # The deactivated Acme user, asked about a document every Acme admin sees
    answer = await explain(staff_client, world.acme_deactivated.id, world.results.subscribed)
    assert answer["visible"] is False
    assert codes(answer) == ["LOGIN_NOT_ACTIVE", "NO_REPORT_SUBSCRIPTION"]
    assert answer["reasons"][0]["remedyMutation"] == "reactivateUser"
    # When the admin reactivates them as a User Admin
    user = global_id(PortalUserNode, world.acme_deactivated.id)
    reactivate = (
        "mutation ($id: ID!) { reactivateUser(input: {userId: $id}) { userErrors { code } } }"
    )
    promote = (
        "mutation ($id: ID!) { updateUserRole(input: {userId: $id, role: USER_ADMIN}) "
        "{ userErrors { code } } }"
    )
    assert (await admin_client(reactivate, {"id": user})).ok()["reactivateUser"]["userErrors"] == []
    assert (await admin_client(promote, {"id": user})).ok()["updateUserRole"]["userErrors"] == []
    flipped = await explain(staff_client, world.acme_deactivated.id, world.results.subscribed)
    assert (flipped["visible"], flipped["reasons"]) == (True, [])


async def test_explanations_are_audited_as_phi_reads(
    committing_clients: dict[str, GraphQLClient], engine: AsyncEngine, world: World
) -> None:
    since = datetime.now(UTC)
    await explain(committing_clients["staff"], world.acme_basic.id, world.results.other_type)
    [event] = await committed_events(engine, action="documents.access_explained", since=since)
    assert event.actor_id == world.staff.id
    assert event.object_ids == [str(world.results.other_type.id)]
    assert event.details["userId"] == str(world.acme_basic.id)
    assert event.details["visible"] is False


async def test_unknown_ids_answer_not_found(staff_client: GraphQLClient, world: World) -> None:
    variables = {
        "user": global_id(PortalUserNode, uuid.uuid4()),
        "object": global_id(DocumentNode, world.results.subscribed.id),
    }
    response = await staff_client(EXPLAIN, variables)
    assert response.error_codes() == ["NOT_FOUND"]
    assert response.data == {"accessExplanation": None}
    variables = {
        "user": global_id(PortalUserNode, world.acme_basic.id),
        "object": global_id(DocumentNode, uuid.uuid4()),
    }
    assert (await staff_client(EXPLAIN, variables)).error_codes() == ["NOT_FOUND"]


@pytest.mark.parametrize("actor", ["admin", "basic", "globex", "api_client", "provider_client"])
async def test_only_staff_ask_for_explanations(
    actor: str, clients: dict[str, GraphQLClient], world: World
) -> None:
    variables = {
        "user": global_id(PortalUserNode, world.acme_basic.id),
        "object": global_id(DocumentNode, world.results.subscribed.id),
    }
    assert_forbidden(await clients[actor](EXPLAIN, variables), ["accessExplanation"])
    assert_unauthenticated(await clients["anonymous"](EXPLAIN, variables))


VISIT_EXPLAIN = """
query ($user: ID!, $object: ID!) {
  accessExplanation(userId: $user, objectId: $object) {
    visible reasons { code message remedyMutation } visit { id } document { id }
  }
}
"""


async def explain_visit(client: GraphQLClient, user_id: uuid.UUID, visit: Visit) -> dict[str, Any]:
    variables = {
        "user": global_id(PortalUserNode, user_id),
        "object": global_id(VisitNode, visit.id),
    }
    answer: dict[str, Any] = (await client(VISIT_EXPLAIN, variables)).ok()["accessExplanation"]
    return answer


async def test_visits_answer_like_the_visits_list(
    staff_client: GraphQLClient, visits_client: GraphQLClient, world: World
) -> None:
    seen = {
        node["id"]
        for node in (await visits_client("{ visits(first: 50) { nodes { id } } }")).ok()["visits"][
            "nodes"
        ]
    }
    results = world.results
    for visit in (
        results.alice_injury,
        results.bob_injury,
        results.gina_physical,
        results.carl_hearing,
    ):
        answer = await explain_visit(staff_client, world.acme_visits.id, visit)
        assert answer["visible"] is (global_id(VisitNode, visit.id) in seen)
        assert (answer["reasons"] == []) is answer["visible"]
        assert answer["visit"] == {"id": global_id(VisitNode, visit.id)}
        assert answer["document"] is None
    other = await explain_visit(staff_client, world.acme_visits.id, results.gina_physical)
    assert [reason["code"] for reason in other["reasons"]] == ["ANOTHER_ACCOUNT"]


async def test_a_missing_permission_and_the_flip(
    staff_client: GraphQLClient,
    admin_client: GraphQLClient,
    basic_client: GraphQLClient,
    world: World,
) -> None:
    target = world.results.alice_injury
    # Given the Basic user has no VIEW_VISIT_ACTIVITY
    answer = await explain_visit(staff_client, world.acme_basic.id, target)
    assert answer["visible"] is False
    assert [reason["code"] for reason in answer["reasons"]] == ["ROLE_OR_PERMISSION_MISSING"]
    assert answer["reasons"][0]["remedyMutation"] == "setUserPermissions"
    assert_forbidden(await basic_client("{ visits { totalCount } }"), ["visits"])
    # When the admin grants it (the suggested change)
    grant = """
    mutation ($id: ID!) {
      setUserPermissions(input: {userId: $id, permissions: [VIEW_VISIT_ACTIVITY]}) {
        userErrors { code }
      }
    }
    """
    variables = {"id": global_id(PortalUserNode, world.acme_basic.id)}
    assert (await admin_client(grant, variables)).ok()["setUserPermissions"]["userErrors"] == []
    # Then the answer flips and the user's visits list shows the visit
    flipped = await explain_visit(staff_client, world.acme_basic.id, target)
    assert (flipped["visible"], flipped["reasons"]) == (True, [])
    nodes = (await basic_client("{ visits(first: 50) { nodes { id } } }")).ok()["visits"]["nodes"]
    assert {"id": global_id(VisitNode, target.id)} in nodes


async def test_other_kinds_of_objects_are_bad_input(
    staff_client: GraphQLClient, world: World
) -> None:
    variables = {
        "user": global_id(PortalUserNode, world.acme_basic.id),
        "object": global_id(LocationNode, world.acme_dallas.id),
    }
    assert (await staff_client(EXPLAIN, variables)).error_codes() == ["BAD_USER_INPUT"]
