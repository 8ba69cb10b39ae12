"""`portal serve` fails fast with one clear line: the signing key first, then the database."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.network import free_port, silent_server

# The installed `portal` command, as an operator runs it.
PORTAL = Path(sys.executable).parent / "portal"


def _portal(
    args: list[str], env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}
    return subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [str(PORTAL), *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one error line of a failed start (log lines before it are fine, a traceback not)."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert result.stderr.strip().splitlines()[-1] == errors[0]
    return errors[0]


def test_a_database_that_never_answers_fails_serve_in_seconds_with_one_line(
    tmp_path: Path,
) -> None:
    # given a database server that accepts connections and never answers
    with silent_server() as port:
        env = {
            "PORTAL_DATABASE_URL": f"postgresql://portal:secret-pw@127.0.0.1:{port}/portal",
            "PORTAL_DB_CONNECT_TIMEOUT_SECONDS": "1",
            "PORTAL_DATA_DIR": str(tmp_path),
        }
        # when the server is started
        started = time.monotonic()
        result = _portal(["serve", "--port", str(free_port())], env, timeout=60)
        elapsed = time.monotonic() - started

    # then it stops within seconds, with one line naming the server (not its password)
    assert elapsed < 20
    assert _error_line(result) == (
        f"error: the database at 127.0.0.1:{port}/portal did not answer within 1 s "
        "(PORTAL_DB_CONNECT_TIMEOUT_SECONDS)"
    )
    assert "secret-pw" not in result.stderr + result.stdout


def test_a_bad_signing_key_is_reported_before_the_database_is_touched(tmp_path: Path) -> None:
    # given a signing key file that holds no key, and a database that would hang for a minute
    key_file = tmp_path / "signing-key.pem"
    key_file.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    with silent_server() as port:
        env = {
            "PORTAL_DATABASE_URL": f"postgresql://portal@127.0.0.1:{port}/portal",
            "PORTAL_DB_CONNECT_TIMEOUT_SECONDS": "60",
            "PORTAL_SIGNING_KEY_FILE": str(key_file),
            "PORTAL_DATA_DIR": str(tmp_path),
        }
        # when the server is started
        started = time.monotonic()
        result = _portal(["serve", "--port", str(free_port())], env, timeout=60)
        elapsed = time.monotonic() - started

    # then the key is named at once, in one line, nothing else tried
    assert elapsed < 20
    assert _error_line(result) == (
        f"error: the signing key file {key_file} is not an EC private key in PEM or JWK format"
    )


def test_a_missing_signing_key_file_and_a_bad_setting_are_one_line_each(tmp_path: Path) -> None:
    # when the key file does not exist
    missing = _portal(
        ["serve"],
        {"PORTAL_SIGNING_KEY_FILE": str(tmp_path / "nope.pem"), "PORTAL_DATA_DIR": str(tmp_path)},
        timeout=60,
    )
    # and when a setting is malformed
    malformed = _portal(
        ["serve"], {"PORTAL_DB_POOL_SIZE": "many", "PORTAL_DATA_DIR": str(tmp_path)}, timeout=60
    )

    # then each says what is wrong, in one line, with no traceback
    assert _error_line(missing).startswith(
        f"error: cannot read the signing key file {tmp_path / 'nope.pem'}"
    )
    assert _error_line(malformed).startswith("error: invalid settings: PORTAL_DB_POOL_SIZE:")


def test_debug_adds_the_traceback(tmp_path: Path) -> None:
    # given PORTAL_DEBUG, when the key file does not exist
    result = _portal(
        ["serve"],
        {
            "PORTAL_SIGNING_KEY_FILE": str(tmp_path / "nope.pem"),
            "PORTAL_DATA_DIR": str(tmp_path),
            "PORTAL_DEBUG": "true",
        },
        timeout=60,
    )
    # then the traceback comes before the same last line
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("error: cannot read the signing key")


def test_an_embedded_database_that_cannot_start_says_why_in_one_line() -> None:
    # given a data folder whose database folder is damaged (no configuration file)
    root = Path(tempfile.mkdtemp(prefix="portal-broken-"))
    try:
        root.chmod(0o755)
        pgdata = root / "data" / "pgdata"
        pgdata.mkdir(parents=True)
        (pgdata / "PG_VERSION").write_text("15\n")

        # when a command needs the embedded database
        result = _portal(["migrate"], {"PORTAL_DATA_DIR": str(root / "data")}, timeout=120)

        # then the one line carries the server's own reason, not a 400-line dump
        line = _error_line(result)
        assert line.startswith(f"error: the embedded PostgreSQL in {pgdata} did not start: ")
        assert "postgresql.conf" in line
        assert len(result.stderr.splitlines()) <= 3, result.stderr
    finally:
        shutil.rmtree(root, ignore_errors=True)
