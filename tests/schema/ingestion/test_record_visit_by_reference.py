"""``recordVisit`` names the employee the way a provider system knows them: the employer's
account number with the employee number, or with name and date of birth."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import Employee as EmployeeRow
from portal.models import Visit as VisitRow
from portal.schema.catalog import MedicalCenter
from portal.schema.employees import Employee
from portal.schema.relay import global_id
from tests.support.graphql import GraphQLClient
from tests.support.world import World

RECORD = """
mutation ($input: RecordVisitInput!) {
  recordVisit(input: $input) {
    visit { id employee { id } }
    employeeId
    userErrors { field code message }
  }
}
"""


def _input(world: World, **employee: Any) -> dict[str, Any]:
    return {
        "employee": {"accountNumber": world.acme.account_number, **employee},
        "medicalCenterId": global_id(MedicalCenter, world.centers[0].id),
        "visitedAt": datetime.now(UTC).isoformat(),
        "visitType": "NON_INJURY",
    }


async def _visits(db: AsyncSession) -> int:
    return int(await db.scalar(sa.select(sa.func.count()).select_from(VisitRow)) or 0)


async def test_a_provider_system_names_the_employee_by_employee_number(
    provider_client: GraphQLClient, world: World, db: AsyncSession
) -> None:
    alice = world.results.alice
    # When the lab system records a visit for Acme's employee E-1001
    payload = (
        await provider_client(
            RECORD, {"input": _input(world, employeeNumber=alice.employee_number)}
        )
    ).ok()["recordVisit"]
    # Then the visit is Alice's, and only her id comes back
    assert payload["userErrors"] == []
    assert payload["employeeId"] == global_id(Employee, alice.id)
    assert payload["visit"]["employee"] is None
    row = await db.scalar(sa.select(VisitRow).order_by(col(VisitRow.created_at).desc()).limit(1))
    assert row is not None
    assert row.employee_id == alice.id


async def test_the_employee_is_found_by_name_and_date_of_birth_in_any_case(
    staff_client: GraphQLClient, world: World
) -> None:
    alice = world.results.alice
    reference = {
        "firstName": alice.first_name.upper(),
        "lastName": f"  {alice.last_name.lower()} ",
        "dateOfBirth": alice.date_of_birth.isoformat(),
    }
    payload = (await staff_client(RECORD, {"input": _input(world, **reference)})).ok()[
        "recordVisit"
    ]
    assert payload["userErrors"] == []
    assert payload["visit"]["employee"] == {"id": global_id(Employee, alice.id)}


async def test_a_provider_system_reads_nothing_more_of_the_employee(
    provider_client: GraphQLClient, world: World
) -> None:
    alice = world.results.alice
    # When the lab system asks for the employee's name and birth date with the visit
    response = await provider_client(
        "mutation ($input: RecordVisitInput!) { recordVisit(input: $input) { employeeId "
        "visit { id employee { id firstName lastName dateOfBirth } } userErrors { code } } }",
        {"input": _input(world, employeeNumber=alice.employee_number)},
    )
    # Then the visit is recorded, but of the employee only the id comes back
    payload = response.ok()["recordVisit"]
    assert payload["visit"]["id"]
    assert payload["visit"]["employee"] is None
    assert payload["employeeId"] == global_id(Employee, alice.id)
    assert alice.first_name not in str(response.body)


@pytest.mark.parametrize(
    ("employee", "field", "code"),
    [
        ({"employeeNumber": "E-NOPE"}, "employee", "EMPLOYEE_NOT_FOUND"),
        (
            {"firstName": "Alice", "lastName": "Smith", "dateOfBirth": "1990-01-01"},
            "employee",
            "EMPLOYEE_NOT_FOUND",
        ),
        ({}, "employee", "BAD_USER_INPUT"),
        ({"firstName": "Alice", "lastName": "Smith"}, "employee", "BAD_USER_INPUT"),
        ({"employeeNumber": "x" * 101}, "employee.employeeNumber", "BAD_USER_INPUT"),
    ],
)
async def test_an_unknown_or_incomplete_reference_is_a_user_error(
    provider_client: GraphQLClient,
    world: World,
    db: AsyncSession,
    employee: dict[str, Any],
    field: str,
    code: str,
) -> None:
    before = await _visits(db)
    payload = (await provider_client(RECORD, {"input": _input(world, **employee)})).ok()[
        "recordVisit"
    ]
    assert payload["visit"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, code)]
    assert await _visits(db) == before


async def test_another_accounts_number_finds_none_of_its_neighbours_employees(
    provider_client: GraphQLClient, world: World, db: AsyncSession
) -> None:
    # Alice's employee number given with Globex's account number
    alice = world.results.alice
    given = _input(world, employeeNumber=alice.employee_number)
    given["employee"]["accountNumber"] = world.globex.account_number
    payload = (await provider_client(RECORD, {"input": given})).ok()["recordVisit"]
    assert [e["code"] for e in payload["userErrors"]] == ["EMPLOYEE_NOT_FOUND"]


async def test_two_employees_of_the_same_name_and_birth_date_are_ambiguous(
    provider_client: GraphQLClient, world: World, db: AsyncSession
) -> None:
    # Given a second Acme employee with Alice's name and date of birth
    alice = world.results.alice
    db.add(
        EmployeeRow(
            account_id=alice.account_id,
            location_id=alice.location_id,
            first_name=alice.first_name,
            last_name=alice.last_name,
            date_of_birth=alice.date_of_birth,
            employee_number="E-TWIN",
        )
    )
    await db.commit()
    before = await _visits(db)
    reference = {
        "firstName": alice.first_name,
        "lastName": alice.last_name,
        "dateOfBirth": alice.date_of_birth.isoformat(),
    }
    # When a provider system names her by name and date of birth
    payload = (await provider_client(RECORD, {"input": _input(world, **reference)})).ok()[
        "recordVisit"
    ]
    # Then it must say which one: nothing is recorded
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        ("employee", "EMPLOYEE_AMBIGUOUS")
    ]
    assert await _visits(db) == before


@pytest.mark.parametrize("both", [True, False])
async def test_exactly_one_way_of_naming_the_employee(
    staff_client: GraphQLClient, world: World, both: bool
) -> None:
    given = _input(world, employeeNumber=world.results.alice.employee_number)
    if both:
        given["employeeId"] = global_id(Employee, world.results.alice.id)
    else:
        del given["employee"]
    payload = (await staff_client(RECORD, {"input": given})).ok()["recordVisit"]
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        ("employeeId", "BAD_USER_INPUT")
    ]
