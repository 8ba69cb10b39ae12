"""`login`: credentials, one generic error, lockout (also via aliases), IP throttling, TOTP."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import AuthSession, LoginLockout, PortalUser, RefreshToken
from portal.settings import Settings
from tests.support.graphql import GraphQLClient
from tests.support.world import PASSWORD, World

LOGIN = """
mutation Login($email: String!, $password: String!, $totp: String) {
  login(input: {email: $email, password: $password, totp: $totp}) {
    accessToken refreshToken expiresIn userErrors { field code message }
  }
}
"""
GENERIC = {"field": None, "code": "UNAUTHENTICATED", "message": "Email or password is incorrect."}


async def login(
    client: GraphQLClient, email: str, password: str, totp: str | None = None
) -> dict[str, Any]:
    data = (await client(LOGIN, {"email": email, "password": password, "totp": totp})).ok()
    result: dict[str, Any] = data["login"]
    return result


async def viewer_email(client: GraphQLClient, token: str) -> str | None:
    response = await GraphQLClient(client.http, token)("{ viewer { email } }")
    if response.status_code != 200 or response.errors:
        return None
    email: str = response.data["viewer"]["email"]
    return email


async def test_login_returns_working_tokens(
    anonymous_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    result = await login(anonymous_client, "admin@acme.example", PASSWORD)
    assert result["userErrors"] == []
    assert result["expiresIn"] == 15 * 60
    assert await viewer_email(anonymous_client, result["accessToken"]) == "admin@acme.example"
    # The refresh token is stored only as its hash.
    stored = (await db.execute(sa.select(col(RefreshToken.token_hash)))).scalars().all()
    assert result["refreshToken"] not in stored
    assert len(stored) == 1
    assert len(stored[0]) == 64
    user = await db.get(PortalUser, world.acme_admin.id, populate_existing=True)
    assert user is not None
    assert user.last_login_at is not None


async def test_staff_can_log_in(anonymous_client: GraphQLClient) -> None:
    result = await login(anonymous_client, "support@portal.example", PASSWORD)
    assert result["userErrors"] == []
    assert await viewer_email(anonymous_client, result["accessToken"]) == "support@portal.example"


async def test_email_is_case_insensitive(anonymous_client: GraphQLClient) -> None:
    result = await login(anonymous_client, "  Admin@ACME.Example ", PASSWORD)
    assert result["userErrors"] == []
    assert await viewer_email(anonymous_client, result["accessToken"]) == "admin@acme.example"


async def test_unknown_email_and_wrong_password_answer_alike(
    anonymous_client: GraphQLClient,
) -> None:
    unknown = await login(anonymous_client, "nobody@acme.example", PASSWORD)
    wrong = await login(anonymous_client, "admin@acme.example", "not the password at all")
    deactivated = await login(anonymous_client, "gone@acme.example", PASSWORD)
    for result in (unknown, wrong, deactivated):
        assert result["accessToken"] is None
        assert result["refreshToken"] is None
        assert result["userErrors"] == [GENERIC]


async def test_lockout_after_repeated_failures(
    anonymous_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    for _ in range(5):
        result = await login(anonymous_client, "basic@acme.example", "wrong password guess")
        assert result["userErrors"] == [GENERIC]
    right = await login(anonymous_client, "basic@acme.example", PASSWORD)
    wrong = await login(anonymous_client, "basic@acme.example", "wrong password guess")
    # Locked for this address: the same answer whether the password was right or not, and the
    # same as for an unknown email (see tests/security/test_enumeration_and_targeted_lockout.py).
    assert right["accessToken"] is None
    assert right["userErrors"] == wrong["userErrors"] == [GENERIC]
    locked_until = await db.scalar(
        sa.select(col(LoginLockout.locked_until)).where(
            col(LoginLockout.subject_id) == world.acme_basic.id
        )
    )
    assert locked_until is not None
    assert locked_until > datetime.now(UTC)
    # Other accounts are not affected.
    assert (await login(anonymous_client, "admin@acme.example", PASSWORD))["userErrors"] == []


async def test_success_resets_the_failure_count(
    anonymous_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    for _ in range(4):
        await login(anonymous_client, "basic@acme.example", "wrong password guess")
    assert (await login(anonymous_client, "basic@acme.example", PASSWORD))["userErrors"] == []
    user = await db.get(PortalUser, world.acme_basic.id, populate_existing=True)
    assert user is not None
    assert user.failed_login_count == 0
    for _ in range(4):
        await login(anonymous_client, "basic@acme.example", "wrong password guess")
    assert (await login(anonymous_client, "basic@acme.example", PASSWORD))["userErrors"] == []


async def test_aliases_count_one_by_one(anonymous_client: GraphQLClient) -> None:
    fields = "\n".join(
        f'a{n}: login(input: {{email: "basic@acme.example", password: "guess {n}"}}) '
        "{ accessToken userErrors { code } }"
        for n in range(7)
    )
    data = (await anonymous_client(f"mutation {{ {fields} }}")).ok()
    codes = [data[f"a{n}"]["userErrors"][0]["code"] for n in range(7)]
    assert codes == ["UNAUTHENTICATED"] * 7
    result = await login(anonymous_client, "basic@acme.example", PASSWORD)
    assert result["accessToken"] is None
    assert result["userErrors"] == [GENERIC]


async def test_failures_from_one_ip_are_throttled(
    anonymous_client: GraphQLClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settings, "login_ip_max_failures", 3)
    for n in range(3):
        await login(anonymous_client, f"nobody{n}@acme.example", "guess")
    result = await login(anonymous_client, "admin@acme.example", PASSWORD)
    assert result["accessToken"] is None
    assert result["userErrors"][0]["code"] == "RATE_LIMITED"


async def test_enrolled_totp_is_required(
    anonymous_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    secret = pyotp.random_base32()
    await db.execute(
        sa.update(PortalUser)
        .where(PortalUser.id == world.acme_basic.id)  # type: ignore[arg-type]
        .values(totp_secret=secret, totp_confirmed_at=datetime.now(UTC))
    )
    await db.commit()
    missing = await login(anonymous_client, "basic@acme.example", PASSWORD)
    assert missing["accessToken"] is None
    assert missing["userErrors"][0]["field"] == "totp"
    assert missing["userErrors"][0]["code"] == "TOTP_REQUIRED"
    wrong_code = "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"
    wrong = await login(anonymous_client, "basic@acme.example", PASSWORD, wrong_code)
    assert wrong["accessToken"] is None
    assert wrong["userErrors"][0]["code"] == "UNAUTHENTICATED"
    good = await login(anonymous_client, "basic@acme.example", PASSWORD, pyotp.TOTP(secret).now())
    assert good["userErrors"] == []
    assert await viewer_email(anonymous_client, good["accessToken"]) == "basic@acme.example"


async def test_login_creates_a_session(
    anonymous_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    await login(anonymous_client, "admin@acme.example", PASSWORD)
    rows = (await db.execute(sa.select(AuthSession))).scalars().all()
    assert [(row.user_id, row.revoked_at) for row in rows] == [(world.acme_admin.id, None)]


async def test_logins_and_failures_are_audited(
    anonymous_client: GraphQLClient, staff_client: GraphQLClient
) -> None:
    login = (
        "mutation ($p: String!) "
        '{ login(input: {email: "Admin@Acme.example", password: $p}) { accessToken } }'
    )
    await anonymous_client(login, {"p": "wrong password, certainly"})
    await anonymous_client(login, {"p": PASSWORD})
    events = (
        await staff_client(
            "{ auditEvents(first: 10) { nodes { action result actorLabel ipAddress } } }"
        )
    ).ok()["auditEvents"]["nodes"]
    logins = [e for e in events if e["action"].startswith("login.")]
    assert [e["action"] for e in logins] == ["login.succeeded", "login.failed"]
    assert {e["actorLabel"] for e in logins} == {"admin@acme.example"}
    assert [e["result"] for e in logins] == ["ALLOWED", "DENIED"]
