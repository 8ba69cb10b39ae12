"""The employee-name index (``employee_name_trigrams``) follows every insert, rename and delete,
and cuts names exactly as the search cuts query words."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import Employee
from portal.resolvers.names import name_trigrams, name_words
from tests.support.world import World


async def _pieces(db: AsyncSession, employee_id: uuid.UUID) -> set[str]:
    rows = await db.scalars(
        sa.text("SELECT trigram FROM employee_name_trigrams WHERE employee_id = :id"),
        {"id": employee_id},
    )
    return set(rows)


async def _versions(db: AsyncSession, employee_id: uuid.UUID) -> set[str]:
    """The row versions (xmin) of the employee's pieces: rewritten rows get new ones."""
    rows = await db.scalars(
        sa.text("SELECT xmin::text FROM employee_name_trigrams WHERE employee_id = :id"),
        {"id": employee_id},
    )
    return set(rows)


async def _new_employee(db: AsyncSession, world: World, first: str, last: str) -> Employee:
    location = world.acme_dallas
    employee = Employee(
        account_id=location.account_id,
        location_id=location.id,
        first_name=first,
        last_name=last,
        date_of_birth=date(1990, 2, 3),
        employee_number=f"T-{uuid.uuid4().hex[:8]}",
    )
    db.add(employee)
    await db.flush()
    return employee


@pytest.mark.parametrize(
    ("name", "pieces"),
    [
        ("mary ann o'brien", 8),
        ("josé núñez-ñ", 7),
        ("li wu", 0),
        ("anne-marie smith", 11),
        ("zoë ångström", 7),
    ],
)
async def test_python_cuts_query_words_exactly_as_the_database_cuts_names(
    db: AsyncSession, name: str, pieces: int
) -> None:
    # given a name (any alphabet: pieces are characters, not bytes)
    # when both sides cut it into three-character pieces
    in_sql = await db.scalar(sa.text("SELECT portal_name_trigrams(:name)"), {"name": name})
    in_python = name_trigrams(name_words(name))

    # then they agree, so a query word that appears in a name finds all its pieces stored
    assert in_python == sorted(in_sql)
    assert len(in_python) == pieces


async def test_an_inserted_employee_is_indexed_by_every_piece_of_its_name(
    db: AsyncSession, world: World
) -> None:
    # when an employee is created
    employee = await _new_employee(db, world, "Quincy", "Ovanessian")

    # then its name's pieces are stored for its account, and no piece spans the space
    assert await _pieces(db, employee.id) == set(name_trigrams(["quincy", "ovanessian"]))
    accounts = await db.scalars(
        sa.text("SELECT DISTINCT account_id FROM employee_name_trigrams WHERE employee_id = :id"),
        {"id": employee.id},
    )
    assert list(accounts) == [world.acme.id]


async def test_a_rename_replaces_the_pieces_and_other_changes_leave_them(
    db: AsyncSession, world: World
) -> None:
    # given an indexed employee
    employee = await _new_employee(db, world, "Quincy", "Ovanessian")
    before = await _versions(db, employee.id)

    # when only their contact details change
    await db.execute(
        sa.text("UPDATE employees SET email = 'q@mail.example' WHERE id = :id"),
        {"id": employee.id},
    )
    # then the pieces are not rewritten
    assert await _versions(db, employee.id) == before

    # when their last name changes
    await db.execute(
        sa.text("UPDATE employees SET last_name = 'Baxter' WHERE id = :id"), {"id": employee.id}
    )
    # then the pieces are the new name's only
    assert await _pieces(db, employee.id) == set(name_trigrams(["quincy", "baxter"]))


async def test_a_deleted_employee_leaves_no_piece_behind(db: AsyncSession, world: World) -> None:
    # given an indexed employee
    employee = await _new_employee(db, world, "Quincy", "Ovanessian")
    assert await _pieces(db, employee.id)

    # when the employee is deleted
    await db.execute(sa.text("DELETE FROM employees WHERE id = :id"), {"id": employee.id})

    # then nothing of their name stays in the index
    assert await _pieces(db, employee.id) == set()


async def test_the_world_employees_were_indexed_on_insert(db: AsyncSession, world: World) -> None:
    # given the employees the test world created through the ORM
    alice = world.results.alice

    # then they are in the index like any other
    assert await _pieces(db, alice.id) == set(name_trigrams(["alice", "smith"]))
