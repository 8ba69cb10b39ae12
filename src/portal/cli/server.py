"""Running the service: migrate, seed, serve, worker, export-schema."""

from __future__ import annotations

import asyncio
import logging
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from portal import migrations
from portal.cli.app import (
    DEMO_LOGINS,
    cli,
    load_settings,
    settings_with_database,
    setup_logging,
    system_session,
)
from portal.models.db import create_engine, create_sessionmaker
from portal.settings import Settings


@cli.command()
def migrate() -> None:
    """Bring the database schema up to date (alembic upgrade head)."""
    settings = settings_with_database()
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
    settings = settings_with_database()
    assert settings.database_url
    migrations.upgrade(settings.database_url)
    asyncio.run(_seed(settings, demo=demo))


async def _seed(settings: Settings, *, demo: bool) -> None:
    if demo and settings.is_production:
        raise typer.BadParameter("the demo data is never loaded in production (--demo)")
    from portal.seed.demo import seed_demo
    from portal.seed.reference import seed_reference_data
    from portal.storage import document_storage

    async with system_session(settings) as session:
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


@cli.command()
def serve(
    demo: Annotated[
        bool, typer.Option("--demo", help="Load the demo data before serving.")
    ] = False,
    host: Annotated[
        str | None, typer.Option(help="Interface to bind (default PORTAL_HOST).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default PORTAL_PORT).")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1, max=64, help="App processes sharing the port (default PORTAL_WORKERS)."
        ),
    ] = None,
) -> None:
    """Migrate, optionally load demo data, and serve the API (embedded PostgreSQL by default)."""
    import os

    import uvicorn

    from portal.app import create_app

    setup_logging(load_settings())
    settings = settings_with_database(check_signing_key=True)
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
        password = settings.demo_password.get_secret_value()
        typer.echo(f"  Demo logins, all with the password {password} (PORTAL_DEMO_PASSWORD):")
        for email, what in DEMO_LOGINS:
            typer.echo(f"    {email:<26} {what}")
        typer.echo(
            "  A token for the Authorization header: .venv/bin/portal token admin@acme.example"
        )
    typer.echo("  Stop with Ctrl+C (the embedded PostgreSQL stops too); start over with")
    typer.echo("  `.venv/bin/portal reset-demo` (or `make reset-demo`).")
    typer.echo("")
    processes = workers or settings.workers
    options = {
        "host": bind_host,
        "port": bind_port,
        "log_level": settings.log_level.lower(),
        # Logging is ours (portal.observability.logs): one line per request from portal.access.
        "log_config": None,
        "access_log": False,
        "timeout_graceful_shutdown": settings.shutdown_timeout_seconds or None,
        # Proxy headers are the app's to judge (PORTAL_TRUSTED_PROXIES), never uvicorn's default
        # of believing any loopback peer.
        "proxy_headers": False,
    }
    if processes == 1:
        uvicorn.run(create_app(settings), **options)  # type: ignore[arg-type]
        return
    if not settings.redis_url:
        logging.getLogger(__name__).warning(
            "%d processes without PORTAL_REDIS_URL: a subscriber hears only of documents "
            "posted through its own process",
            processes,
        )
    # Each worker process builds its app from the environment: the database is resolved
    # (embedded or not) and migrated here, once.
    os.environ["PORTAL_DATABASE_URL"] = settings.database_url
    uvicorn.run(
        "portal.app:app_from_environment",
        factory=True,
        workers=processes,
        **options,  # type: ignore[arg-type]
    )


@cli.command("reset-demo")
def reset_demo(
    yes: Annotated[
        bool, typer.Option("--yes", help="Do not ask for confirmation (scripts, make).")
    ] = False,
) -> None:
    """Start over: drop every table of the database (the embedded one by default, or
    PORTAL_DATABASE_URL), migrate it again and load the demo data afresh."""
    settings = settings_with_database()
    assert settings.database_url
    if not yes:
        typer.confirm(
            "This deletes everything in the database and loads the demo data again. Go on?",
            abort=True,
        )
    migrations.downgrade(settings.database_url)
    migrations.upgrade(settings.database_url)
    asyncio.run(_seed(settings, demo=True))
    typer.echo("the demo data is as new")


@cli.command()
def worker(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver the messages due now, then exit.")
    ] = False,
) -> None:
    """Deliver outbox email (SMTP, or .eml files without PORTAL_SMTP_HOST) and webhooks, and
    emit authorization.expired, until interrupted."""
    setup_logging(load_settings())
    settings = settings_with_database()
    asyncio.run(_run_worker(settings, once=once))


async def _run_worker(settings: Settings, *, once: bool) -> None:
    import signal

    from portal.mail.worker import MailWorker, deliver_due
    from portal.models.base import utcnow
    from portal.webhooks.worker import WebhookWorker, expire_authorizations, purge_delivery_log
    from portal.webhooks.worker import deliver_due as deliver_webhooks

    assert settings.database_url
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    try:
        if once:
            report = await deliver_due(sessionmaker=sessionmaker, settings=settings)
            typer.echo(
                f"delivered {report.delivered}, retrying {report.retrying}, failed {report.failed}"
            )
            expired = await expire_authorizations(sessionmaker=sessionmaker)
            await purge_delivery_log(sessionmaker=sessionmaker, settings=settings, now=utcnow())
            hooks = await deliver_webhooks(sessionmaker=sessionmaker, settings=settings)
            typer.echo(
                f"webhooks: {expired} authorization(s) expired, {hooks.fanned_out} event(s) "
                f"fanned out, delivered {hooks.delivered}, retrying {hooks.retrying}, "
                f"failed {hooks.failed}"
            )
            return
        mail_worker = MailWorker(sessionmaker=sessionmaker, settings=settings)
        webhook_worker = WebhookWorker(sessionmaker=sessionmaker, settings=settings)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        mail_worker.start()
        webhook_worker.start()
        typer.echo("email and webhook workers running; Ctrl-C stops them")
        await stop.wait()
        await webhook_worker.stop()
        await mail_worker.stop()
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
