"""`portal create-staff` sets passwords under the password policy (NIST SP 800-63B)."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa
from sqlmodel import col
from typer.testing import CliRunner

from portal.auth.passwords import verify_password
from portal.cli import cli
from portal.models import StaffUser
from portal.models.db import AccountScope, create_engine, create_sessionmaker, scoped_session
from portal.settings import Settings

EMAIL = "new.staffer@portal.example"


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    assert settings.database_url
    monkeypatch.setenv("PORTAL_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PORTAL_DATA_DIR", str(settings.data_dir))


def create_staff(password: str, email: str = EMAIL) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli,
        ["create-staff", email, "--first-name", "New", "--last-name", "Staffer"],
        env={"PORTAL_NEW_PASSWORD": password},
    )
    return result.exit_code, result.output


async def _staff_hash(settings: Settings, *, delete: bool = False) -> str | None:
    assert settings.database_url
    engine = create_engine(settings.database_url, pool_size=1, max_overflow=0)
    try:
        async with scoped_session(create_sessionmaker(engine), AccountScope.everything()) as db:
            found: str | None = await db.scalar(
                sa.select(col(StaffUser.password_hash)).where(col(StaffUser.email) == EMAIL)
            )
            if delete:
                await db.execute(sa.delete(StaffUser).where(col(StaffUser.email) == EMAIL))
                await db.commit()
            return found
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("too short pass", "PASSWORD_TOO_SHORT"),
        ("x" * 257, "PASSWORD_TOO_LONG"),
        ("1qaz2wsx3edc4rfv", "PASSWORD_BREACHED"),
        ("passwordpassword1", "PASSWORD_TOO_COMMON"),
        ("my name is NEW.STAFFER ok", "PASSWORD_CONTAINS_EMAIL"),
        ("I work on the Employer-Health thing", "PASSWORD_CONTAINS_PRODUCT_NAME"),
        ("sunny meadow portal walk", "PASSWORD_CONTAINS_PRODUCT_NAME"),
    ],
)
def test_create_staff_refuses_each_weak_password(
    cli_env: None, settings: Settings, password: str, code: str
) -> None:
    # When a staff login is created with a password the policy refuses
    exit_code, output = create_staff(password)
    # Then the command fails, says why with the stable code, and creates nothing
    assert exit_code == 2, output
    assert code in output
    assert asyncio.run(_staff_hash(settings)) is None


def test_create_staff_accepts_a_passphrase_in_its_nfkc_form(
    cli_env: None, settings: Settings
) -> None:
    # Given a passphrase in full-width letters, which NFKC normalises to ASCII
    passphrase = "".join(chr(ord(c) + 0xFEE0) if c != " " else " " for c in "granite moon toast")
    assert passphrase != "granite moon toast"
    try:
        # When the staff login is created
        exit_code, output = create_staff(passphrase)
        # Then it exists, and the NFKC form of the whole passphrase verifies
        assert exit_code == 0, output
        stored = asyncio.run(_staff_hash(settings))
        assert stored is not None
        assert verify_password(stored, "granite moon toast")
        assert not verify_password(stored, "granite moon toas")
    finally:
        asyncio.run(_staff_hash(settings, delete=True))


def test_a_256_character_password_is_not_truncated(cli_env: None, settings: Settings) -> None:
    # Given the longest allowed password
    long_password = ("velvet harbor lantern " * 12)[:255] + "Z"
    assert len(long_password) == 256
    try:
        exit_code, output = create_staff(long_password)
        assert exit_code == 0, output
        stored = asyncio.run(_staff_hash(settings))
        assert stored is not None
        # Then only the whole password verifies: its last character counts
        assert verify_password(stored, long_password)
        assert not verify_password(stored, long_password[:-1] + "Y")
    finally:
        asyncio.run(_staff_hash(settings, delete=True))
