"""`portal create-provider-client` and `portal revoke-provider-client`: credentials for the
provider's own systems, the secret shown once and stored hashed."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlmodel import col
from typer.testing import CliRunner

from portal.auth.passwords import verify_password
from portal.cli import cli
from portal.ids import parse_global_id
from portal.models import ProviderClient
from portal.models.db import AccountScope, create_engine, create_sessionmaker, scoped_session
from portal.settings import Settings

NAME = "Lab interface (CLI test)"


async def _rows(settings: Settings, *, delete: bool = False) -> list[ProviderClient]:
    assert settings.database_url
    engine = create_engine(settings.database_url, pool_size=1, max_overflow=0)
    try:
        async with scoped_session(create_sessionmaker(engine), AccountScope.everything()) as db:
            rows = list(
                await db.scalars(sa.select(ProviderClient).where(col(ProviderClient.name) == NAME))
            )
            if delete:
                await db.execute(sa.delete(ProviderClient).where(col(ProviderClient.name) == NAME))
                await db.commit()
            return rows
    finally:
        await engine.dispose()


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    assert settings.database_url
    monkeypatch.setenv("PORTAL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(settings.data_dir))
    yield
    asyncio.run(_rows(settings, delete=True))


def test_create_then_revoke_a_provider_client(cli_env: None, settings: Settings) -> None:
    # when an operator creates credentials for a provider system
    created = CliRunner().invoke(cli, ["create-provider-client", NAME])

    # then the client id and the secret are printed once, and only a hash is stored
    assert created.exit_code == 0, created.output
    client_id = re.search(r"client_id:\s+(\S+)", created.output)
    secret = re.search(r"client_secret:\s+(\S+)", created.output)
    assert client_id, created.output
    assert secret, created.output
    assert "ingestion:write" in created.output
    [row] = asyncio.run(_rows(settings))
    assert row.client_id == client_id.group(1)
    assert row.scopes == ["ingestion:write"]
    assert secret.group(1) not in row.secret_hash
    assert verify_password(row.secret_hash, secret.group(1))
    assert row.revoked_at is None

    # when the operator revokes it
    revoked = CliRunner().invoke(cli, ["revoke-provider-client", client_id.group(1)])

    # then it is revoked
    assert revoked.exit_code == 0, revoked.output
    [row] = asyncio.run(_rows(settings))
    assert row.revoked_at is not None


def test_revoking_an_unknown_client_id_fails(cli_env: None) -> None:
    result = CliRunner().invoke(cli, ["revoke-provider-client", "ehp-provider-nope"])
    assert result.exit_code == 1
    assert "NOT_FOUND" in result.output


def test_a_blank_name_is_refused(cli_env: None, settings: Settings) -> None:
    result = CliRunner().invoke(cli, ["create-provider-client", "   "])
    assert result.exit_code == 2
    assert "BAD_USER_INPUT" in result.output


def test_the_id_shown_at_creation_is_a_global_id_and_revokes(
    cli_env: None, settings: Settings
) -> None:
    # Given credentials created from the CLI
    created = CliRunner().invoke(cli, ["create-provider-client", NAME])
    assert created.exit_code == 0, created.output
    shown = re.search(r"^id:\s+(\S+)", created.output, re.MULTILINE)
    assert shown, created.output
    # Then the id shown is the API's global id of that row (as audit events show it)
    [row] = asyncio.run(_rows(settings))
    assert parse_global_id(shown.group(1)) == ("ProviderClient", row.id)
    # When the operator revokes by that id
    revoked = CliRunner().invoke(cli, ["revoke-provider-client", shown.group(1)])
    # Then it is revoked
    assert revoked.exit_code == 0, revoked.output
    [row] = asyncio.run(_rows(settings))
    assert row.revoked_at is not None


def test_revoking_by_raw_uuid_works_too(cli_env: None, settings: Settings) -> None:
    CliRunner().invoke(cli, ["create-provider-client", NAME])
    [row] = asyncio.run(_rows(settings))
    revoked = CliRunner().invoke(cli, ["revoke-provider-client", str(row.id)])
    assert revoked.exit_code == 0, revoked.output
    [row] = asyncio.run(_rows(settings))
    assert row.revoked_at is not None
