"""The `portal` command, run as a user would (in-process through Typer's runner)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from portal.auth.tokens import SubjectKind, TokenService
from portal.cli import cli
from portal.settings import Settings
from tests.support.world import World


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    assert settings.database_url
    env = {"PORTAL_DATABASE_URL": settings.database_url, "PORTAL_DATA_DIR": str(settings.data_dir)}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def test_token_mints_a_verifiable_token_for_a_user(
    cli_env: dict[str, str], tokens: TokenService, world: World
) -> None:
    result = CliRunner().invoke(cli, ["token", "ADMIN@acme.example"])
    assert result.exit_code == 0, result.output
    claims = tokens.verify(result.stdout.strip())
    assert claims.subject_kind is SubjectKind.USER
    assert claims.subject_id == world.acme_admin.id


def test_token_works_for_staff(cli_env: dict[str, str], tokens: TokenService, world: World) -> None:
    result = CliRunner().invoke(cli, ["token", "support@portal.example"])
    assert result.exit_code == 0, result.output
    assert tokens.verify(result.stdout.strip()).subject_kind is SubjectKind.STAFF


def test_token_refuses_unknown_and_deactivated_users(cli_env: dict[str, str], world: World) -> None:
    for email in ("nobody@acme.example", "gone@acme.example"):
        result = CliRunner().invoke(cli, ["token", email])
        assert result.exit_code == 1
        assert "no active user" in result.output


def test_export_schema_check_passes_on_the_committed_schema() -> None:
    result = CliRunner().invoke(cli, ["export-schema", "--check"])
    assert result.exit_code == 0, result.output


def test_export_schema_check_fails_on_drift(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    import portal.schema

    monkeypatch.setattr(portal.schema, "print_sdl", lambda: "type Query { drifted: Int }\n")
    result = CliRunner().invoke(cli, ["export-schema", "--check"])
    assert result.exit_code == 1
    assert "out of date" in result.output
