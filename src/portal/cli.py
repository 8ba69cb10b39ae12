"""The ``portal`` command: serve, migrate, seed, worker, token, create-staff, export-schema."""

from __future__ import annotations

import asyncio
import getpass
import logging
import os
from datetime import date
from pathlib import Path
from typing import Annotated

import sqlalchemy as sa
import typer
from sqlmodel import col

from portal import migrations
from portal.auth.keys import load_or_create_keys
from portal.auth.password_policy import PasswordRejected, check_password
from portal.auth.passwords import hash_password
from portal.auth.tokens import SubjectKind, TokenService
from portal.models import PortalUser, StaffUser
from portal.models.db import AccountScope, create_engine, create_sessionmaker, scoped_session
from portal.models.enums import UserStatus
from portal.settings import Settings, get_settings

cli = typer.Typer(help="Employer Health Portal API.", no_args_is_help=True, add_completion=False)

DEMO_LOGINS = (
    ("admin@acme.example", "User Admin, Acme Logistics"),
    ("basic@acme.example", "Basic user, Acme Logistics (report subscriptions)"),
    ("visits@acme.example", "Basic user with VIEW_VISIT_ACTIVITY, Acme Logistics"),
    ("admin@globex.example", "User Admin, Globex Manufacturing"),
    ("admin@northwind.example", "User Admin, Northwind TPA (two employer clients)"),
    ("support@portal.example", "Support staff"),
)


def resolve_database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    from portal.embedded import embedded_database_url

    return embedded_database_url(settings.resolved_data_dir)


def _settings_with_database() -> Settings:
    settings = get_settings()
    url = resolve_database_url(settings)
    return settings.model_copy(update={"database_url": url})


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date (alembic upgrade head)."""
    settings = _settings_with_database()
    assert settings.database_url
    migrations.upgrade(settings.database_url)
    typer.echo("database is at the latest migration")


@cli.command()
def seed(
    demo: Annotated[
        bool, typer.Option("--demo", help="Also load the demo accounts, people and results.")
    ] = False,
) -> None:
    """Load reference data (report types, services, sign-on links); with --demo, the demo data."""
    settings = _settings_with_database()
    assert settings.database_url
    migrations.upgrade(settings.database_url)
    asyncio.run(_seed(settings, demo=demo))


async def _seed(settings: Settings, *, demo: bool) -> None:
    from portal.seed.demo import seed_demo
    from portal.seed.reference import seed_reference_data
    from portal.storage import document_storage

    assert settings.database_url
    engine = create_engine(settings.database_url)
    try:
        async with scoped_session(
            create_sessionmaker(engine), AccountScope.everything()
        ) as session:
            if demo:
                summary = await seed_demo(
                    session,
                    password=settings.demo_password.get_secret_value(),
                    storage=document_storage(settings),
                    today=date.today(),
                )
                typer.echo(f"demo data ready: {summary}")
            else:
                await seed_reference_data(session)
                await session.commit()
                typer.echo("reference data ready")
    finally:
        await engine.dispose()


@cli.command()
def serve(
    demo: Annotated[
        bool, typer.Option("--demo", help="Load the demo data before serving.")
    ] = False,
    host: Annotated[
        str | None, typer.Option(help="Interface to bind (default PORTAL_HOST).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default PORTAL_PORT).")] = None,
) -> None:
    """Migrate, optionally load demo data, and serve the API (embedded PostgreSQL by default)."""
    import uvicorn

    from portal.app import create_app

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = _settings_with_database()
    assert settings.database_url
    migrations.upgrade(settings.database_url)
    asyncio.run(_seed(settings, demo=demo))
    bind_host = host or settings.host
    bind_port = port or settings.port
    base = f"http://{bind_host}:{bind_port}"
    typer.echo("")
    typer.echo(f"  GraphiQL:  {base}/graphiql")
    typer.echo(f"  GraphQL:   {base}/graphql")
    if demo:
        typer.echo("  Demo logins (password from PORTAL_DEMO_PASSWORD, default in README):")
        for email, what in DEMO_LOGINS:
            typer.echo(f"    {email:<26} {what}")
        typer.echo(
            "  A token for the Authorization header: .venv/bin/portal token admin@acme.example"
        )
    typer.echo("")
    uvicorn.run(create_app(settings), host=bind_host, port=bind_port, log_level="info")


@cli.command()
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver the messages due now, then exit.")
    ] = False,
) -> None:
    """Deliver outbox email (SMTP, or .eml files without PORTAL_SMTP_HOST) until interrupted."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = _settings_with_database()
    asyncio.run(_run_worker(settings, once=once))


async def _run_worker(settings: Settings, *, once: bool) -> None:
    import signal

    from portal.mail.worker import MailWorker, deliver_due

    assert settings.database_url
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    try:
        if once:
            report = await deliver_due(sessionmaker=sessionmaker, settings=settings)
            typer.echo(
                f"delivered {report.delivered}, retrying {report.retrying}, failed {report.failed}"
            )
            return
        mail_worker = MailWorker(sessionmaker=sessionmaker, settings=settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        mail_worker.start()
        typer.echo("email worker running; Ctrl-C stops it")
        await stop.wait()
        await mail_worker.stop()
    finally:
        await engine.dispose()


@cli.command()
def token(
    email: Annotated[str, typer.Argument(help="A portal user's or staff member's email.")],
) -> None:
    """Print an access token for a user of the local database (demos and tests)."""
    settings = _settings_with_database()
    try:
        typer.echo(asyncio.run(_mint_token(settings, email)))
    except LookupError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=1) from error


