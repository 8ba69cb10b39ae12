"""createAuthorization over HTTP: success for each kind of caller, a new employee inline,
every user error with its field path (nothing written), the outbox rows, and idempotency."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import Authorization, IdempotencyKey, OutboxMessage
from portal.models.enums import OutboxChannel
from portal.schema.accounts import Location
from portal.schema.catalog import Service as ServiceNode
from portal.schema.relay import global_id
from tests.schema.authorizations.conftest import (
    CREATE,
    base_input,
    center_gid,
    counts,
    employee_gid,
    service_gid,
)
from tests.support.graphql import GraphQLClient, assert_forbidden, assert_unauthenticated
from tests.support.world import World


async def create(client: GraphQLClient, given: dict[str, Any]) -> dict[str, Any]:
    data = (await client(CREATE, {"input": given})).ok()
    payload: dict[str, Any] = data["createAuthorization"]
    return payload


async def outbox_of(db: AsyncSession, authorization_gid: str, raw_id: str) -> list[OutboxMessage]:
    rows = await db.scalars(sa.select(OutboxMessage).order_by(col(OutboxMessage.created_at)))
    return [
        row
        for row in rows
        if authorization_gid in orjson.dumps(row.payload).decode()
        or raw_id in orjson.dumps(row.payload).decode()
    ]


async def test_a_user_admin_authorizes_an_employee_and_it_is_sent(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # When an admin authorizes a drug screen for Alice at the Dallas center
    payload = await create(admin_client, base_input(world))
    # Then it exists, ACTIVE, with its number, services, center and 30 days of validity
    assert payload["userErrors"] == []
    made = payload["authorization"]
    assert re.fullmatch(r"AUTH-[A-Z2-9]{8}", made["number"])
    assert made["status"] == "ACTIVE"
    assert made["services"] == [{"code": "DRUG_SCREEN"}]
    assert made["medicalCenter"]["name"] == world.centers[0].name
    today = datetime.now(UTC).date()
    assert made["validFrom"] == today.isoformat()
    assert made["validUntil"] == (today + timedelta(days=30)).isoformat()
    assert made["createdBy"]["kind"] == "USER"
    # And it went to Alice by email and to the center electronically, each kept in the history
    assert made["sentAt"] is not None
    assert made["recipients"] == [
        {"kind": "EMPLOYEE", "email": world.results.alice.email, "sentAt": made["sentAt"]}
    ]
    history = [(h["kind"], h["recipientEmail"]) for h in made["history"]]
    assert ("CREATED", None) in history
    assert ("SENT", None) in history
    assert ("SENT", world.results.alice.email) in history
    # And the outbox holds the center's events (global ids only) and Alice's email
    row_id = str(
        await db.scalar(
            sa.select(col(Authorization.id)).where(col(Authorization.number) == made["number"])
        )
    )
    messages = await outbox_of(db, made["id"], row_id)
    webhooks = sorted(m.topic for m in messages if m.channel is OutboxChannel.WEBHOOK)
    assert webhooks == ["authorization.created", "authorization.sent"]
    sent = next(m for m in messages if m.topic == "authorization.sent")
    assert sent.payload["data"] == {
        "authorizationId": made["id"],
        "medicalCenterId": center_gid(world.centers[0].id),
    }
    [email] = [m for m in messages if m.channel is OutboxChannel.EMAIL]
    assert email.payload["to"] == world.results.alice.email
    assert email.payload["attachments"] == [{"kind": "authorization_pdf", "id": row_id}]
    # And no PHI sits in any of them
    dumped = orjson.dumps([m.payload for m in messages]).decode()
    for phi in ("Alice", "Smith", "1985", "E-1001", "side entrance", made["number"]):
        assert phi not in dumped


async def test_send_false_keeps_it_unsent(admin_client: GraphQLClient, world: World) -> None:
    made = (await create(admin_client, base_input(world, send=False)))["authorization"]
    assert made["sentAt"] is None
    assert [h["kind"] for h in made["history"]] == ["CREATED"]


async def test_a_new_employee_is_created_with_the_authorization(
    basic_client: GraphQLClient, world: World
) -> None:
    # When a Basic user authorizes a new hire given inline, by telemedicine
    given = base_input(
        world,
        employeeId=None,
        medicalCenterId=None,
        modality="TELEMEDICINE",
        newEmployee={
            "firstName": "Nina",
            "lastName": "New",
            "dateOfBirth": "1999-02-03",
            "locationId": global_id(Location, world.acme_dallas.id),
            "employeeNumber": "E-9001",
            "email": "nina.new@mail.example",
        },
    )
    payload = await create(basic_client, given)
    # Then the employee exists and the Basic user (its creator) sees the authorization
    assert payload["userErrors"] == []
    made = payload["authorization"]
    assert made["employee"]["firstName"] == "Nina"
    assert made["medicalCenter"] is None
    assert made["recipients"][0]["email"] == "nina.new@mail.example"
    query = "query ($id: ID!) { node(id: $id) { ... on Employee { employeeNumber } } }"
    found = (await basic_client(query, {"id": made["employee"]["id"]})).ok()
    assert found["node"] == {"employeeNumber": "E-9001"}


NEW = {
    "firstName": "Alice",
    "lastName": "SMITH",
    "dateOfBirth": "1985-04-12",
    "employeeNumber": "E-7777",
    "phone": "555-0100",
}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"employeeNumber": "E-1001", "firstName": "Other"}, "newEmployee.employeeNumber"),
        ({}, "newEmployee.dateOfBirth"),
    ],
    ids=["same-number", "same-name-and-birth"],
)
async def test_a_likely_duplicate_employee_names_the_existing_one(
    admin_client: GraphQLClient,
    db: AsyncSession,
    world: World,
    changes: dict[str, str],
    field: str,
) -> None:
    before = await counts(db)
    given = base_input(
        world,
        employeeId=None,
        newEmployee={**NEW, "locationId": global_id(Location, world.acme_dallas.id), **changes},
    )
    payload = await create(admin_client, given)
    assert payload["authorization"] is None
    [error] = payload["userErrors"]
    assert (error["field"], error["code"]) == (field, "DUPLICATE_EMPLOYEE")
    assert employee_gid(world.results.alice.id) in error["message"]
    assert await counts(db) == before


TODAY = datetime.now(UTC).date()


def resolve(value: Any, world: World) -> Any:
    """The case's value with its placeholders replaced by ids of the world."""
    if isinstance(value, list):
        return [resolve(item, world) for item in value]
    if value == "GINA":
        return employee_gid(world.results.gina.id)
    if value == "GLOBEX_LOCATION":
        return global_id(Location, world.globex_chicago.id)
    if value == "UNKNOWN_SERVICE":
        return global_id(ServiceNode, uuid.UUID(int=7))
    if value == "DRUG_SCREEN":
        return service_gid("DRUG_SCREEN")
    return value


