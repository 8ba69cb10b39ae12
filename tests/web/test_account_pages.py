"""The pages emailed links open, end to end in headless Chromium: the email is read from a real
SMTP server on loopback, its link opened, a password set, and the person signed in.

The app runs on a real port with its outbox worker on, sending to that SMTP server. The people
these tests create are committed and deleted afterwards (the audit trail keeps its events)."""

from __future__ import annotations

import asyncio
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx
import pytest
import sqlalchemy as sa
import uvicorn
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait
from sqlalchemy.ext.asyncio import AsyncSession

from portal.app import create_app
from portal.auth.passwords import hash_password
from portal.auth.tokens import SubjectKind, TokenService
from portal.models import Contact, PortalUser
from portal.models.db import AccountScope, create_engine, set_scope
from portal.models.enums import Role, UserStatus
from portal.schema.accounts import Contact as ContactNode
from portal.schema.relay import global_id
from portal.settings import Settings
from tests.support.browser import WAIT_SECONDS, diagnostics
from tests.support.mail import Inbox, body_of, serve_inbox, smtp_settings
from tests.support.network import free_port
from tests.support.world import World

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

pytestmark = pytest.mark.browser

NEW_PASSWORD = "violet anchor beneath the lantern"
LINK = re.compile(r"(http://\S+#token=[A-Za-z0-9_-]+)")


@dataclass
class MailingApp:
    url: str
    inbox: Inbox