async def _mint_token(settings: Settings, email: str) -> str:
    assert settings.database_url
    engine = create_engine(settings.database_url)
    try:
        async with scoped_session(
            create_sessionmaker(engine), AccountScope.everything()
        ) as session:
            user_id = await session.scalar(
                sa.select(col(PortalUser.id)).where(
                    sa.func.lower(col(PortalUser.email)) == email.strip().lower(),
                    col(PortalUser.status) == UserStatus.ACTIVE,
                )
            )
            kind = SubjectKind.USER
            if user_id is None:
                user_id = await session.scalar(
                    sa.select(col(StaffUser.id)).where(
                        sa.func.lower(col(StaffUser.email)) == email.strip().lower(),
                        col(StaffUser.is_active).is_(True),
                    )
                )
                kind = SubjectKind.STAFF
            if user_id is None:
                raise LookupError(f"no active user or staff member with email {email}")
    finally:
        await engine.dispose()
    service = TokenService(
        keys=load_or_create_keys(
            key_file=settings.signing_key_file, data_dir=settings.resolved_data_dir
        ),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        ttl_seconds=settings.access_token_ttl_seconds,
    )
    access_token, _ = service.mint(kind=kind, subject_id=user_id)
    return access_token


@cli.command("create-staff")
def create_staff(
    email: Annotated[str, typer.Argument()],
    first_name: Annotated[str, typer.Option("--first-name")],
    last_name: Annotated[str, typer.Option("--last-name")],
) -> None:
    """Create a support staff login; the password comes from PORTAL_NEW_PASSWORD or a prompt."""
    password = os.environ.get("PORTAL_NEW_PASSWORD") or getpass.getpass("Password: ")
    try:
        # A new staff member has no second factor yet: the password-only rules apply.
        check_password(password, email=email, has_second_factor=False)
    except PasswordRejected as error:
        typer.echo(f"{error.code.value}: {error.message}", err=True)
        raise typer.Exit(code=2) from error
    settings = _settings_with_database()
    asyncio.run(
        _create_staff(
            settings, email=email, first_name=first_name, last_name=last_name, password=password
        )
    )
    typer.echo(f"staff user {email} created")


async def _create_staff(
    settings: Settings, *, email: str, first_name: str, last_name: str, password: str
) -> None:
    assert settings.database_url
    engine = create_engine(settings.database_url)
    try:
        async with scoped_session(
            create_sessionmaker(engine), AccountScope.everything()
        ) as session:
            session.add(
                StaffUser(
                    email=email.strip().lower(),
                    first_name=first_name,
                    last_name=last_name,
                    password_hash=hash_password(password),
                )
            )
            await session.commit()
    finally:
        await engine.dispose()


@cli.command("export-schema")
def export_schema(
    output: Annotated[
        Path | None, typer.Option(help="Where to write the SDL (default: the committed file).")
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Fail if the committed SDL differs.")
    ] = False,
) -> None:
    """Write the SDL to schema/schema.graphql, or check that the committed one is current."""
    from portal.schema import SCHEMA_FILE, print_sdl

    sdl = print_sdl()
    target = output or SCHEMA_FILE
    if check:
        committed = SCHEMA_FILE.read_text() if SCHEMA_FILE.exists() else ""
        if committed != sdl:
            typer.echo(
                f"{SCHEMA_FILE} is out of date: run `portal export-schema` and commit the result",
                err=True,
            )
            raise typer.Exit(code=1)
        typer.echo("schema snapshot is current")
        return
    target.write_text(sdl)
    typer.echo(f"wrote {target}")


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
            help="CSV with columns file, visit_id, report_type, name and optionally posted_at.",
        ),
    ],
) -> None:
    """Post many documents at once: every row is checked first, then each is posted in its own
    transaction (re-running skips what is already posted, so it also resumes a broken import)."""
    settings = _settings_with_database()
    code = asyncio.run(_import_documents(settings, folder=folder, manifest=manifest))
    if code:
        raise typer.Exit(code=code)


async def _import_documents(settings: Settings, *, folder: Path, manifest: Path) -> int:
    from rich.progress import Progress

    from portal.resolvers.ingestion import bulk
    from portal.storage import document_storage

    assert settings.database_url
    engine = create_engine(settings.database_url)
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
            )
    finally:
        await engine.dispose()
    typer.echo(
        f"posted {len(result.posted)} document(s), skipped {len(result.skipped)} already posted"
    )
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
    settings = _settings_with_database()
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
            + ", ".join(str(i) for i in result.missing),
            err=True,
        )
        return 1
    return 0


def main() -> None:
    cli(prog_name="portal")


if __name__ == "__main__":
    main()