@pytest.mark.parametrize(
    ("changes", "field", "code"),
    [
        ({"employeeId": None}, "employeeId", "BAD_USER_INPUT"),
        ({"employeeId": "not-an-id"}, "employeeId", "BAD_USER_INPUT"),
        ({"employeeId": "GINA"}, "employeeId", "NOT_FOUND"),
        ({"serviceIds": []}, "serviceIds", "BAD_USER_INPUT"),
        ({"serviceIds": ["UNKNOWN_SERVICE"]}, "serviceIds.0", "NOT_FOUND"),
        ({"medicalCenterId": None}, "medicalCenterId", "BAD_USER_INPUT"),
        ({"modality": "TELEREHAB"}, "medicalCenterId", "BAD_USER_INPUT"),
        ({"modality": "CENTER_TELEMEDICINE"}, "medicalCenterId", "BAD_USER_INPUT"),
        (
            {"validFrom": (TODAY + timedelta(days=5)).isoformat(), "validUntil": TODAY.isoformat()},
            "validUntil",
            "BAD_USER_INPUT",
        ),
        ({"validUntil": (TODAY + timedelta(days=400)).isoformat()}, "validUntil", "BAD_USER_INPUT"),
        ({"validFrom": (TODAY - timedelta(days=10)).isoformat()}, "validFrom", "BAD_USER_INPUT"),
        ({"specialInstructions": "x" * 2001}, "specialInstructions", "BAD_USER_INPUT"),
        (
            {"recipients": [{"email": "friend@gmail.example"}]},
            "recipients.0.email",
            "RECIPIENT_NOT_ALLOWED",
        ),
        ({"recipients": [{"email": "not an address"}]}, "recipients.0.email", "BAD_USER_INPUT"),
        (
            {"recipients": [{"email": f"p{n}@acme.example"} for n in range(21)]},
            "recipients",
            "BAD_USER_INPUT",
        ),
        ({"locationId": "GLOBEX_LOCATION"}, "locationId", "NOT_FOUND"),
        ({"serviceIds": ["DRUG_SCREEN"] * 51}, "serviceIds", "BAD_USER_INPUT"),
    ],
    ids=[
        "no-employee",
        "malformed-id",
        "other-tenants-employee",
        "no-service",
        "unknown-service",
        "center-missing",
        "center-for-telerehab",
        "center-not-telemedicine",
        "end-before-start",
        "too-long",
        "starts-in-the-past",
        "instructions-too-long",
        "recipient-outside",
        "recipient-malformed",
        "too-many-recipients",
        "other-tenants-location",
        "too-many-services",
    ],
)
async def test_each_bad_input_is_a_user_error_and_writes_nothing(
    admin_client: GraphQLClient,
    db: AsyncSession,
    world: World,
    changes: dict[str, Any],
    field: str,
    code: str,
) -> None:
    # Given the input of the case (placeholders stand for the world's ids)
    given = base_input(world)
    for key, value in changes.items():
        given[key] = resolve(value, world)
    given = {key: value for key, value in given.items() if value is not None}
    if changes.get("modality") == "CENTER_TELEMEDICINE":
        given["medicalCenterId"] = center_gid(world.centers[0].id)  # not telemedicine-capable
    before = await counts(db)
    # When the admin asks with this input
    payload = await create(admin_client, given)
    # Then one user error names the field, and nothing was written
    assert payload["authorization"] is None
    assert (field, code) in [(e["field"], e["code"]) for e in payload["userErrors"]], payload
    assert await counts(db) == before


