"""`requestPasswordReset` and `resetPassword` end to end; links come from a real SMTP server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from portal.models import AuditEvent, OneTimeToken, OutboxMessage, PortalUser
from portal.settings import Settings
from tests.support.accounts import deliver_mail, login, refresh, viewer_email
from tests.support.graphql import GraphQLClient
from tests.support.mail import Inbox, body_of, token_in
from tests.support.world import PASSWORD, World

REQUEST = """
mutation Request($email: String!) {
  requestPasswordReset(input: {email: $email}) { userErrors { field code message } }
}
"""
RESET = """
mutation Reset($token: String!, $password: String!) {
  resetPassword(input: {token: $token, password: $password}) {
    userErrors { field code message }
  }
}
"""
NEW_PASSWORD = "quiet lantern over the harbor"
ADMIN = "admin@acme.example"


async def request_reset(client: GraphQLClient, email: str) -> dict[str, Any]:
    data = (await client(REQUEST, {"email": email})).ok()
    result: dict[str, Any] = data["requestPasswordReset"]
    return result


async def reset(client: GraphQLClient, token: str, password: str) -> list[dict[str, Any]]:
    data = (await client(RESET, {"token": token, "password": password})).ok()
    errors: list[dict[str, Any]] = data["resetPassword"]["userErrors"]
    return errors


async def emailed_token(
    client: GraphQLClient,
    email: str,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
) -> str:
    assert await request_reset(client, email) == {"userErrors": []}
    assert await deliver_mail(sessionmaker, mail_settings) == 1
    return token_in(inbox.to(email)[-1])


async def test_the_whole_reset_flow(
    anonymous_client: GraphQLClient,
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
    world: World,
) -> None:
    # Given a person who forgot the password asks for a reset link
    assert await request_reset(anonymous_client, "  Admin@ACME.example ") == {"userErrors": []}
    # When the outbox worker delivers the email
    assert await deliver_mail(sessionmaker, mail_settings) == 1
    # Then it holds a single-use link to the reset page, and no PHI
    [message] = inbox.to(ADMIN)
    body = body_of(message)
    assert f"{mail_settings.public_url}/reset-password#token=" in body
    assert "20 minutes" in body
    token = token_in(message)
    # And only the token's SHA-256 is stored, expiring after 20 minutes
    [stored] = (await db.execute(sa.select(OneTimeToken))).scalars().all()
    assert stored.token_hash != token
    assert len(stored.token_hash) == 64
    assert stored.expires_at - stored.created_at == timedelta(minutes=20)
    assert stored.user_id == world.acme_admin.id
    # When the token sets a new password
    assert await reset(anonymous_client, token, NEW_PASSWORD) == []
    # Then the new password signs in and the old one no longer does
    assert (await login(anonymous_client, ADMIN, NEW_PASSWORD))["userErrors"] == []
    assert (await login(anonymous_client, ADMIN, PASSWORD))["userErrors"][0]["code"] == (
        "UNAUTHENTICATED"
    )
    # And the request and the reset are audited
    actions = (
        await db.execute(
            sa.select(col(AuditEvent.action)).where(col(AuditEvent.action).like("password%"))
        )
    ).scalars()
    assert set(actions) == {"password_reset.requested", "password.reset"}


async def test_the_link_works_once(
    anonymous_client: GraphQLClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
) -> None:
    token = await emailed_token(anonymous_client, ADMIN, sessionmaker, mail_settings, inbox)
    assert await reset(anonymous_client, token, NEW_PASSWORD) == []
    # When the same link is used again
    errors = await reset(anonymous_client, token, "another fine passphrase here")
    # Then it is refused, and the first new password stays
    assert [(e["field"], e["code"]) for e in errors] == [("token", "INVALID_TOKEN")]
    assert (await login(anonymous_client, ADMIN, NEW_PASSWORD))["userErrors"] == []


async def test_an_expired_link_is_refused(
    anonymous_client: GraphQLClient,
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
) -> None:
    token = await emailed_token(anonymous_client, ADMIN, sessionmaker, mail_settings, inbox)
    # Given the link's 20 minutes have passed
    past = datetime.now(UTC) - timedelta(minutes=21)
    await db.execute(
        sa.update(OneTimeToken).values(created_at=past - timedelta(minutes=20), expires_at=past)
    )
    await db.commit()
    # Then it no longer sets a password
    errors = await reset(anonymous_client, token, NEW_PASSWORD)
    assert [e["code"] for e in errors] == ["INVALID_TOKEN"]
    assert (await login(anonymous_client, ADMIN, PASSWORD))["userErrors"] == []


async def test_unknown_and_made_up_tokens_are_refused(anonymous_client: GraphQLClient) -> None:
    for token in ("", "not-a-token", "x" * 300):
        errors = await reset(anonymous_client, token, NEW_PASSWORD)
        assert [e["code"] for e in errors] == ["INVALID_TOKEN"]


async def test_a_new_link_invalidates_the_earlier_one(
    anonymous_client: GraphQLClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
) -> None:
    first = await emailed_token(anonymous_client, ADMIN, sessionmaker, mail_settings, inbox)
    second = await emailed_token(anonymous_client, ADMIN, sessionmaker, mail_settings, inbox)
    assert first != second
    assert [e["code"] for e in await reset(anonymous_client, first, NEW_PASSWORD)] == [
        "INVALID_TOKEN"
    ]
    assert await reset(anonymous_client, second, NEW_PASSWORD) == []


async def test_unknown_and_inactive_emails_get_the_same_answer_and_nothing_is_sent(
    anonymous_client: GraphQLClient,
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
) -> None:
    # When a reset is asked for an existing, an unknown and a deactivated login
    existing = await anonymous_client(REQUEST, {"email": ADMIN})
    unknown = await anonymous_client(REQUEST, {"email": "nobody@acme.example"})
    deactivated = await anonymous_client(REQUEST, {"email": "gone@acme.example"})
    # Then the three answers are identical
    assert existing.body == unknown.body == deactivated.body
    assert existing.status_code == unknown.status_code == deactivated.status_code == 200
    # And only the existing login gets an email
    assert await deliver_mail(sessionmaker, mail_settings) == 1
    assert [m["To"] for m in inbox.messages] == [ADMIN]
    assert len((await db.execute(sa.select(OutboxMessage))).scalars().all()) == 1
    assert len((await db.execute(sa.select(OneTimeToken))).scalars().all()) == 1


async def test_reset_ends_every_session(
    anonymous_client: GraphQLClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
) -> None:
    # Given two signed-in sessions
    first = await login(anonymous_client, ADMIN, PASSWORD)
    second = await login(anonymous_client, ADMIN, PASSWORD)
    assert await viewer_email(anonymous_client, first["accessToken"]) == ADMIN
    # When the password is reset
    token = await emailed_token(anonymous_client, ADMIN, sessionmaker, mail_settings, inbox)
    assert await reset(anonymous_client, token, NEW_PASSWORD) == []
    # Then no old refresh token refreshes, and no old access token is accepted
    for tokens in (first, second):
        assert (await refresh(anonymous_client, tokens["refreshToken"]))["userErrors"][0][
            "code"
        ] == "UNAUTHENTICATED"
        assert await viewer_email(anonymous_client, tokens["accessToken"]) is None


async def test_reset_clears_the_lockout(
    anonymous_client: GraphQLClient,
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
    world: World,
) -> None:
    # Given a locked account
    await db.execute(
        sa.update(PortalUser)
        .where(col(PortalUser.id) == world.acme_admin.id)
        .values(failed_login_count=5, locked_until=datetime.now(UTC) + timedelta(hours=1))
    )
    await db.commit()
    assert (await login(anonymous_client, ADMIN, PASSWORD))["userErrors"][0]["code"] == (
        "UNAUTHENTICATED"
    )
    # When its owner resets the password by email
    token = await emailed_token(anonymous_client, ADMIN, sessionmaker, mail_settings, inbox)
    assert await reset(anonymous_client, token, NEW_PASSWORD) == []
    # Then the account signs in again
    assert (await login(anonymous_client, ADMIN, NEW_PASSWORD))["userErrors"] == []


async def test_a_refused_password_leaves_the_link_usable(
    anonymous_client: GraphQLClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
) -> None:
    token = await emailed_token(anonymous_client, ADMIN, sessionmaker, mail_settings, inbox)
    # When the new password breaks the policy, the answer says why
    errors = await reset(anonymous_client, token, "short one")
    assert [(e["field"], e["code"]) for e in errors] == [("password", "PASSWORD_TOO_SHORT")]
    assert "at least 15 characters" in errors[0]["message"]
    errors = await reset(anonymous_client, token, "the acme admin portal key")
    assert [e["code"] for e in errors] == ["PASSWORD_CONTAINS_EMAIL"]
    # And the link still works for a good one
    assert await reset(anonymous_client, token, NEW_PASSWORD) == []


async def test_staff_can_reset_too(
    anonymous_client: GraphQLClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
) -> None:
    staff = "support@portal.example"
    token = await emailed_token(anonymous_client, staff, sessionmaker, mail_settings, inbox)
    assert await reset(anonymous_client, token, NEW_PASSWORD) == []
    assert (await login(anonymous_client, staff, NEW_PASSWORD))["userErrors"] == []


async def test_reset_emails_to_one_person_are_capped_per_hour(
    anonymous_client: GraphQLClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
) -> None:
    # When someone asks five times for the same login
    for _ in range(5):
        assert await request_reset(anonymous_client, ADMIN) == {"userErrors": []}
    # Then the answer never changed, but only three emails went out
    assert await deliver_mail(sessionmaker, mail_settings) == 3


async def test_requests_from_one_address_are_throttled(
    anonymous_client: GraphQLClient, settings: Settings
) -> None:
    # When one address asks for more resets than allowed in the window (any emails)
    for n in range(settings.password_reset_ip_max_requests):
        assert await request_reset(anonymous_client, f"someone{n}@nowhere.example") == {
            "userErrors": []
        }
    throttled = await request_reset(anonymous_client, ADMIN)
    # Then it is told to wait, whatever the email
    assert [e["code"] for e in throttled["userErrors"]] == ["RATE_LIMITED"]
