"""GraphiQL in a real browser: a deep link with query and headers runs against /graphql.

Uses Debian's Chromium and ChromeDriver (scripts/ensure-chromium.sh installs them);
Selenium Manager is never asked to download anything. Without them the test skips,
except in CI (``CI=true``) on Linux as root, where a missing browser is a failure.

``live_server`` (the whole app on a real port) and ``admin_token`` come from
tests/conftest.py: the test runs against the real API, not a stub.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode, urlsplit

import pytest
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from tests.support.browser import WAIT_SECONDS, diagnostics, editor_text, resources

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

pytestmark = pytest.mark.browser

QUERY = "{ viewer { email } }"
EXPECTED_EMAIL = "admin@acme.example"


def test_deep_link_runs_query_with_bearer_header(
    browser: WebDriver, live_server: str, admin_token: str
) -> None:
    headers = json.dumps({"Authorization": f"Bearer {admin_token}"})
    query_string = urlencode({"query": QUERY, "headers": headers}, quote_via=quote)
    browser.get(f"{live_server}/graphiql?{query_string}")
    wait = WebDriverWait(browser, WAIT_SECONDS)

    step = "the query editor to show the deep-linked query"
    try:
        # Monaco loads lazily: wait until the deep link has filled in the editors and
        # the response editor exists (GraphiQL ignores the execute button before).
        wait.until(
            lambda driver: "{viewer{email}}" in editor_text(driver, ".graphiql-query-editor")
        )
        step = "the headers editor to show the deep-linked Authorization header"
        wait.until(lambda driver: '"Authorization"' in editor_text(driver, ".graphiql-editor-tool"))
        step = "the response editor"
        wait.until(
            expected_conditions.presence_of_element_located(
                (By.CSS_SELECTOR, ".graphiql-response .monaco-editor")
            )
        )
        step = "the execute button"
        execute = wait.until(
            expected_conditions.element_to_be_clickable(
                (By.CSS_SELECTOR, "button.graphiql-execute-button")
            )
        )
        execute.click()
        step = f"the result pane to show {EXPECTED_EMAIL}"
        wait.until(lambda driver: EXPECTED_EMAIL in editor_text(driver, ".graphiql-response"))
    except TimeoutException:
        pytest.fail(
            f"timed out after {WAIT_SECONDS} s waiting for {step}.\n"
            f"query editor: {editor_text(browser, '.graphiql-query-editor')!r}\n"
            f"result pane: {editor_text(browser, '.graphiql-response')!r}\n"
            f"browser log:\n{diagnostics(browser)}"
        )

    assert EXPECTED_EMAIL in editor_text(browser, ".graphiql-response")

    # Monaco's web workers started (same origin, allowed by the CSP) ...
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda driver: any(".worker-" in name for name in resources(driver)),
        message="no Monaco web worker was loaded",
    )
    # ... everything the page loaded came from the app itself, and nothing was blocked.
    origin = "{0.scheme}://{0.netloc}/".format(urlsplit(live_server))
    foreign = [name for name in resources(browser) if not name.startswith(origin)]
    assert foreign == []
    log = diagnostics(browser)
    assert "Content Security Policy" not in log, log