async def test_a_new_employee_needs_an_email_or_phone(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    before = await counts(db)
    new = {k: v for k, v in NEW.items() if k != "phone"} | {
        "employeeNumber": "E-5555",
        "firstName": "Zed",
        "locationId": global_id(Location, world.acme_dallas.id),
    }
    payload = await create(admin_client, base_input(world, employeeId=None, newEmployee=new))
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        ("newEmployee.email", "BAD_USER_INPUT")
    ]
    assert await counts(db) == before


async def test_recipients_may_be_contacts_and_addresses_at_the_accounts_domain(
    admin_client: GraphQLClient, world: World
) -> None:
    given = base_input(
        world,
        recipients=[
            {"email": "Basic@Acme.example", "name": "Basic"},
            {"email": "safety.office@acme.example"},
        ],
        emailEmployee=False,
    )
    made = (await create(admin_client, given))["authorization"]
    assert sorted(r["email"] for r in made["recipients"]) == [
        "basic@acme.example",
        "safety.office@acme.example",
    ]


async def test_an_api_client_with_the_write_scope_creates(writer: Any, world: World) -> None:
    _, client = writer
    made = (await create(client, base_input(world)))["authorization"]
    assert made["createdBy"] == {"kind": "API_CLIENT", "name": "Acme onboarding system"}


@pytest.mark.parametrize("actor", ["staff", "api_client", "provider_client"])
async def test_who_may_not_create(
    actor: str, clients: dict[str, GraphQLClient], world: World, db: AsyncSession
) -> None:
    before = await counts(db)
    response = await clients[actor](CREATE, {"input": base_input(world)})
    assert_forbidden(response, ["createAuthorization"])
    assert await counts(db) == before


async def test_a_read_only_api_client_and_anonymous_may_not_create(
    reader: Any, anonymous_client: GraphQLClient, world: World
) -> None:
    _, client = reader
    assert_forbidden(await client(CREATE, {"input": base_input(world)}), ["createAuthorization"])
    assert_unauthenticated(await anonymous_client(CREATE, {"input": base_input(world)}))


async def test_an_idempotent_retry_answers_the_first_result_and_writes_nothing(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # Given a first call with a key
    given = base_input(world, idempotencyKey="onboard-alice-1")
    first = (await create(admin_client, given))["authorization"]
    after_first = await counts(db)
    # When the same call is retried
    again = await create(admin_client, given)
    # Then it answers the same authorization and writes nothing more
    assert again["userErrors"] == []
    assert again["authorization"]["id"] == first["id"]
    assert again["authorization"]["number"] == first["number"]
    assert await counts(db) == after_first
    # And the same key with another input is refused
    other = await create(
        admin_client, base_input(world, idempotencyKey="onboard-alice-1", send=False)
    )
    assert other["authorization"] is None
    assert [(e["field"], e["code"]) for e in other["userErrors"]] == [
        ("idempotencyKey", "IDEMPOTENCY_KEY_REUSED")
    ]
    assert await counts(db) == after_first


async def test_a_refused_call_does_not_keep_its_key(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    bad = await create(admin_client, base_input(world, serviceIds=[], idempotencyKey="k-fix"))
    assert bad["userErrors"]
    keys = await db.scalar(
        sa.select(sa.func.count())
        .select_from(IdempotencyKey)
        .where(col(IdempotencyKey.key) == "k-fix")
    )
    assert keys == 0
    fixed = await create(admin_client, base_input(world, idempotencyKey="k-fix"))
    assert fixed["userErrors"] == []


async def test_a_third_party_administrator_authorizes_a_clients_employee(
    tpa_client: GraphQLClient, world: World
) -> None:
    # When Northwind's admin authorizes telemedicine for Carl, an employee of its client Contoso
    given = base_input(
        world,
        employeeId=employee_gid(world.results.carl.id),
        modality="TELEMEDICINE",
        medicalCenterId=None,
    )
    payload = await create(tpa_client, given)
    # Then it is made in Contoso's account, emailed to Carl, and Northwind sees it
    assert payload["userErrors"] == []
    assert payload["authorization"]["employee"]["firstName"] == "Carl"
    listed = (await tpa_client("{ authorizations { nodes { id } } }")).ok()
    assert payload["authorization"]["id"] in [n["id"] for n in listed["authorizations"]["nodes"]]
