"""extendAuthorization, cancelAuthorization, deleteAuthorization and check-in by number: each
success, each user error, and each denied actor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import AuditEvent, Authorization
from portal.schema.catalog import MedicalCenter
from portal.schema.employees import Employee
from portal.schema.relay import global_id
from tests.schema.authorizations.conftest import Authorizations, gid
from tests.support.graphql import GraphQLClient, assert_forbidden, assert_unauthenticated
from tests.support.world import World

EXTEND = """
mutation ($input: ExtendAuthorizationInput!) {
  extendAuthorization(input: $input) {
    authorization {
      status validUntil
      history { kind previousValidUntil newValidUntil note recipientEmail }
    }
    userErrors { field code }
  }
}
"""
CANCEL = """
mutation ($input: CancelAuthorizationInput!) {
  cancelAuthorization(input: $input) {
    authorization { status cancelledAt history { kind note } }
    userErrors { field code }
  }
}
"""
DELETE = """
mutation ($id: ID!) {
  deleteAuthorization(input: {id: $id}) { deletedAuthorizationId userErrors { field code } }
}
"""
NODE = "query ($id: ID!) { node(id: $id) { ... on Authorization { number } } }"
TODAY = datetime.now(UTC).date()


def later(days: int) -> str:
    return (TODAY + timedelta(days=days)).isoformat()


async def test_extending_an_expired_one_makes_it_active_with_history(
    basic_client: GraphQLClient, authorizations: Authorizations
) -> None:
    # Given the Basic user's expired authorization
    target = authorizations.basic_expired
    # When they extend it, sending it again
    payload = (
        await basic_client(
            EXTEND,
            {
                "input": {
                    "id": gid(target.id),
                    "validUntil": later(10),
                    "note": "Shift moved",
                    "send": True,
                }
            },
        )
    ).ok()["extendAuthorization"]
    # Then it is ACTIVE again until then, and the history keeps both end dates and the sends
    assert payload["userErrors"] == []
    made = payload["authorization"]
    assert (made["status"], made["validUntil"]) == ("ACTIVE", later(10))
    extended = [h for h in made["history"] if h["kind"] == "EXTENDED"]
    assert extended == [
        {
            "kind": "EXTENDED",
            "previousValidUntil": target.valid_until.isoformat(),
            "newValidUntil": later(10),
            "note": "Shift moved",
            "recipientEmail": None,
        }
    ]
    assert any(h["kind"] == "SENT" and h["recipientEmail"] is None for h in made["history"])


@pytest.mark.parametrize(
    ("which", "valid_until", "field", "code"),
    [
        ("basic_active", -1, "validUntil", "BAD_USER_INPUT"),
        ("basic_active", 400, "validUntil", "BAD_USER_INPUT"),
        ("admin_cancelled", 40, "id", "INVALID_TRANSITION"),
        ("used", 40, "id", "INVALID_TRANSITION"),
        ("admin_deleted", 40, "id", "NOT_FOUND"),
        ("globex_active", 40, "id", "NOT_FOUND"),
    ],
    ids=["not-later", "too-long", "cancelled", "used", "deleted", "other-tenant"],
)
async def test_extend_user_errors(
    admin_client: GraphQLClient,
    authorizations: Authorizations,
    world: World,
    which: str,
    valid_until: int,
    field: str,
    code: str,
) -> None:
    target = (
        world.results.admin_authorization if which == "used" else getattr(authorizations, which)
    )
    end = (
        (target.valid_until + timedelta(days=valid_until)).isoformat()
        if valid_until < 0
        else later(valid_until)
    )
    payload = (
        await admin_client(EXTEND, {"input": {"id": gid(target.id), "validUntil": end}})
    ).ok()
    assert payload["extendAuthorization"] == {
        "authorization": None,
        "userErrors": [{"field": field, "code": code}],
    }


async def test_cancel_by_its_creator_and_by_a_user_admin(
    basic_client: GraphQLClient, admin_client: GraphQLClient, authorizations: Authorizations
) -> None:
    mine = (
        await basic_client(
            CANCEL, {"input": {"id": gid(authorizations.basic_active.id), "reason": "No show"}}
        )
    ).ok()["cancelAuthorization"]
    assert mine["authorization"]["status"] == "CANCELLED"
    assert mine["authorization"]["history"][-1] == {"kind": "CANCELLED", "note": "No show"}
    admins = (
        await admin_client(CANCEL, {"input": {"id": gid(authorizations.basic_expired.id)}})
    ).ok()["cancelAuthorization"]
    assert admins["authorization"]["status"] == "CANCELLED"


async def test_an_api_client_with_the_write_scope_cancels(
    writer: Any, authorizations: Authorizations
) -> None:
    _, client = writer
    payload = (await client(CANCEL, {"input": {"id": gid(authorizations.admin_active.id)}})).ok()[
        "cancelAuthorization"
    ]
    assert payload["authorization"]["status"] == "CANCELLED"


@pytest.mark.parametrize(
    ("which", "field", "code"),
    [
        ("admin_cancelled", "id", "INVALID_TRANSITION"),
        ("used", "id", "INVALID_TRANSITION"),
        ("admin_deleted", "id", "NOT_FOUND"),
        ("contoso_active", "id", "NOT_FOUND"),
    ],
    ids=["cancelled", "used", "deleted", "other-tenant"],
)
async def test_cancel_user_errors(
    admin_client: GraphQLClient,
    authorizations: Authorizations,
    world: World,
    which: str,
    field: str,
    code: str,
) -> None:
    target = (
        world.results.admin_authorization if which == "used" else getattr(authorizations, which)
    )
    payload = (await admin_client(CANCEL, {"input": {"id": gid(target.id)}})).ok()
    assert payload["cancelAuthorization"]["userErrors"] == [{"field": field, "code": code}]


async def test_a_too_long_reason_is_refused(
    admin_client: GraphQLClient, authorizations: Authorizations
) -> None:
    payload = (
        await admin_client(
            CANCEL, {"input": {"id": gid(authorizations.admin_active.id), "reason": "x" * 1001}}
        )
    ).ok()
    assert payload["cancelAuthorization"]["userErrors"] == [
        {"field": "reason", "code": "BAD_USER_INPUT"}
    ]


async def test_a_basic_user_cannot_change_anothers_authorization(
    basic_client: GraphQLClient, authorizations: Authorizations, db: AsyncSession
) -> None:
    target = gid(authorizations.admin_active.id)
    cancel = (await basic_client(CANCEL, {"input": {"id": target}})).ok()
    extend = (await basic_client(EXTEND, {"input": {"id": target, "validUntil": later(60)}})).ok()
    assert cancel["cancelAuthorization"]["userErrors"] == [{"field": "id", "code": "NOT_FOUND"}]
    assert extend["extendAuthorization"]["userErrors"] == [{"field": "id", "code": "NOT_FOUND"}]
    row = await db.get(Authorization, authorizations.admin_active.id, populate_existing=True)
    assert row is not None
    assert row.cancelled_at is None


@pytest.mark.parametrize("actor", ["staff", "api_client", "provider_client"])
@pytest.mark.parametrize("mutation", ["cancel", "extend"])
async def test_who_may_not_extend_or_cancel(
    actor: str, mutation: str, clients: dict[str, GraphQLClient], authorizations: Authorizations
) -> None:
    target = gid(authorizations.admin_active.id)
    if mutation == "cancel":
        response = await clients[actor](CANCEL, {"input": {"id": target}})
        assert_forbidden(response, ["cancelAuthorization"])
    else:
        response = await clients[actor](EXTEND, {"input": {"id": target, "validUntil": later(60)}})
        assert_forbidden(response, ["extendAuthorization"])


async def test_a_read_only_client_and_anonymous_may_not_cancel(
    reader: Any, anonymous_client: GraphQLClient, authorizations: Authorizations
) -> None:
    _, client = reader
    target = {"input": {"id": gid(authorizations.admin_active.id)}}
    assert_forbidden(await client(CANCEL, target), ["cancelAuthorization"])
    assert_unauthenticated(await anonymous_client(CANCEL, target))


async def test_a_user_admin_deletes_and_it_is_gone_everywhere_and_audited(
    admin_client: GraphQLClient,
    basic_client: GraphQLClient,
    authorizations: Authorizations,
    db: AsyncSession,
    world: World,
) -> None:
    target = gid(authorizations.basic_active.id)
    payload = (await admin_client(DELETE, {"id": target})).ok()["deleteAuthorization"]
    assert payload == {"deletedAuthorizationId": target, "userErrors": []}
    # Gone from node, the list and the employee's list, for its creator too
    assert (await basic_client(NODE, {"id": target})).ok()["node"] is None
    listed = (await basic_client("{ authorizations { nodes { id } } }")).ok()
    assert target not in [n["id"] for n in listed["authorizations"]["nodes"]]
    query = "query ($id: ID!) { node(id: $id) { ... on Employee { authorizations { id } } } }"
    alice = global_id(Employee, world.results.alice.id)
    employee = (await admin_client(query, {"id": alice})).ok()["node"]["authorizations"]
    assert target not in [a["id"] for a in employee]
    # And the deletion is audited
    audited = await db.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(
            col(AuditEvent.action) == "authorization.deleted",
            col(AuditEvent.object_ids).contains([str(authorizations.basic_active.id)]),
        )
    )
    assert audited == 1
    # And deleting it again answers like an unknown id
    again = (await admin_client(DELETE, {"id": target})).ok()["deleteAuthorization"]
    assert again["userErrors"] == [{"field": "id", "code": "NOT_FOUND"}]


async def test_another_tenants_authorization_cannot_be_deleted(
    admin_client: GraphQLClient, authorizations: Authorizations
) -> None:
    payload = (await admin_client(DELETE, {"id": gid(authorizations.globex_active.id)})).ok()
    assert payload["deleteAuthorization"]["userErrors"] == [{"field": "id", "code": "NOT_FOUND"}]


@pytest.mark.parametrize("actor", ["basic", "visits", "staff", "api_client", "provider_client"])
async def test_only_user_admins_delete(
    actor: str, clients: dict[str, GraphQLClient], authorizations: Authorizations
) -> None:
    response = await clients[actor](DELETE, {"id": gid(authorizations.basic_active.id)})
    assert_forbidden(response, ["deleteAuthorization"])


async def test_a_writer_api_client_cannot_delete(
    writer: Any, anonymous_client: GraphQLClient, authorizations: Authorizations
) -> None:
    _, client = writer
    target = {"id": gid(authorizations.basic_active.id)}
    assert_forbidden(await client(DELETE, target), ["deleteAuthorization"])
    assert_unauthenticated(await anonymous_client(DELETE, target))


RECORD = """
mutation ($input: RecordVisitInput!) {
  recordVisit(input: $input) { visit { authorization { number status } } userErrors { field code } }
}
"""


def visit_input(world: World, employee_id: Any, **changes: Any) -> dict[str, Any]:
    return {
        "employeeId": global_id(Employee, employee_id),
        "medicalCenterId": global_id(MedicalCenter, world.centers[0].id),
        "visitedAt": datetime.now(UTC).isoformat(),
        "visitType": "NON_INJURY",
        **changes,
    }


async def test_check_in_by_the_scanned_number_marks_it_used(
    staff_client: GraphQLClient,
    admin_client: GraphQLClient,
    authorizations: Authorizations,
    world: World,
) -> None:
    target = authorizations.basic_active
    given = visit_input(world, world.results.alice.id, authorizationNumber=target.number.lower())
    payload = (await staff_client(RECORD, {"input": given})).ok()["recordVisit"]
    assert payload["userErrors"] == []
    assert payload["visit"]["authorization"] == {"number": target.number, "status": "USED"}
    status = (await admin_client(NODE.replace("number", "status"), {"id": gid(target.id)})).ok()
    assert status["node"] == {"status": "USED"}


@pytest.mark.parametrize(
    ("number", "employee", "code"),
    [
        ("AUTH-NOPE0000", "alice", "NOT_FOUND"),
        ("T-AUTH-0101", "bob", "NOT_FOUND"),
        ("T-AUTH-0104", "bob", "BAD_USER_INPUT"),
        ("x" * 21, "alice", "BAD_USER_INPUT"),
    ],
    ids=["unknown", "other-employee", "cancelled", "too-long"],
)
async def test_check_in_by_number_errors(
    staff_client: GraphQLClient,
    authorizations: Authorizations,
    world: World,
    number: str,
    employee: str,
    code: str,
) -> None:
    employee_id = getattr(world.results, employee).id
    given = visit_input(world, employee_id, authorizationNumber=number)
    payload = (await staff_client(RECORD, {"input": given})).ok()["recordVisit"]
    assert payload["userErrors"] == [{"field": "authorizationNumber", "code": code}]


async def test_check_in_with_both_id_and_number_is_refused(
    staff_client: GraphQLClient, authorizations: Authorizations, world: World
) -> None:
    target = authorizations.basic_active
    given = visit_input(
        world,
        world.results.alice.id,
        authorizationNumber=target.number,
        authorizationId=gid(target.id),
    )
    payload = (await staff_client(RECORD, {"input": given})).ok()["recordVisit"]
    assert payload["userErrors"] == [{"field": "authorizationNumber", "code": "BAD_USER_INPUT"}]
