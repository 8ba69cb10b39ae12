"""Headless Chromium for the browser tests (Debian's Chromium and ChromeDriver, never a download).

scripts/ensure-chromium.sh installs them; without them a browser test skips, except in CI
(``CI=true``) on Linux as root, where a missing browser is a failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.command import Command

from portal.web.graphiql import assets_installed

if TYPE_CHECKING:
    from collections.abc import Iterator

    from selenium.webdriver.chrome.webdriver import WebDriver

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


def browser_required() -> bool:
    """CI on Linux as root can install Chromium, so it must not skip silently."""
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    return os.environ.get("CI") == "true" and sys.platform.startswith("linux") and is_root


def missing_browser() -> list[str]:
    return [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]


def start_chromium(
    profile: Path, monkeypatch: pytest.MonkeyPatch, *, needs_graphiql: bool = True
) -> Iterator[WebDriver]:
    missing = missing_browser()
    if missing:
        reason = (
            f"{' and '.join(missing)} not installed "
            "(run scripts/ensure-chromium.sh as root, or apt-get install chromium chromium-driver)"
        )
        if browser_required():
            pytest.fail(f"CI=true on Linux as root, but {reason}")
        pytest.skip(reason)
    if needs_graphiql and not assets_installed():
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
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER), log_output=subprocess.DEVNULL)
    driver = webdriver.Chrome(service=service, options=options)
    try:
        driver.set_page_load_timeout(WAIT_SECONDS)
        yield driver
    finally:
        driver.quit()


def editor_text(driver: WebDriver, container: str) -> str:
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


def diagnostics(driver: WebDriver) -> str:
    """The browser console log (``driver.get_log("browser")``, which is not typed)."""
    logs: Any = driver.execute(Command.GET_LOG, {"type": "browser"})["value"]
    return "\n".join(f"{entry.get('level')}: {entry.get('message')}" for entry in logs or [])


def resources(driver: WebDriver) -> list[str]:
    names: Any = driver.execute_script(
        "return performance.getEntriesByType('resource').map((entry) => entry.name);"
    )
    return [str(name) for name in names] if isinstance(names, list) else []
