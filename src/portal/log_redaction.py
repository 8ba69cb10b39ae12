"""No secret or one-time token reaches a log line.

Access logs name request paths (a download URL carries its single-use token; GraphiQL's
``?headers=`` carries a bearer token), and a message may quote a link (a password-reset or an
invitation link carries its token). Every log record is redacted when it is made, whatever
handler, format or logger emits it: the record factory formats the message, replaces every
secret it recognises, and hands the handlers the redacted text."""

from __future__ import annotations

import logging
import re
from typing import Any

REDACTED = "[redacted]"
# The one logger left as it is: emailed links written to the log in development only (the file
# mail transport), where a demo needs the link a real inbox would have received.
DEVELOPMENT_LINKS_LOGGER = "portal.mail.development_links"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # JSON Web Tokens (access tokens) wherever they appear.
    (re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), REDACTED),
    # Authorization header values.
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {REDACTED}"),
    # Single-use download URLs: the last path segment is the credential.
    (re.compile(r"(/downloads/)[^\s?#\"'/]+"), rf"\1{REDACTED}"),
    # Tokens, codes and secrets in query strings and fragments (links in emails, GraphiQL).
    (
        re.compile(
            r"(?i)([?&#](?:token|headers|access_token|refresh_token|code|client_secret|secret|"
            r"password)=)[^&\s\"']+"
        ),
        rf"\1{REDACTED}",
    ),
    # Webhook signing secrets (Standard Webhooks).
    (re.compile(r"whsec_[A-Za-z0-9+/=]+"), f"whsec_{REDACTED}"),
)


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


_previous_factory: Any = None


def _redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record: logging.LogRecord = _previous_factory(*args, **kwargs)
    if record.name == DEVELOPMENT_LINKS_LOGGER:
        return record
    try:
        message = record.getMessage()
    except Exception:  # a malformed format string: leave it for the handler to report
        return record
    redacted = redact(message)
    if redacted != message:
        # Only a record that held a secret loses its template (``msg`` with ``args``): the
        # others keep it, for handlers that group records by it.
        record.msg = redacted
        record.args = None
    return record


def install_log_redaction() -> None:
    """Redact every log record made from now on (idempotent)."""
    global _previous_factory
    current = logging.getLogRecordFactory()
    if current is _redacting_factory:
        return
    _previous_factory = current
    logging.setLogRecordFactory(_redacting_factory)
