"""GraphQL steps shared by the sign-in, password and invitation tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.mail import deliver_due
from portal.settings import Settings
from tests.support.graphql import GraphQLClient

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
    accessToken refreshToken userErrors { field code message }
  }
}
"""


async def login(client: GraphQLClient, email: str, password: str) -> dict[str, Any]:
    data = (await client(LOGIN, {"email": email, "password": password})).ok()
    result: dict[str, Any] = data["login"]
    return result


async def refresh(client: GraphQLClient, refresh_token: str) -> dict[str, Any]:
    data = (await client(REFRESH, {"token": refresh_token})).ok()
    result: dict[str, Any] = data["refreshSession"]
    return result


async def viewer_email(client: GraphQLClient, access_token: str) -> str | None:
    """The signed-in email, or None when the access token is refused (401 UNAUTHENTICATED)."""
    response = await GraphQLClient(client.http, access_token)("{ viewer { email } }")
    if response.status_code == 401:
        assert response.error_codes() == ["UNAUTHENTICATED"]
        return None
    email: str = response.ok()["viewer"]["email"]
    return email


async def deliver_mail(
    sessionmaker: async_sessionmaker[AsyncSession], mail_settings: Settings
) -> int:
    """Run the outbox worker once, as the app would; answers how many were delivered."""
    report = await deliver_due(sessionmaker=sessionmaker, settings=mail_settings)
    return report.delivered
