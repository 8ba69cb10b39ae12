"""``recordVisit`` and ``updateVisitStatus`` (staff): a visit takes its account and location from
the employee, uses up an ACTIVE authorization of the same employee, and moves one status at a
time."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import Authorization as AuthorizationRow
from portal.models import AuthorizationEvent, OutboxMessage
from portal.models import Visit as VisitRow
from portal.models.enums import AuthorizationEventKind, AuthorizationState, Modality
from portal.schema.authorizations import Authorization
from portal.schema.catalog import MedicalCenter
from portal.schema.employees import Employee
from portal.schema.relay import global_id
from portal.schema.visits import Visit
from tests.support.graphql import GraphQLClient
from tests.support.world import World

RECORD_VISIT = """
mutation Record($input: RecordVisitInput!) {
  recordVisit(input: $input) {
    visit { id visitType claimNumber status visitedAt checkedOutAt
            employee { id } location { id } authorization { id status } }
    userErrors { field code message }
  }
}
"""

UPDATE_STATUS = """
mutation Status($input: UpdateVisitStatusInput!) {
  updateVisitStatus(input: $input) {
    visit { id status checkedOutAt resultsExpectedAt }
    userErrors { field code message }
  }
}
"""


async def _authorization(
    db: AsyncSession,
    world: World,
    *,
    employee_id: uuid.UUID | None = None,
    state: AuthorizationState = AuthorizationState.ACTIVE,
    valid_until: date | None = None,
) -> AuthorizationRow:
    today = datetime.now(UTC).date()
    alice = world.results.alice
    row = AuthorizationRow(
        account_id=world.acme.id,
        number=f"T-{uuid.uuid4().hex[:10]}",
        employee_id=employee_id or alice.id,
        location_id=alice.location_id if employee_id is None else world.results.bob.location_id,
        modality=Modality.IN_CENTER,
        medical_center_id=world.centers[0].id,
        valid_from=today - timedelta(days=30),
        valid_until=valid_until or today + timedelta(days=10),
        state=state,
        cancelled_at=datetime.now(UTC) if state is AuthorizationState.CANCELLED else None,
    )
    db.add(row)
    await db.commit()
    return row


def _visit_input(world: World, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "employeeId": global_id(Employee, world.results.alice.id),
        "medicalCenterId": global_id(MedicalCenter, world.centers[0].id),
        "visitedAt": datetime.now(UTC).isoformat(),
        "visitType": "INJURY",
        "claimNumber": "CLM-7777",
    }
    values.update(overrides)
    return values


async def _visit_count(db: AsyncSession, world: World) -> int:
    count = await db.scalar(
        sa.select(sa.func.count())
        .select_from(VisitRow)
        .where(col(VisitRow.employee_id) == world.results.alice.id)
    )
    return int(count or 0)


async def test_record_visit_uses_up_the_authorization(
    staff_client: GraphQLClient, world: World, db: AsyncSession
) -> None:
    # Given an ACTIVE authorization of Alice
    authorization = await _authorization(db, world)
    # When staff record Alice's injury visit with it
    response = await staff_client(
        RECORD_VISIT,
        {"input": _visit_input(world, authorizationId=global_id(Authorization, authorization.id))},
    )
    payload = response.ok()["recordVisit"]
    # Then the visit is checked in, for Alice's location, with the claim number
    assert payload["userErrors"] == []
    visit = payload["visit"]
    assert visit["status"] == "CHECKED_IN"
    assert visit["claimNumber"] == "CLM-7777"
    assert visit["employee"]["id"] == global_id(Employee, world.results.alice.id)
    assert visit["authorization"]["status"] == "USED"
    # And the authorization is USED with a USED history row naming the visit
    await db.refresh(authorization)
    assert authorization.state is AuthorizationState.USED
    events = list(
        await db.scalars(
            sa.select(AuthorizationEvent).where(
                col(AuthorizationEvent.authorization_id) == authorization.id
            )
        )
    )
    assert [event.kind for event in events] == [AuthorizationEventKind.USED]
    row = await db.scalar(
        sa.select(VisitRow).where(col(VisitRow.authorization_id) == authorization.id)
    )
    assert row is not None
    assert row.account_id == world.acme.id
    assert events[0].note == f"visit {row.id}"


@pytest.mark.parametrize(
    ("case", "field", "code"),
    [
        ("used", "authorizationId", "BAD_USER_INPUT"),
        ("cancelled", "authorizationId", "BAD_USER_INPUT"),
        ("expired", "authorizationId", "BAD_USER_INPUT"),
        ("other_employee", "authorizationId", "NOT_FOUND"),
        ("claim_on_non_injury", "claimNumber", "BAD_USER_INPUT"),
        ("unknown_employee", "employeeId", "NOT_FOUND"),
        ("unknown_center", "medicalCenterId", "NOT_FOUND"),
    ],
)
async def test_record_visit_user_errors_write_nothing(
    staff_client: GraphQLClient, world: World, db: AsyncSession, case: str, field: str, code: str
) -> None:
    # Given an input that breaks one rule
    today = datetime.now(UTC).date()
    overrides: dict[str, Any] = {}
    authorization: AuthorizationRow | None = None
    if case == "used":
        authorization = await _authorization(db, world, state=AuthorizationState.USED)
    elif case == "cancelled":
        authorization = await _authorization(db, world, state=AuthorizationState.CANCELLED)
    elif case == "expired":
        authorization = await _authorization(db, world, valid_until=today - timedelta(days=1))
    elif case == "other_employee":
        authorization = await _authorization(db, world, employee_id=world.results.bob.id)
    elif case == "claim_on_non_injury":
        overrides["visitType"] = "NON_INJURY"
    elif case == "unknown_employee":
        overrides["employeeId"] = global_id(Employee, uuid.uuid4())
    elif case == "unknown_center":
        overrides["medicalCenterId"] = global_id(MedicalCenter, uuid.uuid4())
    if authorization is not None:
        overrides["authorizationId"] = global_id(Authorization, authorization.id)
    before = await _visit_count(db, world)
    # When staff record the visit
    response = await staff_client(RECORD_VISIT, {"input": _visit_input(world, **overrides)})
    # Then a user error names the field, no visit is written and the authorization is unchanged
    payload = response.ok()["recordVisit"]
    assert payload["visit"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, code)]
    assert await _visit_count(db, world) == before
    if authorization is not None:
        state = authorization.state
        await db.refresh(authorization)
        assert authorization.state is state


@pytest.mark.parametrize(
    "client_fixture", ["admin_client", "basic_client", "api_client", "anonymous_client"]
)
async def test_only_staff_record_visits(
    request: pytest.FixtureRequest,
    http: httpx.AsyncClient,
    world: World,
    db: AsyncSession,
    client_fixture: str,
) -> None:
    # Given a caller who is not staff (``http`` first, so client fixtures resolve by name)
    client: GraphQLClient = request.getfixturevalue(client_fixture)
    before = await _visit_count(db, world)
    # When they record a visit
    response = await client(RECORD_VISIT, {"input": _visit_input(world)})
    # Then it is refused and nothing is written
    expected = "UNAUTHENTICATED" if client_fixture == "anonymous_client" else "FORBIDDEN"
    assert expected in response.error_codes()
    assert await _visit_count(db, world) == before


async def test_a_visit_moves_through_its_statuses_in_order(
    staff_client: GraphQLClient, world: World, db: AsyncSession
) -> None:
    # Given a freshly recorded visit
    recorded = (await staff_client(RECORD_VISIT, {"input": _visit_input(world)})).ok()
    visit_id = recorded["recordVisit"]["visit"]["id"]
    checked_out_at = datetime.now(UTC) + timedelta(hours=1)
    # When staff check it out with a time, then move it on twice
    out = (
        await staff_client(
            UPDATE_STATUS,
            {
                "input": {
                    "id": visit_id,
                    "status": "CHECKED_OUT",
                    "checkedOutAt": checked_out_at.isoformat(),
                }
            },
        )
    ).ok()["updateVisitStatus"]
    pending = (
        await staff_client(UPDATE_STATUS, {"input": {"id": visit_id, "status": "RESULTS_PENDING"}})
    ).ok()["updateVisitStatus"]
    complete = (
        await staff_client(UPDATE_STATUS, {"input": {"id": visit_id, "status": "COMPLETE"}})
    ).ok()["updateVisitStatus"]
    # Then each step is recorded, the check-out time kept, results due at check-out (injury)
    assert out["userErrors"] == []
    assert datetime.fromisoformat(out["visit"]["checkedOutAt"]) == checked_out_at
    assert out["visit"]["resultsExpectedAt"] == out["visit"]["checkedOutAt"]
    assert pending["visit"]["status"] == "RESULTS_PENDING"
    assert complete["visit"]["status"] == "COMPLETE"
    # And webhook subscribers get one status event per step
    events = list(
        await db.scalars(
            sa.select(OutboxMessage)
            .where(col(OutboxMessage.topic) == "visit.status_changed")
            .order_by(col(OutboxMessage.created_at))
        )
    )
    assert [event.payload["data"]["to"] for event in events] == [
        "CHECKED_OUT",
        "RESULTS_PENDING",
        "COMPLETE",
    ]
    # naming the visit by the id the API uses
    assert {event.payload["data"]["visitId"] for event in events} == {visit_id}


@pytest.mark.parametrize(
    ("status", "extra", "field", "code"),
    [
        ("RESULTS_PENDING", {}, "status", "INVALID_TRANSITION"),
        ("COMPLETE", {}, "status", "INVALID_TRANSITION"),
        ("CHECKED_IN", {}, "status", "INVALID_TRANSITION"),
        ("CHECKED_OUT", {"checkedOutAt": "2000-01-01T00:00:00+00:00"}, "checkedOutAt", None),
    ],
)
async def test_invalid_status_changes_are_user_errors(
    staff_client: GraphQLClient,
    world: World,
    db: AsyncSession,
    status: str,
    extra: dict[str, str],
    field: str,
    code: str | None,
) -> None:
    # Given a checked-in visit
    recorded = (await staff_client(RECORD_VISIT, {"input": _visit_input(world)})).ok()
    visit_id = recorded["recordVisit"]["visit"]["id"]
    # When staff skip a step, go back, or check out before the visit began
    response = await staff_client(
        UPDATE_STATUS, {"input": {"id": visit_id, "status": status, **extra}}
    )
    # Then a user error explains, and the visit is still checked in
    payload = response.ok()["updateVisitStatus"]
    assert payload["visit"] is None
    assert [e["field"] for e in payload["userErrors"]] == [field]
    assert [e["code"] for e in payload["userErrors"]] == [code or "BAD_USER_INPUT"]
    row = await db.scalar(sa.select(VisitRow).where(col(VisitRow.claim_number) == "CLM-7777"))
    assert row is not None
    assert row.status.value == "CHECKED_IN"


@pytest.mark.parametrize("client_fixture", ["admin_client", "visits_client", "api_client"])
async def test_only_staff_change_visit_status(
    request: pytest.FixtureRequest,
    http: httpx.AsyncClient,
    world: World,
    db: AsyncSession,
    client_fixture: str,
) -> None:
    # Given a caller who is not staff
    client: GraphQLClient = request.getfixturevalue(client_fixture)
    visit_id = global_id(Visit, world.results.bob_injury.id)
    # When they check out Bob's visit
    response = await client(UPDATE_STATUS, {"input": {"id": visit_id, "status": "CHECKED_OUT"}})
    # Then it is forbidden and the visit is still checked in
    assert "FORBIDDEN" in response.error_codes()
    status = await db.scalar(
        sa.select(col(VisitRow.status)).where(col(VisitRow.id) == world.results.bob_injury.id)
    )
    assert status is not None
    assert status.value == "CHECKED_IN"
