"""A program run in a fresh interpreter against the tests' database, as one serving process
would run (workers off): for what only a new process shows (its imports, its peak size, its
garbage collector)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from portal.settings import Settings


def run_with_app_settings(settings: Settings, program: str) -> dict[str, object]:
    """Run ``program`` (Python source) with the app's settings in its environment; answer the JSON
    object it printed last."""
    env = {
        **{key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")},
        "PORTAL_ENVIRONMENT": "test",
        "PORTAL_DATABASE_URL": str(settings.database_url),
        "PORTAL_DATA_DIR": str(settings.resolved_data_dir),
        "PORTAL_MAIL_WORKER_ENABLED": "false",
        "PORTAL_WEBHOOK_WORKER_ENABLED": "false",
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter and a fixed program
        [sys.executable, "-c", program],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, object] = json.loads(result.stdout.strip().splitlines()[-1])
    return answer
