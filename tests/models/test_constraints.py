"""The database refuses invalid states on its own, whatever the application does."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import Authorization, Document, Employee, Location, PortalLink, Visit
from portal.models.enums import AuthorizationState, Modality, VisitStatus, VisitType
from tests.support.world import World


async def _employee(
    db: AsyncSession, world: World, *, location: Location | None = None
) -> Employee:
    employee = Employee(
        account_id=world.acme.id,
        location_id=(location or world.acme_dallas).id,
        first_name="Maria",
        last_name="Garcia",
        date_of_birth=date(1985, 4, 2),
        employee_number=uuid.uuid4().hex[:8],
    )
    db.add(employee)
    await db.flush()
    return employee


async def _refused(db: AsyncSession, row: object) -> None:
    async with db.begin_nested():
        db.add(row)
        with pytest.raises(IntegrityError):
            await db.flush()


async def test_an_employee_cannot_sit_at_another_accounts_location(
    db: AsyncSession, world: World
) -> None:
    row = Employee(
        account_id=world.acme.id,
        location_id=world.globex_chicago.id,
        first_name="A",
        last_name="B",
        date_of_birth=date(1990, 1, 1),
        employee_number="X-1",
    )
    await _refused(db, row)


async def test_full_name_is_derived_for_search(db: AsyncSession, world: World) -> None:
    employee = await _employee(db, world)
    await db.refresh(employee)
    assert employee.full_name == "maria garcia"


async def test_a_center_authorization_needs_a_center(db: AsyncSession, world: World) -> None:
    employee = await _employee(db, world)
    row = Authorization(
        account_id=world.acme.id,
        number="AUTH-T1",
        employee_id=employee.id,
        location_id=world.acme_dallas.id,
        modality=Modality.IN_CENTER,
        valid_from=date(2026, 1, 1),
        valid_until=date(2026, 1, 31),
        created_by_user_id=world.acme_admin.id,
    )
    await _refused(db, row)


async def test_an_authorization_cannot_end_before_it_starts(db: AsyncSession, world: World) -> None:
    employee = await _employee(db, world)
    row = Authorization(
        account_id=world.acme.id,
        number="AUTH-T2",
        employee_id=employee.id,
        location_id=world.acme_dallas.id,
        modality=Modality.TELEMEDICINE,
        valid_from=date(2026, 2, 1),
        valid_until=date(2026, 1, 1),
        state=AuthorizationState.ACTIVE,
    )
    await _refused(db, row)


async def test_a_claim_number_belongs_to_injury_visits_only(db: AsyncSession, world: World) -> None:
    employee = await _employee(db, world)
    row = Visit(
        account_id=world.acme.id,
        employee_id=employee.id,
        location_id=world.acme_dallas.id,
        medical_center_id=world.centers[0].id,
        visited_at=datetime.now(UTC),
        visit_type=VisitType.NON_INJURY,
        claim_number="WC-1",
    )
    await _refused(db, row)


async def test_a_checked_out_visit_has_a_check_out_time(db: AsyncSession, world: World) -> None:
    employee = await _employee(db, world)
    row = Visit(
        account_id=world.acme.id,
        employee_id=employee.id,
        location_id=world.acme_dallas.id,
        medical_center_id=world.centers[0].id,
        visited_at=datetime.now(UTC),
        visit_type=VisitType.INJURY,
        status=VisitStatus.CHECKED_OUT,
    )
    await _refused(db, row)


async def test_a_document_must_match_its_visits_account(db: AsyncSession, world: World) -> None:
    employee = await _employee(db, world)
    visit = Visit(
        account_id=world.acme.id,
        employee_id=employee.id,
        location_id=world.acme_dallas.id,
        medical_center_id=world.centers[0].id,
        visited_at=datetime.now(UTC) - timedelta(days=1),
        visit_type=VisitType.INJURY,
    )
    db.add(visit)
    await db.flush()
    report_type_id = await db.scalar(sa.text("SELECT id FROM report_types LIMIT 1"))
    row = Document(
        account_id=world.globex.id,
        visit_id=visit.id,
        employee_id=employee.id,
        location_id=world.acme_dallas.id,
        report_type_id=report_type_id,
        name="Result",
        page_count=1,
        size_bytes=100,
        sha256="a" * 64,
        storage_key="a" * 64,
    )
    await _refused(db, row)


async def test_sign_on_links_must_be_https(db: AsyncSession) -> None:
    await _refused(db, PortalLink(label="Insecure", url="http://example.com"))


async def test_emails_are_unique_regardless_of_case(db: AsyncSession, world: World) -> None:
    with pytest.raises(IntegrityError):
        async with db.begin_nested():
            await db.execute(
                sa.text(
                    "INSERT INTO contacts (account_id, first_name, last_name, work_email) "
                    "VALUES (:a, 'X', 'Y', 'ADMIN@ACME.EXAMPLE')"
                ),
                {"a": world.acme.id},
            )
