"""Hardening 2: one-time links and tokens never reach a log line, whoever logs them."""

from __future__ import annotations

import logging

import httpx
import pytest

from portal.log_redaction import DEVELOPMENT_LINKS_LOGGER, install_log_redaction
from portal.settings import Settings
from tests.security.conftest import serving_captured

JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhYmMiLCJleHAiOjF9.c2lnbmF0dXJlLXZhbHVl"


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (
            '127.0.0.1:5 - "GET /downloads/Zx9-single-use-token HTTP/1.1" 200',
            "Zx9-single-use-token",
        ),
        ("GET /graphiql?headers=%7B%22Authorization%22%3A%22Bearer%20abc%22%7D", "abc"),
        ("reset link https://portal.example/reset-password#token=s3cr3t-one-time", "s3cr3t"),
        ("invitation https://app.example/accept-invitation?token=inv1tation-tok", "inv1tation"),
        (f"token {JWT} was refused", JWT),
        ("Authorization: Bearer opaque-token-value-123", "opaque-token-value-123"),
        ("signing secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8I"),
    ],
)
def test_secrets_in_any_log_line_are_redacted(
    caplog: pytest.LogCaptureFixture, line: str, secret: str
) -> None:
    # Given the app's log redaction
    install_log_redaction()

    # When any logger writes a line holding a secret (directly or through its arguments)
    with caplog.at_level(logging.INFO):
        logging.getLogger("portal.access").info("%s", line)
        logging.getLogger("portal.anything").warning(line)

    # Then no handler sees it
    assert len(caplog.records) == 2
    for record in caplog.records:
        assert secret not in record.getMessage()
        assert "[redacted]" in record.getMessage()


def test_development_mail_links_stay_readable(caplog: pytest.LogCaptureFixture) -> None:
    # Given the development-only logger of emailed links
    install_log_redaction()
    with caplog.at_level(logging.INFO):
        logging.getLogger(DEVELOPMENT_LINKS_LOGGER).warning(
            "link: %s", "http://127.0.0.1:8000/reset-password#token=abc"
        )
    # Then the demo link is left whole
    assert caplog.records[0].getMessage().endswith("#token=abc")


def test_the_access_log_of_portal_serve_holds_no_token(settings: Settings) -> None:
    # Given `portal serve` writing its access log
    with serving_captured(settings, cli=True) as (url, output):
        # When a download URL and a GraphiQL link with a bearer token are requested
        httpx.get(f"{url}/downloads/Zx9-single-use-token-value", timeout=30)
        httpx.get(f"{url}/graphiql", params={"headers": '{"Authorization":"Bearer abc123"}'})
    log = output()

    # Then the requests are logged, without their tokens
    assert "/downloads/" in log
    assert "Zx9-single-use-token-value" not in log
    assert "abc123" not in log
