"""`changePassword`: the current password, the policy (each refusal), the other sessions end."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import PortalUser
from tests.support.accounts import login, refresh, viewer_email
from tests.support.graphql import GraphQLClient, assert_forbidden, assert_unauthenticated
from tests.support.world import PASSWORD, World

CHANGE = """
mutation Change($current: String!, $new: String!) {
  changePassword(input: {currentPassword: $current, newPassword: $new}) {
    otherSessionsEnded userErrors { field code message }
  }
}
"""
ADMIN = "admin@acme.example"
NEW_PASSWORD = "seven copper kettles singing"


async def change(client: GraphQLClient, current: str, new: str) -> dict[str, Any]:
    result: dict[str, Any] = (await client(CHANGE, {"current": current, "new": new})).ok()[
        "changePassword"
    ]
    return result


async def signed_in(client: GraphQLClient, email: str = ADMIN) -> tuple[GraphQLClient, Any]:
    tokens = await login(client, email, PASSWORD)
    assert tokens["userErrors"] == []
    return GraphQLClient(client.http, tokens["accessToken"]), tokens


async def test_change_keeps_this_session_and_ends_the_others(
    anonymous_client: GraphQLClient,
) -> None:
    # Given the same person signed in twice
    this, this_tokens = await signed_in(anonymous_client)
    _, other_tokens = await signed_in(anonymous_client)
    # When they change the password in one session
    result = await change(this, PASSWORD, NEW_PASSWORD)
    # Then only the other session ended
    assert result == {"otherSessionsEnded": 1, "userErrors": []}
    assert await viewer_email(anonymous_client, this_tokens["accessToken"]) == ADMIN
    assert (await refresh(anonymous_client, this_tokens["refreshToken"]))["userErrors"] == []
    assert await viewer_email(anonymous_client, other_tokens["accessToken"]) is None
    assert (await refresh(anonymous_client, other_tokens["refreshToken"]))["userErrors"]
    # And the new password is the one that signs in
    assert (await login(anonymous_client, ADMIN, NEW_PASSWORD))["userErrors"] == []
    assert (await login(anonymous_client, ADMIN, PASSWORD))["userErrors"]


async def test_a_wrong_current_password_is_refused_and_counts_toward_lockout(
    anonymous_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    this, _ = await signed_in(anonymous_client)
    result = await change(this, "not my password at all", NEW_PASSWORD)
    assert result["otherSessionsEnded"] == 0
    assert [(e["field"], e["code"]) for e in result["userErrors"]] == [
        ("currentPassword", "INCORRECT_PASSWORD")
    ]
    user = await db.get(PortalUser, world.acme_admin.id, populate_existing=True)
    assert user is not None
    assert user.failed_login_count == 1
    # And the password did not change
    assert (await login(anonymous_client, ADMIN, PASSWORD))["userErrors"] == []


async def test_the_lockout_applies_to_password_changes(
    anonymous_client: GraphQLClient, settings: Any
) -> None:
    this, _ = await signed_in(anonymous_client)
    for _ in range(settings.login_lockout_threshold):
        await change(this, "not my password at all", NEW_PASSWORD)
    # Once locked, even the right current password is refused
    result = await change(this, PASSWORD, NEW_PASSWORD)
    assert [e["code"] for e in result["userErrors"]] == ["RATE_LIMITED"]


@pytest.mark.parametrize(
    ("new_password", "code", "says"),
    [
        ("fourteen chars", "PASSWORD_TOO_SHORT", "at least 15 characters"),
        ("a" * 100 + " long walks " * 20, "PASSWORD_TOO_LONG", "at most 256"),
        ("1qaz2wsx3edc4rfv", "PASSWORD_BREACHED", "data breaches"),
        ("abcdefghijklmnopqrstu", "PASSWORD_TOO_COMMON", "too easy to guess"),
        ("my ADMIN password is long", "PASSWORD_CONTAINS_EMAIL", "email"),
        ("long live the portal of ours", "PASSWORD_CONTAINS_PRODUCT_NAME", "product"),
        ("Employer Health is my life", "PASSWORD_CONTAINS_PRODUCT_NAME", "product"),
    ],
)
async def test_each_policy_refusal_says_why(
    anonymous_client: GraphQLClient, new_password: str, code: str, says: str
) -> None:
    this, _ = await signed_in(anonymous_client)
    result = await change(this, PASSWORD, new_password)
    [error] = result["userErrors"]
    assert (error["field"], error["code"]) == ("newPassword", code)
    assert says in error["message"]
    assert (await login(anonymous_client, ADMIN, PASSWORD))["userErrors"] == []


async def test_a_second_factor_allows_eight_characters(
    anonymous_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # Given a person without a second factor, 8 characters are too few
    this, _ = await signed_in(anonymous_client, "basic@acme.example")
    refused = await change(this, PASSWORD, "qk7vz2mw")
    assert [e["code"] for e in refused["userErrors"]] == ["PASSWORD_TOO_SHORT"]
    # When the person has a confirmed second factor
    await db.execute(
        sa.update(PortalUser)
        .where(col(PortalUser.id) == world.acme_basic.id)
        .values(totp_secret="JBSWY3DPEHPK3PXP", totp_confirmed_at=datetime.now(UTC))
    )
    await db.commit()
    # Then 8 characters are enough, but 7 are not
    short = await change(this, PASSWORD, "qk7vz2m")
    assert [e["code"] for e in short["userErrors"]] == ["PASSWORD_TOO_SHORT"]
    assert (await change(this, PASSWORD, "qk7vz2mw"))["userErrors"] == []


async def test_api_clients_and_anonymous_callers_cannot_change_passwords(
    api_client: GraphQLClient, anonymous_client: GraphQLClient
) -> None:
    variables = {"current": PASSWORD, "new": NEW_PASSWORD}
    assert_forbidden(await api_client(CHANGE, variables))
    assert_unauthenticated(await anonymous_client(CHANGE, variables))
