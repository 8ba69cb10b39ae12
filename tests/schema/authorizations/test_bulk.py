"""createAuthorizationsFromTemplate: 500 employees in one call (set-based: the statements do not
grow with the rows), a dry run that writes nothing, all or nothing, per-row errors, idempotency."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import OutboxMessage
from portal.models.enums import OutboxChannel
from portal.schema.accounts import Location
from portal.schema.relay import global_id
from tests.conftest import StatementCounter
from tests.schema.authorizations.conftest import Authorizations, counts, employee_gid, gid
from tests.support.graphql import GraphQLClient, assert_forbidden
from tests.support.world import World

BULK = """
mutation ($input: CreateAuthorizationsFromTemplateInput!) {
  createAuthorizationsFromTemplate(input: $input) {
    authorizations { id number status employee { employeeNumber } template { number } }
    rows { index userErrors { field code } }
    userErrors { field code }
  }
}
"""


def new_hires(world: World, count: int, *, start: int = 0) -> list[dict[str, Any]]:
    dallas = global_id(Location, world.acme_dallas.id)
    return [
        {
            "newEmployee": {
                "firstName": f"Hire{n}",
                "lastName": "Bulk",
                "dateOfBirth": "1995-05-05",
                "locationId": dallas,
                "employeeNumber": f"B-{n:05d}",
                "email": f"hire{n}@mail.example",
            }
        }
        for n in range(start, start + count)
    ]


async def test_five_hundred_new_hires_in_one_call_with_a_fixed_number_of_statements(
    admin_client: GraphQLClient,
    authorizations: Authorizations,
    world: World,
    db: AsyncSession,
    count_queries: StatementCounter,
) -> None:
    template = gid(authorizations.basic_active.id)
    # Given the statements of a 2-row call
    count_queries.reset()
    small = (
        await admin_client(
            BULK, {"input": {"templateId": template, "employees": new_hires(world, 2, start=900)}}
        )
    ).ok()["createAuthorizationsFromTemplate"]
    assert small["userErrors"] == []
    two_rows = count_queries.count
    before = await counts(db)
    # When 500 new hires are authorized from the template in one call
    count_queries.reset()
    payload = (
        await admin_client(
            BULK, {"input": {"templateId": template, "employees": new_hires(world, 500)}}
        )
    ).ok()["createAuthorizationsFromTemplate"]
    five_hundred_rows = count_queries.count
    # Then 500 authorizations exist, each made from the template, in the order given
    assert payload["userErrors"] == []
    made = payload["authorizations"]
    assert len(made) == 500
    assert made[0]["employee"]["employeeNumber"] == "B-00000"
    assert made[499]["employee"]["employeeNumber"] == "B-00499"
    assert {m["template"]["number"] for m in made} == {"T-AUTH-0101"}
    assert {m["status"] for m in made} == {"ACTIVE"}
    # And 500 employees, and per authorization: 2 webhook events and 1 email in the outbox
    after = await counts(db)
    assert after[0] - before[0] == 500, (before, after)
    assert after[1] - before[1] == 500, (before, after)
    assert after[2] - before[2] == 1500
    emails = await db.scalar(
        sa.select(sa.func.count())
        .select_from(OutboxMessage)
        .where(col(OutboxMessage.channel) == OutboxChannel.EMAIL)
    )
    assert (emails or 0) >= 500
    # And the statements did not grow with the rows (set-based inserts and checks)
    assert five_hundred_rows == two_rows, count_queries.statements


async def test_a_dry_run_answers_per_row_errors_and_writes_nothing(
    admin_client: GraphQLClient, authorizations: Authorizations, world: World, db: AsyncSession
) -> None:
    rows = new_hires(world, 3)
    rows[1]["newEmployee"]["employeeNumber"] = "E-1001"  # Alice's number: a duplicate
    rows.append({"employeeId": employee_gid(world.results.gina.id)})  # another tenant's
    rows.append({"employeeId": employee_gid(world.results.bob.id)})
    before = await counts(db)
    payload = (
        await admin_client(
            BULK,
            {
                "input": {
                    "templateId": gid(authorizations.basic_active.id),
                    "employees": rows,
                    "dryRun": True,
                }
            },
        )
    ).ok()["createAuthorizationsFromTemplate"]
    assert payload["authorizations"] is None
    assert payload["rows"] == [
        {"index": 0, "userErrors": []},
        {
            "index": 1,
            "userErrors": [
                {"field": "employees.1.newEmployee.employeeNumber", "code": "DUPLICATE_EMPLOYEE"}
            ],
        },
        {"index": 2, "userErrors": []},
        {"index": 3, "userErrors": [{"field": "employees.3.employeeId", "code": "NOT_FOUND"}]},
        {"index": 4, "userErrors": []},
    ]
    assert await counts(db) == before
    # And a clean dry run answers no errors and still writes nothing
    clean = (
        await admin_client(
            BULK,
            {
                "input": {
                    "templateId": gid(authorizations.basic_active.id),
                    "employees": new_hires(world, 3),
                    "dryRun": True,
                }
            },
        )
    ).ok()["createAuthorizationsFromTemplate"]
    assert clean["userErrors"] == []
    assert [row["userErrors"] for row in clean["rows"]] == [[], [], []]
    assert await counts(db) == before


async def test_one_bad_row_writes_nothing(
    admin_client: GraphQLClient, authorizations: Authorizations, world: World, db: AsyncSession
) -> None:
    rows = new_hires(world, 4)
    rows[3]["newEmployee"]["employeeNumber"] = rows[0]["newEmployee"]["employeeNumber"]
    before = await counts(db)
    payload = (
        await admin_client(
            BULK, {"input": {"templateId": gid(authorizations.basic_active.id), "employees": rows}}
        )
    ).ok()["createAuthorizationsFromTemplate"]
    assert payload["authorizations"] is None
    assert payload["userErrors"] == [
        {"field": "employees.3.newEmployee.employeeNumber", "code": "DUPLICATE_EMPLOYEE"}
    ]
    assert await counts(db) == before


async def test_bulk_input_errors(
    admin_client: GraphQLClient, authorizations: Authorizations, world: World
) -> None:
    async def errors(given: dict[str, Any]) -> list[dict[str, str]]:
        data = (await admin_client(BULK, {"input": given})).ok()
        found: list[dict[str, str]] = data["createAuthorizationsFromTemplate"]["userErrors"]
        return found

    template = gid(authorizations.basic_active.id)
    assert await errors({"templateId": template, "employees": []}) == [
        {"field": "employees", "code": "BAD_USER_INPUT"}
    ]
    too_many = [{"employeeId": employee_gid(world.results.bob.id)}] * 501
    assert await errors({"templateId": template, "employees": too_many}) == [
        {"field": "employees", "code": "BAD_USER_INPUT"}
    ]
    other = gid(authorizations.globex_active.id)
    assert await errors({"templateId": other, "employees": new_hires(world, 1)}) == [
        {"field": "templateId", "code": "NOT_FOUND"}
    ]


async def test_a_bulk_retry_with_its_key_answers_the_same_authorizations(
    admin_client: GraphQLClient, authorizations: Authorizations, world: World, db: AsyncSession
) -> None:
    given = {
        "input": {
            "templateId": gid(authorizations.basic_active.id),
            "employees": new_hires(world, 3),
            "idempotencyKey": "onboarding-batch-7",
        }
    }
    first = (await admin_client(BULK, given)).ok()["createAuthorizationsFromTemplate"]
    middle = await counts(db)
    again = (await admin_client(BULK, given)).ok()["createAuthorizationsFromTemplate"]
    assert [a["id"] for a in again["authorizations"]] == [a["id"] for a in first["authorizations"]]
    assert await counts(db) == middle


async def test_staff_and_read_only_callers_cannot_bulk_create(
    staff_client: GraphQLClient, reader: Any, authorizations: Authorizations, world: World
) -> None:
    given = {
        "input": {
            "templateId": gid(authorizations.basic_active.id),
            "employees": new_hires(world, 1),
        }
    }
    _, client = reader
    assert_forbidden(await staff_client(BULK, given), ["createAuthorizationsFromTemplate"])
    assert_forbidden(await client(BULK, given), ["createAuthorizationsFromTemplate"])
