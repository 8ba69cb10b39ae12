"""GraphiQL in a real browser: a deep link with query and headers runs against /graphql.

Uses Debian's Chromium and ChromeDriver (scripts/ensure-chromium.sh installs them);
Selenium Manager is never asked to download anything. Without them the test skips,
except in CI (``CI=true``) on Linux as root, where a missing browser is a failure.

``live_server`` (the whole app on a real port) and ``admin_token`` come from
tests/conftest.py: the test runs against the real API, not a stub.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.command import Command
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from portal.web.graphiql import assets_installed

if TYPE_CHECKING:
    from collections.abc import Iterator

    from selenium.webdriver.chrome.webdriver import WebDriver

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_ARGUMENTS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,1024",
)
WAIT_SECONDS = 20

QUERY = "{ viewer { email } }"
EXPECTED_EMAIL = "admin@acme.example"


def _browser_required() -> bool:
    """CI on Linux as root can install Chromium, so it must not skip silently."""
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    return os.environ.get("CI") == "true" and sys.platform.startswith("linux") and is_root


def _missing_browser() -> list[str]:
    return [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WebDriver]:
    missing = _missing_browser()
    if missing:
        reason = (
            f"{' and '.join(missing)} not installed "
            "(run scripts/ensure-chromium.sh as root, or apt-get install chromium chromium-driver)"
        )
        if _browser_required():
            pytest.fail(f"CI=true on Linux as root, but {reason}")
        pytest.skip(reason)
    if not assets_installed():
        reason = "GraphiQL assets are not built: run `make web` (scripts/build-web.sh)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)

    # Never let Selenium Manager look for, or download, a browser or driver.
    monkeypatch.setenv("SE_OFFLINE", "true")
    options = Options()
    options.binary_location = str(CHROMIUM)
    for argument in CHROMIUM_ARGUMENTS:
        options.add_argument(argument)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER), log_output=subprocess.DEVNULL)
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.set_page_load_timeout(WAIT_SECONDS)
        yield driver
    finally:
        driver.quit()


def _editor_text(driver: WebDriver, container: str) -> str:
    """The visible text of the Monaco editors inside ``container``, whitespace removed
    (Monaco renders spaces as non-breaking spaces and may wrap long lines)."""
    text: Any = driver.execute_script(
        "return Array.from("
        "  document.querySelectorAll(arguments[0] + ' .monaco-editor .view-lines'),"
        "  (lines) => lines.textContent"
        ").join('');",
        container,
    )
    return "".join(text.split()) if isinstance(text, str) else ""


def _diagnostics(driver: WebDriver) -> str:
    """The browser console log (``driver.get_log("browser")``, which is not typed)."""
    logs: Any = driver.execute(Command.GET_LOG, {"type": "browser"})["value"]
    return "\n".join(f"{entry.get('level')}: {entry.get('message')}" for entry in logs or [])


def _resources(driver: WebDriver) -> list[str]:
    names: Any = driver.execute_script(
        "return performance.getEntriesByType('resource').map((entry) => entry.name);"
    )
    return [str(name) for name in names] if isinstance(names, list) else []


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
            lambda driver: "{viewer{email}}" in _editor_text(driver, ".graphiql-query-editor")
        )
        step = "the headers editor to show the deep-linked Authorization header"
        wait.until(
            lambda driver: '"Authorization"' in _editor_text(driver, ".graphiql-editor-tool")
        )
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
        wait.until(lambda driver: EXPECTED_EMAIL in _editor_text(driver, ".graphiql-response"))
    except TimeoutException:
        pytest.fail(
            f"timed out after {WAIT_SECONDS} s waiting for {step}.\n"
            f"query editor: {_editor_text(browser, '.graphiql-query-editor')!r}\n"
            f"result pane: {_editor_text(browser, '.graphiql-response')!r}\n"
            f"browser log:\n{_diagnostics(browser)}"
        )

    assert EXPECTED_EMAIL in _editor_text(browser, ".graphiql-response")

    # Monaco's web workers started (same origin, allowed by the CSP) ...
    WebDriverWait(browser, WAIT_SECONDS).until(
        lambda driver: any(".worker-" in name for name in _resources(driver)),
        message="no Monaco web worker was loaded",
    )
    # ... everything the page loaded came from the app itself, and nothing was blocked.
    origin = "{0.scheme}://{0.netloc}/".format(urlsplit(live_server))
    foreign = [name for name in _resources(browser) if not name.startswith(origin)]
    assert foreign == []
    log = _diagnostics(browser)
    assert "Content Security Policy" not in log, log
