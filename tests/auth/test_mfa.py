"""TOTP second factor: enrolment, confirmation, recovery codes, replay, disabling."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import AuditEvent, PortalUser, StaffUser
from portal.models.credentials import RecoveryCode
from portal.settings import Settings
from tests.support.graphql import GraphQLClient, assert_forbidden, assert_unauthenticated
from tests.support.world import PASSWORD, World

BEGIN = """
mutation { beginTotpEnrollment { secret provisioningUri userErrors { field code message } } }
"""
CONFIRM = """
mutation ($code: String!) {
  confirmTotpEnrollment(input: {code: $code}) { recoveryCodes userErrors { field code message } }
}
"""
REGENERATE = """
mutation ($code: String!) {
  regenerateRecoveryCodes(input: {code: $code}) { recoveryCodes userErrors { field code message } }
}
"""
DISABLE = """
mutation ($password: String!) {
  disableTotp(input: {password: $password}) { userErrors { field code message } }
}
"""
LOGIN = """
mutation ($email: String!, $password: String!, $totp: String, $recoveryCode: String) {
  login(input: {email: $email, password: $password, totp: $totp, recoveryCode: $recoveryCode}) {
    accessToken userErrors { field code message }
  }
}
"""


async def begin(client: GraphQLClient) -> dict[str, Any]:
    result: dict[str, Any] = (await client(BEGIN)).ok()["beginTotpEnrollment"]
    return result


async def enroll(client: GraphQLClient) -> tuple[str, list[str]]:
    """Enrol the client's person; answers the secret and the recovery codes."""
    secret = (await begin(client))["secret"]
    confirmed = (await client(CONFIRM, {"code": pyotp.TOTP(secret).now()})).ok()
    result = confirmed["confirmTotpEnrollment"]
    assert result["userErrors"] == []
    codes: list[str] = result["recoveryCodes"]
    return secret, codes


async def login(
    client: GraphQLClient,
    email: str = "admin@acme.example",
    *,
    totp: str | None = None,
    recovery_code: str | None = None,
) -> dict[str, Any]:
    variables = {"email": email, "password": PASSWORD, "totp": totp, "recoveryCode": recovery_code}
    result: dict[str, Any] = (await client(LOGIN, variables)).ok()["login"]
    return result


def wrong_code(secret: str) -> str:
    totp = pyotp.TOTP(secret)
    return next(c for c in ("000000", "111111", "222222") if c not in {totp.now()})