@pytest.fixture(scope="module")
def mailing_app(settings: Settings, world: World) -> Iterator[MailingApp]:
    """The app on a real port whose outbox worker mails to a real SMTP server, and whose
    emailed links point at itself (PORTAL_PUBLIC_URL, no PORTAL_APP_URL)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serve_inbox() as inbox:
        app_settings = smtp_settings(
            settings,
            inbox.port,
            public_url=url,
            app_url=None,
            mail_worker_enabled=True,
            mail_poll_interval_seconds=0.2,
        )
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(app_settings), host="127.0.0.1", port=port, log_level="warning"
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert thread.is_alive(), "the server stopped"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        try:
            yield MailingApp(url=url, inbox=inbox)
        finally:
            server.should_exit = True
            thread.join(timeout=10)


async def _run(database_url: str, work: str, **values: object) -> None:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with AsyncSession(engine) as session:
            set_scope(session, AccountScope.everything())
            await session.execute(sa.text(work), values)
            await session.commit()
    finally:
        await engine.dispose()


async def _add_person(
    database_url: str, account_id: uuid.UUID, email: str, *, with_login: bool
) -> uuid.UUID:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            set_scope(session, AccountScope.everything())
            contact = Contact(
                account_id=account_id, first_name="Robin", last_name="Page", work_email=email
            )
            session.add(contact)
            await session.flush()
            if with_login:
                session.add(
                    PortalUser(
                        contact_id=contact.id,
                        account_id=account_id,
                        email=email,
                        role=Role.BASIC,
                        status=UserStatus.ACTIVE,
                        password_hash=hash_password("an old password nobody remembers"),
                    )
                )
            await session.commit()
            return contact.id
    finally:
        await engine.dispose()


@pytest.fixture
def person(database_url: str, world: World) -> Iterator[dict[str, object]]:
    """A fresh Acme contact (the test decides about the login); deleted with what hangs off it."""
    email = f"robin.{uuid.uuid4().hex[:8]}@acme.example"
    created: dict[str, object] = {"email": email, "since": datetime.now(UTC)}
    yield created
    contact_id = created.get("contact_id")
    if contact_id is not None:
        asyncio.run(_run(database_url, "DELETE FROM contacts WHERE id = :id", id=contact_id))
    asyncio.run(
        _run(
            database_url,
            "DELETE FROM outbox_messages WHERE created_at >= :since",
            since=created["since"],
        )
    )


def _emailed_link(inbox: Inbox, address: str) -> str:
    deadline = time.monotonic() + WAIT_SECONDS
    while not inbox.to(address):
        assert time.monotonic() < deadline, f"no email reached {address}"
        time.sleep(0.05)
    found = LINK.search(body_of(inbox.to(address)[-1]))
    assert found, body_of(inbox.to(address)[-1])
    return found.group(1)


def _fill_and_submit(browser: WebDriver, **fields: str) -> None:
    for name, value in fields.items():
        element = browser.find_element(By.ID, name)
        element.clear()
        element.send_keys(value)
    browser.find_element(By.ID, "submit").click()


def _wait_for_message(browser: WebDriver, text: str) -> str:
    try:
        WebDriverWait(browser, WAIT_SECONDS).until(
            lambda driver: text in driver.find_element(By.ID, "message").text
        )
    except TimeoutException:
        pytest.fail(
            f"the page never said {text!r}; it says "
            f"{browser.find_element(By.ID, 'message').text!r}\n{diagnostics(browser)}"
        )
    message: str = browser.find_element(By.ID, "message").text
    return message


def test_an_invited_person_sets_a_password_from_the_email_and_is_signed_in(
    browser: WebDriver,
    mailing_app: MailingApp,
    database_url: str,
    tokens: TokenService,
    world: World,
    person: dict[str, object],
) -> None:
    email = str(person["email"])
    # Given a contact of Acme without a login, invited by the account's User Admin
    person["contact_id"] = asyncio.run(
        _add_person(database_url, world.acme.id, email, with_login=False)
    )
    admin_token, _ = tokens.mint(kind=SubjectKind.USER, subject_id=world.acme_admin.id)
    invited = httpx.post(
        f"{mailing_app.url}/graphql",
        headers={"Authorization": f"Bearer {admin_token}"},
        json={
            "query": "mutation ($id: ID!) { inviteUser(input: {contactId: $id, role: BASIC}) "
            "{ userErrors { code message } } }",
            "variables": {"id": global_id(ContactNode, person["contact_id"])},  # type: ignore[arg-type]
        },
        timeout=WAIT_SECONDS,
    ).json()
    assert invited["data"]["inviteUser"]["userErrors"] == [], invited
    # When the invitation email arrives and its link is opened
    link = _emailed_link(mailing_app.inbox, email)
    assert link.startswith(f"{mailing_app.url}/accept-invitation#token=")
    browser.get(link)
    # Then the token leaves the address bar, and setting a password signs the person in
    WebDriverWait(browser, WAIT_SECONDS).until(lambda driver: "#token" not in driver.current_url)
    _fill_and_submit(browser, password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    assert email in _wait_for_message(browser, "You are signed in as")
    # And the new password works for signing in again
    login = httpx.post(
        f"{mailing_app.url}/graphql",
        json={
            "query": "mutation ($e: String!, $p: String!) { login(input: {email: $e, password: $p})"
            " { accessToken userErrors { code } } }",
            "variables": {"e": email, "p": NEW_PASSWORD},
        },
        timeout=WAIT_SECONDS,
    ).json()
    assert login["data"]["login"]["accessToken"], login
    assert "Content Security Policy" not in diagnostics(browser)


def test_a_person_resets_a_forgotten_password_from_the_email_and_is_signed_in(
    browser: WebDriver,
    mailing_app: MailingApp,
    database_url: str,
    world: World,
    person: dict[str, object],
) -> None:
    email = str(person["email"])
    # Given an active login whose password is forgotten
    person["contact_id"] = asyncio.run(
        _add_person(database_url, world.acme.id, email, with_login=True)
    )
    # When the person asks for a reset link on the reset page
    browser.get(f"{mailing_app.url}/reset-password")
    _fill_and_submit(browser, email=email)
    _wait_for_message(browser, "a link to reset its password is on its way")
    # And opens the link of the email the SMTP server received
    link = _emailed_link(mailing_app.inbox, email)
    assert link.startswith(f"{mailing_app.url}/reset-password#token=")
    browser.get("about:blank")
    browser.get(link)
    WebDriverWait(browser, WAIT_SECONDS).until(lambda driver: "#token" not in driver.current_url)
    # And a too-short password is refused with the reason first
    _fill_and_submit(browser, email=email, password="short", confirm="short")
    _wait_for_message(browser, "at least 15 characters")
    # Then a good new password is set and the person is signed in with it
    _fill_and_submit(browser, email=email, password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    assert email in _wait_for_message(browser, "You are signed in as")
    assert "Content Security Policy" not in diagnostics(browser)


def test_the_pages_are_served_under_the_graphiql_policy(mailing_app: MailingApp) -> None:
    for path in ("/accept-invitation", "/reset-password"):
        response = httpx.get(f"{mailing_app.url}{path}", timeout=WAIT_SECONDS)
        assert response.status_code == 200
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy
        assert "form-action 'none'" in policy
        assert '<script src="/account/assets/account.js"' in response.text
    script = httpx.get(f"{mailing_app.url}/account/assets/account.js", timeout=WAIT_SECONDS)
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
