"""Bulk document work: import-documents, archive."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from portal.cli.app import cli, settings_with_database
from portal.ids import global_id
from portal.models.db import AccountScope, create_engine, create_sessionmaker, scoped_session
from portal.settings import Settings


@cli.command("import-documents")
def import_documents(
    folder: Annotated[
        Path,
        typer.Argument(exists=True, file_okay=False, help="The folder holding the PDF files."),
    ],
    manifest: Annotated[
        Path,
        typer.Option(
            "--manifest",
            exists=True,
            dir_okay=False,
            help="CSV with columns file, visit_id, report_type, name and optionally posted_at; "
            "visit_id is the visit's id as the API shows it (a raw UUID works too).",
        ),
    ],
) -> None:
    """Post many documents at once: every row is checked first, then each is posted in its own
    transaction (re-running skips what is already posted, so it also resumes a broken import)."""
    settings = settings_with_database()
    code = asyncio.run(_import_documents(settings, folder=folder, manifest=manifest))
    if code:
        raise typer.Exit(code=code)


async def _import_documents(settings: Settings, *, folder: Path, manifest: Path) -> int:
    from rich.progress import Progress

    from portal.events import event_bus
    from portal.resolvers.ingestion import bulk
    from portal.storage import document_storage

    assert settings.database_url
    engine = create_engine(settings.database_url)
    # Subscribers of every app process hear of each posted document (with PORTAL_REDIS_URL).
    events = event_bus(redis_url=settings.redis_url, prefix=settings.redis_prefix, listen=False)
    try:
        sessionmaker = create_sessionmaker(engine)
        with Progress(transient=True) as progress:
            checking = progress.add_task("checking rows", total=None)
            try:
                async with scoped_session(sessionmaker, AccountScope.everything()) as session:
                    rows = await bulk.validate_manifest(
                        session=session,
                        folder=folder,
                        manifest=manifest,
                        max_bytes=settings.max_upload_bytes,
                        on_checked=lambda: progress.advance(checking),
                    )
            except bulk.ManifestInvalid as invalid:
                progress.stop()
                typer.echo(f"{manifest}: nothing imported, fix these rows first:", err=True)
                for problem in invalid.problems:
                    typer.echo(f"  {problem}", err=True)
                return 1
            progress.remove_task(checking)
            posting = progress.add_task("posting documents", total=len(rows))
            result = await bulk.import_rows(
                sessionmaker=sessionmaker,
                storage=document_storage(settings),
                rows=rows,
                max_bytes=settings.max_upload_bytes,
                public_url=settings.public_url,
                on_done=lambda row: progress.advance(posting),
                events=events,
            )
    finally:
        await events.close()
        await engine.dispose()
    typer.echo(
        f"posted {len(result.posted)} document(s), skipped {len(result.skipped)} already posted"
    )
    # The ids as the API shows them (node(id:), documents, audit events), one per line.
    for document_id in result.posted:
        typer.echo(f"posted {global_id('Document', document_id)}")
    for document_id in result.skipped:
        typer.echo(f"skipped {global_id('Document', document_id)}")
    return 0


@cli.command("archive")
def archive(
    account: Annotated[
        str | None,
        typer.Option("--account", help="Only this account (its account number)."),
    ] = None,
) -> None:
    """Move the bytes of archived documents to the cold storage class (when the backend has
    one). Archived documents leave employer views by date alone; this only saves storage."""
    settings = settings_with_database()
    code = asyncio.run(_archive(settings, account_number=account))
    if code:
        raise typer.Exit(code=code)


async def _archive(settings: Settings, *, account_number: str | None) -> int:
    from rich.progress import Progress

    from portal.resolvers.ingestion import bulk
    from portal.storage import document_storage

    assert settings.database_url
    engine = create_engine(settings.database_url)
    try:
        with Progress(transient=True) as progress:
            task = progress.add_task("moving archived documents to cold storage", total=None)
            result = await bulk.archive_to_cold(
                sessionmaker=create_sessionmaker(engine),
                storage=document_storage(settings),
                account_number=account_number,
                on_progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    finally:
        await engine.dispose()
    if not result.tiered:
        typer.echo("the document storage has no cold class: nothing to move")
        return 0
    typer.echo(f"moved {len(result.moved)} archived document(s) to cold storage")
    if result.missing:
        typer.echo(
            f"{len(result.missing)} archived document(s) have no stored bytes: "
            + ", ".join(global_id("Document", i) for i in result.missing),
            err=True,
        )
        return 1
    return 0
