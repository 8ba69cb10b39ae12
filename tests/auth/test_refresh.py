"""`refreshSession`, `logout`, `logoutEverywhere`: rotation, reuse, idle and absolute expiry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import AuthSession, PortalUser
from portal.models.enums import UserStatus
from tests.support.graphql import GraphQLClient
from tests.support.world import PASSWORD, World

LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(input: {email: $email, password: $password}) {
    accessToken refreshToken expiresIn userErrors { field code message }
  }
}
"""
REFRESH = """
mutation Refresh($token: String!) {
  refreshSession(input: {refreshToken: $token}) {
    accessToken refreshToken expiresIn userErrors { field code message }
  }
}
"""


async def login(client: GraphQLClient, email: str = "admin@acme.example") -> dict[str, Any]:
    result: dict[str, Any] = (await client(LOGIN, {"email": email, "password": PASSWORD})).ok()[
        "login"
    ]
    assert result["userErrors"] == [], result
    return result


async def refresh(client: GraphQLClient, token: str) -> dict[str, Any]:
    result: dict[str, Any] = (await client(REFRESH, {"token": token})).ok()["refreshSession"]
    return result


async def works(client: GraphQLClient, access_token: str) -> bool:
    response = await GraphQLClient(client.http, access_token)("{ viewer { email } }")
    return response.status_code == 200 and not response.errors and response.data["viewer"]


def refused(result: dict[str, Any]) -> bool:
    return (
        result["accessToken"] is None
        and result["refreshToken"] is None
        and [error["code"] for error in result["userErrors"]] == ["UNAUTHENTICATED"]
    )


async def _sessions(db: AsyncSession) -> list[AuthSession]:
    return list((await db.execute(sa.select(AuthSession))).scalars().all())


async def test_refresh_rotates(anonymous_client: GraphQLClient) -> None:
    first = await login(anonymous_client)
    second = await refresh(anonymous_client, first["refreshToken"])
    assert second["userErrors"] == []
    assert second["refreshToken"] != first["refreshToken"]
    assert second["expiresIn"] == 15 * 60
    assert await works(anonymous_client, second["accessToken"])
    third = await refresh(anonymous_client, second["refreshToken"])
    assert third["userErrors"] == []


async def test_reusing_a_spent_token_revokes_the_family(
    anonymous_client: GraphQLClient, db: AsyncSession
) -> None:
    first = await login(anonymous_client)
    second = await refresh(anonymous_client, first["refreshToken"])
    assert second["userErrors"] == []
    # The spent token again: refused, and the whole session ends.
    assert refused(await refresh(anonymous_client, first["refreshToken"]))
    assert refused(await refresh(anonymous_client, second["refreshToken"]))
    assert not await works(anonymous_client, second["accessToken"])
    [session] = await _sessions(db)
    assert session.revoked_reason == "refresh_token_reuse"


async def test_unknown_refresh_token_is_refused(anonymous_client: GraphQLClient) -> None:
    assert refused(await refresh(anonymous_client, "not-a-token"))


async def test_idle_session_cannot_refresh(
    anonymous_client: GraphQLClient, db: AsyncSession
) -> None:
    first = await login(anonymous_client)
    await db.execute(
        sa.update(AuthSession).values(last_used_at=datetime.now(UTC) - timedelta(minutes=16))
    )
    await db.commit()
    assert refused(await refresh(anonymous_client, first["refreshToken"]))


async def test_recently_used_session_still_refreshes(
    anonymous_client: GraphQLClient, db: AsyncSession
) -> None:
    first = await login(anonymous_client)
    await db.execute(
        sa.update(AuthSession).values(last_used_at=datetime.now(UTC) - timedelta(minutes=14))
    )
    await db.commit()
    assert (await refresh(anonymous_client, first["refreshToken"]))["userErrors"] == []


async def test_absolute_lifetime_ends_the_session(
    anonymous_client: GraphQLClient, db: AsyncSession
) -> None:
    first = await login(anonymous_client)
    [session] = await _sessions(db)
    assert session.absolute_expires_at - session.created_at == timedelta(hours=12)
    await db.execute(
        sa.update(AuthSession).values(absolute_expires_at=datetime.now(UTC) - timedelta(seconds=1))
    )
    await db.commit()
    assert refused(await refresh(anonymous_client, first["refreshToken"]))
    assert not await works(anonymous_client, first["accessToken"])


async def test_logout_ends_refresh_and_access(anonymous_client: GraphQLClient) -> None:
    tokens = await login(anonymous_client)
    other = await login(anonymous_client)
    signed_in = GraphQLClient(anonymous_client.http, tokens["accessToken"])
    result = (await signed_in("mutation { logout { userErrors { code } } }")).ok()
    assert result["logout"]["userErrors"] == []
    assert not await works(anonymous_client, tokens["accessToken"])
    assert refused(await refresh(anonymous_client, tokens["refreshToken"]))
    # Only that session: the other one still works.
    assert await works(anonymous_client, other["accessToken"])
    assert (await refresh(anonymous_client, other["refreshToken"]))["userErrors"] == []


async def test_logout_needs_a_signed_in_caller(anonymous_client: GraphQLClient) -> None:
    response = await anonymous_client("mutation { logout { userErrors { code } } }")
    assert "UNAUTHENTICATED" in response.error_codes()


async def test_logout_everywhere_ends_every_session(
    anonymous_client: GraphQLClient, db: AsyncSession
) -> None:
    sessions = [await login(anonymous_client) for _ in range(3)]
    someone_else = await login(anonymous_client, "basic@acme.example")
    signed_in = GraphQLClient(anonymous_client.http, sessions[0]["accessToken"])
    result = (
        await signed_in("mutation { logoutEverywhere { sessionsEnded userErrors { code } } }")
    ).ok()
    assert result["logoutEverywhere"] == {"sessionsEnded": 3, "userErrors": []}
    for tokens in sessions:
        assert not await works(anonymous_client, tokens["accessToken"])
        assert refused(await refresh(anonymous_client, tokens["refreshToken"]))
    assert await works(anonymous_client, someone_else["accessToken"])


async def test_deactivated_user_cannot_refresh(
    anonymous_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    tokens = await login(anonymous_client, "basic@acme.example")
    await db.execute(
        sa.update(PortalUser)
        .where(PortalUser.id == world.acme_basic.id)  # type: ignore[arg-type]
        .values(status=UserStatus.DEACTIVATED, deactivated_at=datetime.now(UTC))
    )
    await db.commit()
    assert refused(await refresh(anonymous_client, tokens["refreshToken"]))
    assert not await works(anonymous_client, tokens["accessToken"])


async def test_portal_token_without_session_still_works(admin_client: GraphQLClient) -> None:
    response = await admin_client("{ viewer { email } }")
    assert response.ok()["viewer"]["email"] == "admin@acme.example"
    result = (await admin_client("mutation { logout { userErrors { code } } }")).ok()
    assert [error["code"] for error in result["logout"]["userErrors"]] == ["BAD_USER_INPUT"]
