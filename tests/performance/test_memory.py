"""What a serving process holds once started: no library only some requests need, and no
momentary peak from the start itself (a process's peak resident size is what an operator sizes
for, and what the side-by-side benchmark reports)."""

from __future__ import annotations

import pytest

from portal.settings import Settings
from tests.support.fresh_process import run_with_app_settings

# Imported where they are used, each costing a serving process megabytes it may never need:
# pypdf and pikepdf (upload checks and merges run in worker processes), fpdf2 and segno (printable
# authorizations, demo PDFs), zxcvbn (password changes), httpx (the webhook sender),
# phonenumbers (phone numbers typed into company information).
LAZY_LIBRARIES = ("pypdf", "pikepdf", "fpdf", "segno", "zxcvbn", "httpx", "phonenumbers")

# The app created and started (its lifespan entered: the database checked, the event bus up)
# in a fresh interpreter, like one uvicorn process; then what it imported and its sizes.
_START = """
import asyncio, json, re, sys
from pathlib import Path
from portal.app import create_app
from portal.settings import Settings
from tests.support.fresh_process import run_with_app_settings

async def main():
    app = create_app(Settings())
    async with app.router.lifespan_context(app):
        status = Path("/proc/self/status").read_text()
        size = {key: int(re.search(rf"^{key}:\\s+(\\d+)", status, re.MULTILINE).group(1))
                for key in ("VmRSS", "VmHWM")}
        print(json.dumps({"modules": sorted({name.split(".")[0] for name in sys.modules}),
                          **size}))

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def started(settings: Settings) -> dict[str, object]:
    """One start serves both tests (a fresh interpreter takes seconds)."""
    return run_with_app_settings(settings, _START)


def test_a_started_app_has_not_imported_the_libraries_only_some_requests_need(
    started: dict[str, object],
) -> None:
    # given a fresh interpreter
    # when it creates and starts the app (workers off, as the benchmark runs it): ``started``

    # then none of the libraries that only uploads, merges, printing, password changes, webhook
    # deliveries or phone numbers use is loaded
    modules = started["modules"]
    assert isinstance(modules, list)
    assert [library for library in LAZY_LIBRARIES if library in modules] == []


def test_starting_the_app_leaves_no_momentary_peak_above_what_it_holds(
    started: dict[str, object],
) -> None:
    # given a fresh interpreter
    # when it creates and starts the app: ``started``

    # then its peak resident size is what it holds now, give or take a few MB (hashing a password
    # at import took argon2's 64 MiB for a moment: a peak 45 MB above the resident size)
    peak_kb, resident_kb = started["VmHWM"], started["VmRSS"]
    assert isinstance(peak_kb, int)
    assert isinstance(resident_kb, int)
    assert peak_kb - resident_kb < 16 * 1024, (peak_kb, resident_kb)
