"""``portal import-documents`` and ``portal archive``, run as a user would (Typer's runner)
against the test database.

The commands commit for real, so each test works in an account of its own that is deleted (with
everything in it, by cascade) afterwards, and stores bytes in a data folder of its own."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col
from typer.testing import CliRunner

from portal.cli import cli
from portal.ids import global_id
from portal.models import Account, Document, Employee, Location, Visit
from portal.models.db import AccountScope, create_engine, set_scope
from portal.models.enums import StorageClass, VisitStatus, VisitType
from portal.settings import Settings
from portal.storage import LocalDocumentStorage, storage_key_for
from tests.schema.ingestion.conftest import make_pdf, text_named_pdf
from tests.support.world import SUBSCRIBED_REPORT_TYPE, World

T = TypeVar("T")


@dataclass(frozen=True)
class Tenant:
    account_number: str
    account_id: uuid.UUID
    visit_id: uuid.UUID


@pytest.fixture
async def tenant(engine: AsyncEngine, world: World) -> AsyncIterator[Tenant]:
    """A committed account with one employee and one visit, deleted after the test."""
    number = f"T-CLI-{uuid.uuid4().hex[:8]}"
    async with AsyncSession(engine, expire_on_commit=False) as session:
        set_scope(session, AccountScope.everything())
        account = Account(name="Importer Test Co", account_number=number)
        session.add(account)
        await session.flush()
        location = Location(
            account_id=account.id,
            name="Main",
            street="1 Test St",
            city="Austin",
            state="TX",
            postal_code="73301",
        )
        session.add(location)
        await session.flush()
        employee = Employee(
            account_id=account.id,
            location_id=location.id,
            first_name="Ivy",
            last_name="Import",
            date_of_birth=date(1990, 2, 3),
            employee_number="I-1",
        )
        session.add(employee)
        await session.flush()
        visit = Visit(
            account_id=account.id,
            employee_id=employee.id,
            location_id=location.id,
            medical_center_id=world.centers[0].id,
            visited_at=datetime.now(UTC) - timedelta(days=300),
            visit_type=VisitType.NON_INJURY,
            status=VisitStatus.COMPLETE,
            checked_out_at=datetime.now(UTC) - timedelta(days=300),
        )
        session.add(visit)
        await session.commit()
    yield Tenant(number, account.id, visit.id)
    async with AsyncSession(engine) as session:
        set_scope(session, AccountScope.everything())
        await session.execute(sa.delete(Account).where(col(Account.id) == account.id))
        await session.commit()


@pytest.fixture
def cli_settings(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The test database, and a data folder of this test's own (its own document storage)."""
    assert settings.database_url
    monkeypatch.setenv("PORTAL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(tmp_path / "data"))
    return Settings(
        environment="test", database_url=settings.database_url, data_dir=tmp_path / "data"
    )


def _query(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` on a fresh connection (these tests are synchronous: the CLI runs its loop)."""

    async def run() -> T:
        assert settings.database_url
        engine = create_engine(settings.database_url, pool_size=1, max_overflow=0)
        try:
            async with AsyncSession(engine) as session:
                set_scope(session, AccountScope.everything())
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _documents(settings: Settings, tenant: Tenant) -> list[Document]:
    async def work(session: AsyncSession) -> list[Document]:
        rows = await session.scalars(
            sa.select(Document)
            .where(col(Document.account_id) == tenant.account_id)
            .order_by(col(Document.name))
        )
        return list(rows)

    return _query(settings, work)


def _write_manifest(folder: Path, lines: list[str]) -> Path:
    manifest = folder / "manifest.csv"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def test_import_posts_every_row_and_a_rerun_skips_them(
    cli_settings: Settings, tenant: Tenant, tmp_path: Path
) -> None:
    # Given a folder with two PDFs and a manifest naming them for the tenant's visit
    folder = tmp_path / "incoming"
    folder.mkdir()
    first, second = make_pdf(2), make_pdf(3)
    (folder / "a.pdf").write_bytes(first)
    (folder / "sub").mkdir()
    (folder / "sub" / "b.pdf").write_bytes(second)
    manifest = _write_manifest(
        tmp_path,
        [
            "file,visit_id,report_type,name,posted_at",
            # The visit's id as the API shows it, and (accepted too) the raw UUID.
            f"a.pdf,{global_id('Visit', tenant.visit_id)},{SUBSCRIBED_REPORT_TYPE},Alpha result,",
            f"sub/b.pdf,{tenant.visit_id},MEC_DOT_CARD,Beta card,2026-01-15T09:00:00+00:00",
        ],
    )
    # When the import runs
    result = CliRunner().invoke(cli, ["import-documents", str(folder), "--manifest", str(manifest)])
    # Then both are posted with their facts, and their bytes stored
    assert result.exit_code == 0, result.output
    assert "posted 2 document(s), skipped 0" in result.output
    documents = _documents(cli_settings, tenant)
    assert [(d.name, d.page_count, d.size_bytes) for d in documents] == [
        ("Alpha result", 2, len(first)),
        ("Beta card", 3, len(second)),
    ]
    assert documents[1].posted_at == datetime(2026, 1, 15, 9, tzinfo=UTC)
    # And each posted document is listed by its global id
    for document in documents:
        assert f"posted {global_id('Document', document.id)}" in result.output
    storage = LocalDocumentStorage(root=cli_settings.resolved_data_dir / "documents")
    assert storage.path_for(storage_key_for(first)).read_bytes() == first
    # When it runs again
    again = CliRunner().invoke(cli, ["import-documents", str(folder), "--manifest", str(manifest)])
    # Then nothing new is posted
    assert again.exit_code == 0, again.output
    assert "posted 0 document(s), skipped 2" in again.output
    assert len(_documents(cli_settings, tenant)) == 2


def test_import_reports_every_bad_row_and_imports_nothing(
    cli_settings: Settings, tenant: Tenant, tmp_path: Path
) -> None:
    # Given a manifest with one good row and several bad ones
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "good.pdf").write_bytes(make_pdf(1))
    (folder / "notes.pdf").write_bytes(text_named_pdf())
    (tmp_path / "outside.pdf").write_bytes(make_pdf(1))
    manifest = _write_manifest(
        tmp_path,
        [
            "file,visit_id,report_type,name",
            f"good.pdf,{tenant.visit_id},{SUBSCRIBED_REPORT_TYPE},Good",
            f"missing.pdf,{tenant.visit_id},{SUBSCRIBED_REPORT_TYPE},Missing",
            f"good.pdf,not-a-uuid,{SUBSCRIBED_REPORT_TYPE},Bad visit id",
            f"good.pdf,{global_id('Visit', uuid.uuid4())},{SUBSCRIBED_REPORT_TYPE},Unknown visit",
            f"good.pdf,{tenant.visit_id},NO_SUCH_TYPE,Unknown type",
            f"notes.pdf,{tenant.visit_id},{SUBSCRIBED_REPORT_TYPE},Text file",
            f"../outside.pdf,{tenant.visit_id},{SUBSCRIBED_REPORT_TYPE},Escapes",
            f"good.pdf,{tenant.visit_id},{SUBSCRIBED_REPORT_TYPE},   ",
        ],
    )
    # When the import runs
    result = CliRunner().invoke(cli, ["import-documents", str(folder), "--manifest", str(manifest)])
    # Then it fails, names every bad line, and posts nothing (not even the good row)
    assert result.exit_code == 1
    output = result.output
    assert "line 2:" not in output
    assert "line 3: file 'missing.pdf' not found" in output
    assert "line 4: visit_id 'not-a-uuid' is not a visit's id" in output
    assert "line 5: no visit has id" in output
    assert "line 5: no visit has id VmlzaXQ6" in output  # a global id, as the API shows it
    assert "line 6: no report type has code 'NO_SUCH_TYPE'" in output
    assert "line 7: notes.pdf: NOT_A_PDF" in output
    assert "line 8: file '../outside.pdf' is outside the folder" in output
    assert "line 9: Give the document a name." in output
    assert _documents(cli_settings, tenant) == []


def test_import_refuses_a_manifest_without_the_required_columns(
    cli_settings: Settings, tenant: Tenant, tmp_path: Path
) -> None:
    # Given a manifest whose header lacks report_type
    manifest = _write_manifest(tmp_path, ["file,visit_id,name", f"a.pdf,{tenant.visit_id},A"])
    # When the import runs
    result = CliRunner().invoke(
        cli, ["import-documents", str(tmp_path), "--manifest", str(manifest)]
    )
    # Then it names the missing column
    assert result.exit_code == 1
    assert "line 1: missing column(s) report_type" in result.output


def test_archive_moves_archived_bytes_to_cold_storage_and_they_stay_readable(
    cli_settings: Settings, tenant: Tenant, tmp_path: Path
) -> None:
    # Given one document posted 200 days ago (archived: retention 90) and one posted today
    folder = tmp_path / "incoming"
    folder.mkdir()
    old, new = make_pdf(1), make_pdf(1)
    (folder / "old.pdf").write_bytes(old)
    (folder / "new.pdf").write_bytes(new)
    long_ago = (datetime.now(UTC) - timedelta(days=200)).isoformat()
    manifest = _write_manifest(
        tmp_path,
        [
            "file,visit_id,report_type,name,posted_at",
            f"old.pdf,{tenant.visit_id},{SUBSCRIBED_REPORT_TYPE},Old,{long_ago}",
            f"new.pdf,{tenant.visit_id},{SUBSCRIBED_REPORT_TYPE},New,",
        ],
    )
    imported = CliRunner().invoke(
        cli, ["import-documents", str(folder), "--manifest", str(manifest)]
    )
    assert imported.exit_code == 0, imported.output
    # When the archive command runs for the tenant's account
    result = CliRunner().invoke(cli, ["archive", "--account", tenant.account_number])
    # Then only the archived document's bytes moved to the cold class
    assert result.exit_code == 0, result.output
    assert "moved 1 archived document(s)" in result.output
    by_name = {d.name: d for d in _documents(cli_settings, tenant)}
    assert by_name["Old"].storage_class is StorageClass.COLD
    assert by_name["New"].storage_class is StorageClass.STANDARD
    data_dir = cli_settings.resolved_data_dir
    storage = LocalDocumentStorage(
        root=data_dir / "documents", cold_root=data_dir / "documents-cold"
    )
    old_key = storage_key_for(old)
    assert not storage.path_for(old_key).exists()
    cold_path = storage.cold_path_for(old_key)
    assert cold_path is not None
    assert cold_path.exists()
    # And the bytes are still readable (staff can still download archived documents)
    assert asyncio.run(storage.get(old_key)) == old
    assert asyncio.run(storage.storage_class(old_key)) is StorageClass.COLD
    # When it runs again, nothing is left to move
    again = CliRunner().invoke(cli, ["archive", "--account", tenant.account_number])
    assert again.exit_code == 0, again.output
    assert "moved 0 archived document(s)" in again.output
