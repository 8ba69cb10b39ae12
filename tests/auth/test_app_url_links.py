"""``PORTAL_APP_URL``: emailed links open the employer web app's pages when it is set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.applications import Starlette

from portal.settings import Settings
from tests.support.accounts import deliver_mail
from tests.support.graphql import GraphQLClient
from tests.support.mail import Inbox, body_of

APP_URL = "https://app.employer.example"
REQUEST = (
    'mutation { requestPasswordReset(input: {email: "admin@acme.example"}) '
    "{ userErrors { code } } }"
)


@pytest.fixture
def with_app_url(app: Starlette, settings: Settings) -> Iterator[None]:
    graphql = app.state.graphql
    graphql.settings = settings.model_copy(update={"app_url": APP_URL})
    yield
    graphql.settings = settings


async def test_links_point_at_the_web_app_when_it_is_set(
    with_app_url: None,
    anonymous_client: GraphQLClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
) -> None:
    # Given PORTAL_APP_URL names the employer web app
    # When a reset link is emailed
    (await anonymous_client(REQUEST)).ok()
    assert await deliver_mail(sessionmaker, mail_settings) == 1
    # Then it opens the web app's reset page, not the API's
    body = body_of(inbox.to("admin@acme.example")[-1])
    assert f"{APP_URL}/reset-password#token=" in body
    assert mail_settings.public_url not in body


async def test_links_point_at_the_apis_own_pages_by_default(
    anonymous_client: GraphQLClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
    settings: Settings,
) -> None:
    assert settings.app_url is None
    (await anonymous_client(REQUEST)).ok()
    assert await deliver_mail(sessionmaker, mail_settings) == 1
    body = body_of(inbox.to("admin@acme.example")[-1])
    assert f"{settings.public_url}/reset-password#token=" in body
