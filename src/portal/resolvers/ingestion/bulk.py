"""Bulk ingestion from a folder and a CSV manifest, and archiving bytes to cold storage.

Import is two passes. The first checks every row (the file is inside the folder, within the size
limit and a readable PDF; the visit and report type exist; the name and time are well formed) and
reports every bad row with its line number; nothing is written unless all rows pass. The second
posts each document in its own transaction, so a crash half way keeps what was posted, and a
re-run skips the documents already posted (same SHA-256 for the same visit): re-running is how an
interrupted import resumes.
"""

from __future__ import annotations

import asyncio
import csv
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from portal.events import EventHub
from portal.ids import global_id, parse_global_id
from portal.models import Account, AuditEvent, Document, ReportType, Visit
from portal.models.db import AccountScope, set_scope
from portal.models.enums import ActorType, AuditResult, StorageClass
from portal.resolvers.documents.visibility import archived_condition
from portal.resolvers.errors import PortalError
from portal.resolvers.ingestion.documents import AlreadyPosted, clean_name, post_document
from portal.resolvers.ingestion.pdf import inspect_pdf, read_file_limited
from portal.storage import DocumentStorage, TieredDocumentStorage

REQUIRED_COLUMNS = ("file", "visit_id", "report_type", "name")
# Longest id accepted in a manifest (a global id of a visit is about 60 characters).
MAX_ID_LENGTH = 200
OPTIONAL_COLUMNS = ("posted_at",)
# Audit rows name at most this many documents each (object ids are a bounded array).
AUDIT_BATCH = 500


@dataclass(frozen=True, slots=True)
class ManifestRow:
    line: int
    path: Path
    visit_id: uuid.UUID
    report_type: str
    name: str
    posted_at: datetime | None


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ManifestInvalid(Exception):
    """The manifest has bad rows; nothing was imported."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        super().__init__(f"{len(problems)} bad row(s) in the manifest")
        self.problems = list(problems)


@dataclass
class ImportResult:
    posted: list[uuid.UUID] = field(default_factory=list)
    skipped: list[uuid.UUID] = field(default_factory=list)


def _parse_rows(folder: Path, manifest: Path) -> tuple[list[ManifestRow], list[RowProblem]]:
    rows: list[ManifestRow] = []
    problems: list[RowProblem] = []
    root = folder.resolve()
    with manifest.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        columns = [name.strip() for name in reader.fieldnames or []]
        missing = [name for name in REQUIRED_COLUMNS if name not in columns]
        unknown = [name for name in columns if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
        if missing or unknown:
            parts = []
            if missing:
                parts.append("missing column(s) " + ", ".join(missing))
            if unknown:
                parts.append("unknown column(s) " + ", ".join(unknown))
            return [], [RowProblem(1, "; ".join(parts))]
        for raw in reader:
            line = reader.line_num
            values = {(key or "").strip(): (value or "").strip() for key, value in raw.items()}
            errors: list[str] = []
            path = (root / values["file"]).resolve() if values["file"] else None
            if path is None:
                errors.append("no file named")
            elif not path.is_relative_to(root):
                errors.append(f"file {values['file']!r} is outside the folder")
            elif not path.is_file():
                errors.append(f"file {values['file']!r} not found")
            parsed_visit_id = visit_id_of(values["visit_id"])
            if parsed_visit_id is None:
                errors.append(
                    f"visit_id {values['visit_id']!r} is not a visit's id "
                    "(its global id as the API shows it, or a UUID)"
                )
            visit_id = parsed_visit_id or uuid.UUID(int=0)
            if not values["report_type"]:
                errors.append("no report type")
            try:
                name = clean_name(values["name"])
            except PortalError as error:
                errors.append(error.message)
                name = ""
            posted_at: datetime | None = None
            if values.get("posted_at"):
                try:
                    posted_at = datetime.fromisoformat(values["posted_at"])
                except ValueError:
                    errors.append(f"posted_at {values['posted_at']!r} is not an ISO 8601 time")
                else:
                    if posted_at.tzinfo is None:
                        errors.append("posted_at needs a time zone (e.g. 2026-01-31T09:00:00Z)")
            if errors:
                problems.extend(RowProblem(line, message) for message in errors)
            else:
                assert path is not None
                rows.append(
                    ManifestRow(line, path, visit_id, values["report_type"], name, posted_at)
                )
    if not rows and not problems:
        problems.append(RowProblem(1, "the manifest has no rows"))
    return rows, problems


def _check_file(row: ManifestRow, limit: int) -> RowProblem | None:
    try:
        inspect_pdf(read_file_limited(str(row.path), limit=limit), limit=limit)
    except PortalError as error:
        return RowProblem(row.line, f"{row.path.name}: {error.code.value}: {error.message}")
    return None


def visit_id_of(text: str) -> uuid.UUID | None:
    """A visit's row id from its global id (what the API shows) or a raw UUID."""
    if len(text) > MAX_ID_LENGTH:
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        pass
    try:
        return parse_global_id(text, expected_type="Visit")[1]
    except ValueError:
        return None


