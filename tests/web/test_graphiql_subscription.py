"""GraphiQL runs subscriptions: ``documentPosted`` in the browser receives a document posted
through the API while it runs (graphql-transport-ws over the page's own origin).

The document is posted over real HTTP to the same live server, so it is committed; the test
removes it (and the outbox messages it queued) afterwards. Its audit events stay: the trail is
append-only."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

import httpx
import pytest
import sqlalchemy as sa
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from portal.auth.tokens import SubjectKind, TokenService
from portal.events import EventHub
from portal.models.db import AccountScope, create_engine, set_scope
from portal.schema.relay import global_id
from portal.schema.visits import Visit as VisitNode
from tests.schema.ingestion.conftest import POST_DOCUMENT, make_pdf
from tests.support.browser import WAIT_SECONDS, diagnostics, editor_text
from tests.support.world import SUBSCRIBED_REPORT_TYPE, World

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

pytestmark = pytest.mark.browser

SUBSCRIPTION = "subscription Live { documentPosted { name reportType { code } } }"


def _wait_for_subscribers(hub: EventHub, count: int) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while hub.subscriber_count < count:
        if time.monotonic() > deadline:
            raise TimeoutException(f"{hub.subscriber_count} subscriptions run, wanted {count}")
        time.sleep(0.05)


async def _remove_documents(database_url: str, names: list[str], since: datetime) -> None:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with AsyncSession(engine) as session:
            set_scope(session, AccountScope.everything())
            await session.execute(
                sa.text("DELETE FROM outbox_messages WHERE created_at >= :since"), {"since": since}
            )
            await session.execute(
                sa.text("DELETE FROM documents WHERE name = ANY(:names)"), {"names": names}
            )
            await session.commit()
    finally:
        await engine.dispose()


@pytest.fixture
def posted_names(database_url: str) -> Iterator[list[str]]:
    """Names of documents the test posts; those documents are deleted afterwards."""
    names: list[str] = []
    since = datetime.now(UTC)
    yield names
    if names:
        asyncio.run(_remove_documents(database_url, names, since))


def test_graphiql_receives_a_document_posted_while_it_subscribes(
    browser: WebDriver,
    live_server: str,
    live_app: Starlette,
    admin_token: str,
    tokens: TokenService,
    world: World,
    posted_names: list[str],
) -> None:
    hub: EventHub = live_app.state.events
    # Given GraphiQL opened by the Acme User Admin with documentPosted in its editor
    headers = json.dumps({"Authorization": f"Bearer {admin_token}"})
    fragment = urlencode({"query": SUBSCRIPTION, "headers": headers}, quote_via=quote)
    browser.get(f"{live_server}/graphiql#{fragment}")
    wait = WebDriverWait(browser, WAIT_SECONDS)
    name = f"Work status {uuid.uuid4().hex[:8]}"
    step = "the query editor to show the subscription"
    try:
        wait.until(lambda driver: "documentPosted" in editor_text(driver, ".graphiql-query-editor"))
        step = "the response editor"
        wait.until(
            expected_conditions.presence_of_element_located(
                (By.CSS_SELECTOR, ".graphiql-response .monaco-editor")
            )
        )
        before = hub.subscriber_count
        # When the subscription runs in GraphiQL
        step = "the execute button"
        wait.until(
            expected_conditions.element_to_be_clickable(
                (By.CSS_SELECTOR, "button.graphiql-execute-button")
            )
        ).click()
        step = "the subscription to start on the server"
        _wait_for_subscribers(hub, before + 1)

        # And staff post a result for one of Acme's visits through the API
        staff_token, _ = tokens.mint(kind=SubjectKind.STAFF, subject_id=world.staff.id)
        variables = {
            "input": {
                "visitId": global_id(VisitNode, world.results.alice_injury.id),
                "reportType": SUBSCRIBED_REPORT_TYPE,
                "name": name,
                "file": None,
            }
        }
        posted_names.append(name)
        response = httpx.post(
            f"{live_server}/graphql",
            headers={"Authorization": f"Bearer {staff_token}"},
            data={
                "operations": json.dumps({"query": POST_DOCUMENT, "variables": variables}),
                "map": json.dumps({"0": ["variables.input.file"]}),
            },
            files={"0": ("report.pdf", make_pdf(1), "application/pdf")},
            timeout=WAIT_SECONDS,
        )
        assert response.status_code == 200, response.text
        assert response.json()["data"]["postDocument"]["userErrors"] == [], response.text

        # Then the event arrives in GraphiQL's result pane
        step = f"the result pane to show {name!r}"
        wait.until(
            lambda driver: name.replace(" ", "") in editor_text(driver, ".graphiql-response")
        )
    except TimeoutException:
        pytest.fail(
            f"timed out after {WAIT_SECONDS} s waiting for {step}.\n"
            f"result pane: {editor_text(browser, '.graphiql-response')!r}\n"
            f"browser log:\n{diagnostics(browser)}"
        )
    result = editor_text(browser, ".graphiql-response")
    assert SUBSCRIBED_REPORT_TYPE in result
    assert '"errors"' not in result
