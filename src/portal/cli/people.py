"""Logins and credentials: tokens for demos, staff, the provider's system clients."""

from __future__ import annotations

import asyncio
import getpass
import os
from typing import Annotated

import sqlalchemy as sa
import typer
from sqlmodel import col

from portal.auth.keys import load_or_create_keys
from portal.auth.password_policy import PasswordRejected, check_password
from portal.auth.passwords import hash_password
from portal.auth.tokens import SubjectKind, TokenService
from portal.cli.app import cli, settings_with_database, system_session
from portal.ids import global_id
from portal.models import PortalUser, StaffUser
from portal.models.enums import UserStatus
from portal.resolvers.errors import PortalError
from portal.resolvers.provider_clients import (
    CreatedProviderClient,
)
from portal.resolvers.provider_clients import (
    create_provider_client as create_provider_client_row,
)
from portal.resolvers.provider_clients import (
    revoke_provider_client as revoke_provider_client_row,
)
from portal.settings import Settings


@cli.command()
def token(
    email: Annotated[str, typer.Argument(help="A portal user's or staff member's email.")],
) -> None:
    """Print an access token for a user of the local database (demos and tests)."""
    settings = settings_with_database()
    try:
        typer.echo(asyncio.run(_mint_token(settings, email)))
    except LookupError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(code=1) from error


async def _mint_token(settings: Settings, email: str) -> str:
    async with system_session(settings) as session:
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
    settings = settings_with_database()
    asyncio.run(
        _create_staff(
            settings, email=email, first_name=first_name, last_name=last_name, password=password
        )
    )
    typer.echo(f"staff user {email} created")


async def _create_staff(
    settings: Settings, *, email: str, first_name: str, last_name: str, password: str
) -> None:
    async with system_session(settings) as session:
        session.add(
            StaffUser(
                email=email.strip().lower(),
                first_name=first_name,
                last_name=last_name,
                password_hash=hash_password(password),
            )
        )
        await session.commit()


@cli.command("create-provider-client")
def create_provider_client(
    name: Annotated[str, typer.Argument(help="What the system is, e.g. 'Dallas clinic EHR'.")],
) -> None:
    """Create OAuth2 client credentials for one of the provider's own systems, holding the
    ingestion:write scope (recordVisit, updateVisitStatus, postDocument). The secret is shown
    once."""
    settings = settings_with_database()
    try:
        created = asyncio.run(_create_provider_client(settings, name=name))
    except PortalError as error:
        typer.echo(f"{error.code.value}: {error.message}", err=True)
        raise typer.Exit(code=2) from error
    typer.echo(f"id:            {global_id('ProviderClient', created.row.id)}")
    typer.echo(f"client_id:     {created.row.client_id}")
    typer.echo(f"client_secret: {created.client_secret}")
    typer.echo(f"scopes:        {' '.join(created.row.scopes)}")
    typer.echo("Store the secret now: it is not shown again. Get tokens from POST /oauth/token.")


async def _create_provider_client(settings: Settings, *, name: str) -> CreatedProviderClient:
    async with system_session(settings) as session:
        return await create_provider_client_row(session=session, name=name)


@cli.command("revoke-provider-client")
def revoke_provider_client(
    client_id: Annotated[
        str,
        typer.Argument(help="The client_id or the id shown at creation (a raw UUID works too)."),
    ],
) -> None:
    """Revoke a provider system's credentials: its tokens stop working at their next request."""
    settings = settings_with_database()
    try:
        asyncio.run(_revoke_provider_client(settings, client_id=client_id))
    except PortalError as error:
        typer.echo(f"{error.code.value}: {error.message}", err=True)
        raise typer.Exit(code=1) from error
    typer.echo(f"provider client {client_id} revoked")


async def _revoke_provider_client(settings: Settings, *, client_id: str) -> None:
    async with system_session(settings) as session:
        await revoke_provider_client_row(session=session, client_id=client_id)