async def validate_manifest(
    *,
    session: AsyncSession,
    folder: Path,
    manifest: Path,
    max_bytes: int,
    on_checked: Callable[[], None] | None = None,
) -> list[ManifestRow]:
    """Every row of the manifest, checked; ``ManifestInvalid`` lists every bad row."""
    rows, problems = await asyncio.to_thread(_parse_rows, folder, manifest)
    visit_ids = {row.visit_id for row in rows}
    codes = {row.report_type for row in rows}
    known_visits = set(
        await session.scalars(sa.select(col(Visit.id)).where(col(Visit.id).in_(visit_ids)))
    )
    known_codes = set(
        await session.scalars(
            sa.select(col(ReportType.code)).where(col(ReportType.code).in_(codes))
        )
    )
    for row in rows:
        if row.visit_id not in known_visits:
            problems.append(
                RowProblem(row.line, f"no visit has id {global_id('Visit', row.visit_id)}")
            )
        if row.report_type not in known_codes:
            problems.append(RowProblem(row.line, f"no report type has code {row.report_type!r}"))
        problem = await asyncio.to_thread(_check_file, row, max_bytes)
        if problem is not None:
            problems.append(problem)
        if on_checked is not None:
            on_checked()
    if problems:
        raise ManifestInvalid(sorted(problems, key=lambda problem: problem.line))
    return rows


async def import_rows(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    storage: DocumentStorage,
    rows: Sequence[ManifestRow],
    max_bytes: int,
    public_url: str,
    on_done: Callable[[ManifestRow], None] | None = None,
    events: EventHub | None = None,
) -> ImportResult:
    """Post each checked row in its own transaction; rows already posted are skipped."""
    result = ImportResult()
    scope = AccountScope.everything()
    for row in rows:
        data = await asyncio.to_thread(read_file_limited, str(row.path), limit=max_bytes)
        async with sessionmaker() as session:
            set_scope(session, scope)
            try:
                document = await post_document(
                    session=session,
                    scope=scope,
                    storage=storage,
                    visit_id=row.visit_id,
                    report_type_code=row.report_type,
                    name=row.name,
                    data=data,
                    max_bytes=max_bytes,
                    public_url=public_url,
                    posted_at=row.posted_at,
                    events=events,
                )
            except AlreadyPosted as duplicate:
                result.skipped.append(duplicate.document_id)
            else:
                result.posted.append(document.id)
                await _audit(session, "document.imported", document.account_id, [document.id])
        if on_done is not None:
            on_done(row)
    return result


async def _audit(
    session: AsyncSession, action: str, account_id: uuid.UUID | None, ids: Sequence[uuid.UUID]
) -> None:
    # Command-line work has no signed-in principal: it is recorded as the system acting.
    for start in range(0, len(ids), AUDIT_BATCH):
        session.add(
            AuditEvent(
                actor_type=ActorType.SYSTEM,
                actor_label="portal command",
                account_id=account_id,
                action=action,
                object_ids=[str(i) for i in ids[start : start + AUDIT_BATCH]],
                result=AuditResult.ALLOWED,
            )
        )
    await session.commit()


@dataclass
class ArchiveResult:
    moved: list[uuid.UUID] = field(default_factory=list)
    missing: list[uuid.UUID] = field(default_factory=list)
    tiered: bool = True


async def archive_to_cold(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    storage: DocumentStorage,
    account_number: str | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> ArchiveResult:
    """Move the bytes of archived documents to the COLD class, when the backend has one.

    Bytes shared with a document that is not archived (the same PDF posted twice) stay where they
    are. Each document's ``storage_class`` is updated in its own short transaction, after its
    bytes have moved; a re-run finishes an interrupted one.
    """
    if not isinstance(storage, TieredDocumentStorage) or not _has_cold_tier(storage):
        return ArchiveResult(tiered=False)
    scope = AccountScope.everything()
    async with sessionmaker() as session:
        set_scope(session, scope)
        others = sa.table(
            "documents",
            sa.column("id", sa.Uuid),
            sa.column("account_id", sa.Uuid),
            sa.column("storage_key", sa.String),
            sa.column("posted_at", sa.DateTime(timezone=True)),
            sa.column("restored_at", sa.DateTime(timezone=True)),
        ).alias("others")
        other_retention = (
            sa.select(col(Account.retention_days))
            .where(col(Account.id) == others.c.account_id)
            .scalar_subquery()
        )
        other_live = (
            sa.select(sa.literal(1))
            .select_from(others)
            .where(
                others.c.storage_key == col(Document.storage_key),
                others.c.id != col(Document.id),
                sa.or_(
                    others.c.restored_at.is_not(None),
                    others.c.posted_at + sa.func.make_interval(0, 0, 0, other_retention)
                    > sa.func.now(),
                ),
            )
        )
        statement = (
            sa.select(col(Document.id), col(Document.storage_key))
            .join(Account, col(Account.id) == col(Document.account_id))
            .where(
                archived_condition(),
                col(Document.storage_class) == StorageClass.STANDARD,
                ~sa.exists(other_live),
            )
            .order_by(col(Document.posted_at), col(Document.id))
        )
        if account_number is not None:
            statement = statement.where(col(Account.account_number) == account_number)
        candidates: list[tuple[uuid.UUID, str]] = [
            (row[0], row[1]) for row in await session.execute(statement)
        ]
        await session.rollback()
    result = ArchiveResult()
    for index, (document_id, key) in enumerate(candidates, start=1):
        try:
            await storage.move_to_cold(key)
        except LookupError:
            result.missing.append(document_id)
        else:
            async with sessionmaker() as session:
                set_scope(session, scope)
                await session.execute(
                    sa.update(Document)
                    .where(col(Document.id) == document_id)
                    .values(storage_class=StorageClass.COLD)
                )
                await session.commit()
            result.moved.append(document_id)
        if on_progress is not None:
            on_progress(index, len(candidates))
    if result.moved:
        async with sessionmaker() as session:
            set_scope(session, scope)
            await _audit(session, "documents.moved_to_cold", None, result.moved)
    return result


def _has_cold_tier(storage: TieredDocumentStorage) -> bool:
    # A backend may implement the tiered interface yet be configured without a cold class.
    return bool(getattr(storage, "has_cold_tier", True))
