"""GraphiQL in a real browser: a deep link with query and headers runs against /graphql.

Uses Debian's Chromium and ChromeDriver (scripts/ensure-chromium.sh installs them);
Selenium Manager is never asked to download anything. Without them the test skips,
except in CI (``CI=true``) on Linux as root, where a missing browser is a failure.
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
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

from portal.web.graphiql import assets_installed

if TYPE_CHECKING:
    from collections.abc import Iterator

    from selenium.webdriver.remote.webdriver import WebDriver

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
    logs = driver.get_log("browser")
    return "\n".join(f"{entry.get('level')}: {entry.get('message')}" for entry in logs)


def test_deep_link_runs_query_with_bearer_header(
    browser: WebDriver, live_server: str, admin_token: str
) -> None:
    headers = json.dumps({"Authorization": f"Bearer {admin_token}"})
    expected_headers = "".join(f'"Authorization":"Bearer{admin_token}"'.split())
    url = (
        f"{live_server}/graphiql?{urlencode({'query': QUERY, 'headers': headers}, quote_via=quote)}"
    )
    browser.get(url)
    wait = WebDriverWait(browser, WAIT_SECONDS)

    try:
        # The deep link filled in both editors (Monaco loads lazily), and the response
        # editor exists: GraphiQL ignores the execute button until it does.
        wait.until(
            lambda driver: "{viewer{email}}" in _editor_text(driver, ".graphiql-query-editor")
        )
        wait.until(lambda driver: expected_headers in _editor_text(driver, ".graphiql-editor-tool"))
        wait.until(
            expected_conditions.presence_of_element_located(
                (By.CSS_SELECTOR, ".graphiql-response .monaco-editor")
            )
        )
        execute = wait.until(
            expected_conditions.element_to_be_clickable(
                (By.CSS_SELECTOR, "button.graphiql-execute-button")
            )
        )
        execute.click()
        wait.until(lambda driver: EXPECTED_EMAIL in _editor_text(driver, ".graphiql-response"))
    except TimeoutException:
        pytest.fail(
            f"GraphiQL did not show {EXPECTED_EMAIL!r} within {WAIT_SECONDS} s.\n"
            f"query editor: {_editor_text(browser, '.graphiql-query-editor')!r}\n"
            f"response: {_editor_text(browser, '.graphiql-response')!r}\n"
            f"browser log:\n{_diagnostics(browser)}"
        )

    assert EXPECTED_EMAIL in _editor_text(browser, ".graphiql-response")

    # Everything the page loaded came from the app itself, and nothing was blocked.
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(live_server))
    resources: Any = browser.execute_script(
        "return performance.getEntriesByType('resource').map(entry => entry.name);"
    )
    assert isinstance(resources, list)
    foreign = [name for name in resources if not str(name).startswith((origin, "data:"))]
    assert foreign == []
    log = _diagnostics(browser)
    assert "Content Security Policy" not in log, log
