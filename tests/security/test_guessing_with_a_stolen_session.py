"""Hardening 3: a stolen access token cannot be used to guess the password (``disableTotp``) or
an authenticator code (``regenerateRecoveryCodes``): wrong guesses count toward the lockout
like failed sign-ins, and a locked account refuses even the right answer."""

from __future__ import annotations

import pyotp
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import PortalUser
from portal.settings import Settings
from tests.auth.test_mfa import DISABLE, REGENERATE, enroll, wrong_code
from tests.support.graphql import GraphQLClient
from tests.support.world import PASSWORD, World


async def failures_of(db: AsyncSession, world: World) -> int:
    user = await db.get(PortalUser, world.acme_basic.id, populate_existing=True)
    assert user is not None
    return user.failed_login_count


async def test_wrong_passwords_to_disable_the_factor_lock_the_account(
    basic_client: GraphQLClient, db: AsyncSession, world: World, settings: Settings
) -> None:
    # Given an enrolled Basic user whose access token was stolen
    await enroll(basic_client)

    # When the thief guesses the password to turn the factor off, as often as the lockout allows
    for attempt in range(1, settings.login_lockout_threshold + 1):
        result = (await basic_client(DISABLE, {"password": f"guess number {attempt}"})).ok()
        assert [e["code"] for e in result["disableTotp"]["userErrors"]] == ["BAD_USER_INPUT"]
        assert await failures_of(db, world) == attempt

    # Then the account is locked: even the right password is refused, and the factor stays
    locked = (await basic_client(DISABLE, {"password": PASSWORD})).ok()["disableTotp"]
    assert [(e["field"], e["code"]) for e in locked["userErrors"]] == [("password", "RATE_LIMITED")]
    user = await db.get(PortalUser, world.acme_basic.id, populate_existing=True)
    assert user is not None
    assert user.totp_confirmed_at is not None


async def test_wrong_codes_to_regenerate_recovery_codes_lock_the_account(
    basic_client: GraphQLClient, db: AsyncSession, world: World, settings: Settings
) -> None:
    # Given an enrolled Basic user whose access token was stolen
    secret, _ = await enroll(basic_client)

    # When the thief guesses authenticator codes to mint new recovery codes
    for attempt in range(1, settings.login_lockout_threshold + 1):
        result = (await basic_client(REGENERATE, {"code": wrong_code(secret)})).ok()
        payload = result["regenerateRecoveryCodes"]
        assert payload["recoveryCodes"] is None
        assert await failures_of(db, world) == attempt

    # Then the account is locked: even a right code is refused and no codes are issued
    locked = (await basic_client(REGENERATE, {"code": pyotp.TOTP(secret).now()})).ok()
    payload = locked["regenerateRecoveryCodes"]
    assert payload["recoveryCodes"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("code", "RATE_LIMITED")]