async def test_enrolment_answers_a_secret_and_an_otpauth_uri(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # When the admin begins enrolling
    result = await begin(admin_client)
    # Then a secret and its provisioning URI come back, stored but not yet confirmed
    assert result["userErrors"] == []
    uri = result["provisioningUri"]
    assert uri.startswith("otpauth://totp/")
    assert "issuer=Employer%20Health%20Portal" in uri
    assert f"secret={result['secret']}" in uri
    user = await db.get(PortalUser, world.acme_admin.id, populate_existing=True)
    assert user is not None
    assert user.totp_secret == result["secret"]
    assert user.totp_confirmed_at is None
    # And login still needs no code until it is confirmed
    assert (await login(admin_client))["userErrors"] == []


async def test_confirmation_needs_a_right_code_and_answers_ten_hashed_recovery_codes(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # Given an enrolment in progress
    secret = (await begin(admin_client))["secret"]
    # When a wrong code is sent, Then it is a user error and nothing is confirmed
    wrong = (await admin_client(CONFIRM, {"code": wrong_code(secret)})).ok()
    assert wrong["confirmTotpEnrollment"]["recoveryCodes"] is None
    assert wrong["confirmTotpEnrollment"]["userErrors"] == [
        {
            "field": "code",
            "code": "BAD_USER_INPUT",
            "message": "The authenticator code is incorrect.",
        }
    ]
    # When the right code is sent
    right = (await admin_client(CONFIRM, {"code": pyotp.TOTP(secret).now()})).ok()
    codes = right["confirmTotpEnrollment"]["recoveryCodes"]
    # Then ten distinct codes come back, stored only as their SHA-256
    assert len(set(codes)) == 10
    stored = (
        await db.scalars(
            sa.select(col(RecoveryCode.code_hash)).where(
                col(RecoveryCode.user_id) == world.acme_admin.id
            )
        )
    ).all()
    assert sorted(stored) == sorted(
        hashlib.sha256(code.replace("-", "").encode()).hexdigest() for code in codes
    )
    user = await db.get(PortalUser, world.acme_admin.id, populate_existing=True)
    assert user is not None
    assert user.totp_confirmed_at is not None
    # And beginning again is refused while the factor is confirmed
    again = await begin(admin_client)
    assert again["secret"] is None
    assert again["userErrors"][0]["code"] == "BAD_USER_INPUT"
    # And confirming twice is refused too
    twice = (await admin_client(CONFIRM, {"code": pyotp.TOTP(secret).now()})).ok()
    assert twice["confirmTotpEnrollment"]["userErrors"][0]["code"] == "BAD_USER_INPUT"


async def test_confirming_without_beginning_is_a_user_error(basic_client: GraphQLClient) -> None:
    result = (await basic_client(CONFIRM, {"code": "123456"})).ok()["confirmTotpEnrollment"]
    assert result["recoveryCodes"] is None
    assert result["userErrors"][0]["code"] == "BAD_USER_INPUT"
    assert "beginTotpEnrollment" in result["userErrors"][0]["message"]


async def test_login_asks_for_the_code_once_enrolled_and_refuses_a_replayed_code(
    admin_client: GraphQLClient, anonymous_client: GraphQLClient
) -> None:
    # Given an enrolled admin
    secret, _ = await enroll(admin_client)
    # When they sign in without a code, Then the code is asked for
    missing = await login(anonymous_client)
    assert missing["accessToken"] is None
    assert missing["userErrors"][0]["field"] == "totp"
    # When they sign in with the current code, Then it works
    code = pyotp.TOTP(secret).now()
    assert (await login(anonymous_client, totp=code))["userErrors"] == []
    # When the same code is replayed, Then it is refused
    replay = await login(anonymous_client, totp=code)
    assert replay["accessToken"] is None
    assert replay["userErrors"][0] == {
        "field": "totp",
        "code": "UNAUTHENTICATED",
        "message": "The authenticator code is incorrect.",
    }


async def test_a_recovery_code_signs_in_once(
    admin_client: GraphQLClient, anonymous_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # Given an enrolled admin and their recovery codes
    _, codes = await enroll(admin_client)
    # When one is used (typed in capitals), Then the sign-in works and the code is spent
    first = await login(anonymous_client, recovery_code=codes[0].upper())
    assert first["userErrors"] == []
    assert first["accessToken"]
    used = await db.scalar(
        sa.select(sa.func.count())
        .select_from(RecoveryCode)
        .where(
            col(RecoveryCode.user_id) == world.acme_admin.id, col(RecoveryCode.used_at).isnot(None)
        )
    )
    assert used == 1
    # When the same code is used again, Then it is refused
    again = await login(anonymous_client, recovery_code=codes[0])
    assert again["accessToken"] is None
    assert again["userErrors"][0]["field"] == "recoveryCode"
    # And an unknown code is refused and counts as a failure
    unknown = await login(anonymous_client, recovery_code="aaaa-bbbb-cccc")
    assert unknown["accessToken"] is None
    user = await db.get(PortalUser, world.acme_admin.id, populate_existing=True)
    assert user is not None
    assert user.failed_login_count == 2
    # And another code of the set still works
    assert (await login(anonymous_client, recovery_code=codes[1]))["userErrors"] == []


async def test_another_persons_recovery_code_does_not_work(
    admin_client: GraphQLClient, basic_client: GraphQLClient, anonymous_client: GraphQLClient
) -> None:
    await enroll(admin_client)
    _, basic_codes = await enroll(basic_client)
    result = await login(anonymous_client, recovery_code=basic_codes[0])
    assert result["accessToken"] is None


async def test_regenerating_replaces_the_recovery_codes(
    admin_client: GraphQLClient, anonymous_client: GraphQLClient
) -> None:
    # Given an enrolled admin
    secret, old_codes = await enroll(admin_client)
    # When regenerating with a wrong code, Then it is a user error
    wrong = (await admin_client(REGENERATE, {"code": wrong_code(secret)})).ok()
    assert wrong["regenerateRecoveryCodes"]["userErrors"][0]["field"] == "code"
    # When regenerating with the current code
    result = (await admin_client(REGENERATE, {"code": pyotp.TOTP(secret).now()})).ok()
    new_codes = result["regenerateRecoveryCodes"]["recoveryCodes"]
    # Then ten new codes replace the old ones
    assert len(new_codes) == 10
    assert not set(new_codes) & set(old_codes)
    assert (await login(anonymous_client, recovery_code=old_codes[0]))["accessToken"] is None
    assert (await login(anonymous_client, recovery_code=new_codes[0]))["accessToken"]


async def test_regenerating_without_a_factor_is_a_user_error(basic_client: GraphQLClient) -> None:
    result = (await basic_client(REGENERATE, {"code": "123456"})).ok()
    assert result["regenerateRecoveryCodes"]["userErrors"][0]["code"] == "BAD_USER_INPUT"


async def test_disabling_needs_the_password(
    basic_client: GraphQLClient, anonymous_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # Given an enrolled Basic user
    await enroll(basic_client)
    # When disabling with a wrong password, Then it is a user error and the factor stays
    wrong = (await basic_client(DISABLE, {"password": "not my password at all"})).ok()
    assert wrong["disableTotp"]["userErrors"][0]["field"] == "password"
    assert (await login(anonymous_client, "basic@acme.example"))["accessToken"] is None
    # When disabling with the password
    assert (await basic_client(DISABLE, {"password": PASSWORD})).ok()["disableTotp"][
        "userErrors"
    ] == []
    # Then the secret and the recovery codes are gone and login needs no code
    user = await db.get(PortalUser, world.acme_basic.id, populate_existing=True)
    assert user is not None
    assert (user.totp_secret, user.totp_confirmed_at) == (None, None)
    remaining = await db.scalar(
        sa.select(sa.func.count())
        .select_from(RecoveryCode)
        .where(col(RecoveryCode.user_id) == world.acme_basic.id)
    )
    assert remaining == 0
    assert (await login(anonymous_client, "basic@acme.example"))["userErrors"] == []


async def test_disabling_without_a_factor_is_a_user_error(basic_client: GraphQLClient) -> None:
    result = (await basic_client(DISABLE, {"password": PASSWORD})).ok()
    assert result["disableTotp"]["userErrors"][0]["code"] == "BAD_USER_INPUT"


async def test_disabling_is_refused_when_mfa_is_mandatory_for_the_person(
    admin_client: GraphQLClient,
    basic_client: GraphQLClient,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    db: AsyncSession,
    world: World,
) -> None:
    # Given enrolled admin and Basic users, and MFA mandatory for admins
    await enroll(admin_client)
    await enroll(basic_client)
    monkeypatch.setattr(settings, "require_mfa_for_admins", True)
    # When the admin disables, Then it is refused and the factor stays
    refused = (await admin_client(DISABLE, {"password": PASSWORD})).ok()["disableTotp"]
    assert refused["userErrors"][0]["code"] == "FORBIDDEN"
    user = await db.get(PortalUser, world.acme_admin.id, populate_existing=True)
    assert user is not None
    assert user.totp_confirmed_at is not None
    # But a Basic user, for whom it is not mandatory, may
    allowed = (await basic_client(DISABLE, {"password": PASSWORD})).ok()["disableTotp"]
    assert allowed["userErrors"] == []


async def test_staff_enrol_and_sign_in_with_a_code(
    staff_client: GraphQLClient, anonymous_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    _, codes = await enroll(staff_client)
    staff = await db.get(StaffUser, world.staff.id, populate_existing=True)
    assert staff is not None
    assert staff.totp_confirmed_at is not None
    assert (await login(anonymous_client, "support@portal.example"))["accessToken"] is None
    assert (await login(anonymous_client, "support@portal.example", recovery_code=codes[0]))[
        "accessToken"
    ]


async def test_enrolment_is_audited(admin_client: GraphQLClient, db: AsyncSession) -> None:
    await enroll(admin_client)
    actions = (
        await db.scalars(
            sa.select(col(AuditEvent.action)).where(col(AuditEvent.action).like("mfa.%"))
        )
    ).all()
    assert sorted(actions) == ["mfa.enrolled", "mfa.enrollment_started"]


@pytest.mark.parametrize("mutation", [BEGIN, CONFIRM, REGENERATE, DISABLE])
async def test_anonymous_callers_and_api_clients_cannot_enrol(
    mutation: str,
    anonymous_client: GraphQLClient,
    api_client: GraphQLClient,
) -> None:
    variables = {"code": "123456", "password": PASSWORD}
    used = {k: v for k, v in variables.items() if f"${k}" in mutation}
    assert_unauthenticated(await anonymous_client(mutation, used))
    assert_forbidden(await api_client(mutation, used))


async def test_viewer_says_whether_a_factor_is_enabled(admin_client: GraphQLClient) -> None:
    query = "{ viewer { secondFactorEnabled mfaEnrollmentRequired } }"
    before = (await admin_client(query)).ok()["viewer"]
    assert before == {"secondFactorEnabled": False, "mfaEnrollmentRequired": False}
    await enroll(admin_client)
    after = (await admin_client(query)).ok()["viewer"]
    assert after == {"secondFactorEnabled": True, "mfaEnrollmentRequired": False}


async def test_the_confirmed_factor_timestamp_is_recent(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    await enroll(admin_client)
    user = await db.get(PortalUser, world.acme_admin.id, populate_existing=True)
    assert user is not None
    assert user.totp_confirmed_at is not None
    assert (datetime.now(UTC) - user.totp_confirmed_at).total_seconds() < 60
