"""Documents with real stored PDFs for the download tests, and helpers to fetch a download."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from starlette.applications import Starlette

from portal.download_app import DownloadEndpoint
from portal.models import Document, Employee, ReportType, Visit
from portal.models.accounts import Location
from portal.models.enums import VisitStatus, VisitType
from portal.seed.pdfs import render_document_pdf
from portal.storage import DocumentStorage
from tests.support.world import World


@dataclass(frozen=True)
class StoredDocument:
    id: uuid.UUID
    account_id: uuid.UUID
    title: str
    page_count: int
    first_line: str


@dataclass(frozen=True)
class DownloadWorld:
    acme: list[StoredDocument]
    globex: StoredDocument
    contoso: StoredDocument


async def _store_document(
    db: AsyncSession,
    storage: DocumentStorage,
    *,
    location: Location,
    first_name: str,
    last_name: str,
    report_type_code: str,
    posted_at: datetime,
    pages: int,
    center_id: uuid.UUID,
) -> StoredDocument:
    report_type = (
        await db.execute(sa.select(ReportType).where(col(ReportType.code) == report_type_code))
    ).scalar_one()
    employee = Employee(
        account_id=location.account_id,
        location_id=location.id,
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date(1980, 1, 2),
        employee_number="E-" + uuid.uuid4().hex[:8],
    )
    db.add(employee)
    await db.flush()
    visit = Visit(
        account_id=location.account_id,
        employee_id=employee.id,
        location_id=location.id,
        medical_center_id=center_id,
        visited_at=posted_at - timedelta(days=1),
        visit_type=VisitType.NON_INJURY,
        status=VisitStatus.COMPLETE,
        checked_out_at=posted_at - timedelta(hours=20),
    )
    db.add(visit)
    await db.flush()
    # Each page starts with a marker line, so the merged order can be read back from the text.
    marker = f"doc-{uuid.uuid4().hex[:10]}"
    pdf = render_document_pdf(
        title=f"{report_type.name} for {first_name} {last_name}",
        employee_name=f"{first_name} {last_name}",
        date_of_birth=employee.date_of_birth,
        visit_date=visit.visited_at.date(),
        center_name="Dallas Occupational Health",
        report_type_name=report_type.name,
        pages=pages,
        lines=[f"{marker} page {n}" for n in range(1, pages + 1)],
    )
    key = await storage.put(pdf)
    document = Document(
        account_id=location.account_id,
        visit_id=visit.id,
        employee_id=employee.id,
        location_id=location.id,
        report_type_id=report_type.id,
        name=f"{report_type.name} {last_name}",
        posted_at=posted_at,
        page_count=pages,
        size_bytes=len(pdf),
        sha256=key,
        storage_key=key,
    )
    db.add(document)
    await db.flush()
    return StoredDocument(
        id=document.id,
        account_id=location.account_id,
        # Bookmarks carry the service date (the visit's), as document names do.
        title=f"{last_name}, {first_name} - {report_type.name} - {visit.visited_at.date()}",
        page_count=pages,
        first_line=marker,
    )


@pytest.fixture
def storage(app: Starlette) -> DocumentStorage:
    stored: DocumentStorage = app.state.storage
    return stored


@pytest.fixture
async def download_world(db: AsyncSession, storage: DocumentStorage, world: World) -> DownloadWorld:
    center = world.centers[0].id
    acme = [
        await _store_document(
            db,
            storage,
            location=world.acme_dallas,
            first_name="Maria",
            last_name="Garcia",
            report_type_code="AUDIOGRAM_RESULTS",
            posted_at=datetime(2026, 11, 2, 15, 30, tzinfo=UTC),
            pages=2,
            center_id=center,
        ),
        await _store_document(
            db,
            storage,
            location=world.acme_phoenix,
            first_name="John",
            last_name="Smith",
            report_type_code="FIT_TEST_RESULTS",
            posted_at=datetime(2026, 11, 5, 9, 0, tzinfo=UTC),
            pages=1,
            center_id=center,
        ),
        await _store_document(
            db,
            storage,
            location=world.acme_dallas,
            first_name="Lee",
            last_name="Chen",
            report_type_code="MEC_DOT_CARD",
            posted_at=datetime(2026, 11, 9, 23, 10, tzinfo=UTC),
            pages=3,
            center_id=center,
        ),
    ]
    globex = await _store_document(
        db,
        storage,
        location=world.globex_chicago,
        first_name="Ann",
        last_name="Globex",
        report_type_code="RESPIRATOR_CLEARANCE",
        posted_at=datetime(2026, 11, 3, 12, 0, tzinfo=UTC),
        pages=1,
        center_id=center,
    )
    contoso = await _store_document(
        db,
        storage,
        location=world.contoso_denver,
        first_name="Cody",
        last_name="Contoso",
        report_type_code="TEST_AND_LAB_RESULTS",
        posted_at=datetime(2026, 11, 4, 12, 0, tzinfo=UTC),
        pages=2,
        center_id=center,
    )
    await db.commit()
    return DownloadWorld(acme=acme, globex=globex, contoso=contoso)


@pytest.fixture(autouse=True)
def download_endpoint(
    app: Starlette, sessionmaker: async_sessionmaker[AsyncSession]
) -> Iterator[DownloadEndpoint]:
    """The download route inside the test's transaction (as `http` does for /graphql)."""
    endpoint: DownloadEndpoint = app.state.downloads
    saved = endpoint.sessionmaker
    endpoint.sessionmaker = sessionmaker
    yield endpoint
    endpoint.sessionmaker = saved
