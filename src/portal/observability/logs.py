"""Log configuration: one JSON object per line (or a human format in development), errors
deduplicated, one access line per request.

``configure_logging(settings)`` is called by the ``portal`` commands that run a service. The
format is ``PORTAL_LOG_FORMAT`` (``json`` or ``text``; by default text in development, JSON
elsewhere)."""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback
from datetime import UTC, datetime
from typing import Any

import orjson

# The fields a request line carries (``extra=`` of the access logger), in this order.
REQUEST_FIELDS = (
    "request_id",
    "method",
    "route",
    "operation",
    "principal_kind",
    "principal_id",
    "status",
    "outcome",
    "duration_ms",
)
_STANDARD_ATTRIBUTES = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys() | {"message", "asctime"}
)


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a record was logged with (``extra=``), in a stable order."""
    extra = {
        key: value
        for key, value in record.__dict__.items()
        if key not in _STANDARD_ATTRIBUTES and not key.startswith("_")
    }
    ordered = {key: extra.pop(key) for key in REQUEST_FIELDS if key in extra}
    ordered.update(sorted(extra.items()))
    return ordered


def exception_summary(exc_info: Any) -> dict[str, Any]:
    """The exception's type and where it was raised, without its message (which may quote
    database rows or user input)."""
    exc_type, exc, tb = exc_info
    frames = [
        f"{frame.filename}:{frame.lineno} in {frame.name}"
        for frame in traceback.extract_tb(tb)[-12:]
    ]
    summary: dict[str, Any] = {
        "type": f"{exc_type.__module__}.{exc_type.__qualname__}" if exc_type else None,
        "stack": frames,
    }
    cause = exc.__cause__ if exc is not None else None
    if cause is not None:
        summary["cause"] = f"{type(cause).__module__}.{type(cause).__qualname__}"
    return summary


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the record's fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(record_fields(record))
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = exception_summary(record.exc_info)
        return orjson.dumps(entry, default=str).decode()


class HumanFormatter(logging.Formatter):
    """``time LEVEL logger: message key=value ...`` for a developer's terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = record_fields(record)
        if fields:
            extras = " ".join(
                f"{key}={value}" for key, value in fields.items() if value is not None
            )
            first, newline, rest = line.partition("\n")
            line = f"{first} [{extras}]{newline}{rest}"
        return line


class DeduplicateFilter(logging.Filter):
    """Lets the first of a run of similar warnings and errors through, then one per window.

    Similar: same logger, level, message template and exception type (not the same arguments),
    so a database outage failing every request logs a handful of lines, not one per request.
    The next one let through says how many were suppressed."""

    def __init__(self, window_seconds: float = 60.0) -> None:
        super().__init__()
        self.window_seconds = window_seconds
        self._seen: dict[tuple[Any, ...], tuple[float, int]] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        exc_type = record.exc_info[0] if record.exc_info else None
        key = (record.name, record.levelno, str(record.msg), exc_type)
        now = time.monotonic()
        with self._lock:
            first_seen, suppressed = self._seen.get(key, (0.0, 0))
            if first_seen and now - first_seen < self.window_seconds:
                self._seen[key] = (first_seen, suppressed + 1)
                return False
            self._seen[key] = (now, 0)
            if len(self._seen) > 10_000:
                self._seen = {key: (now, 0)}
        if suppressed:
            record.suppressed_similar = suppressed
        return True


def configure_logging(
    *, json_format: bool, level: int | str = logging.INFO, dedup_window_seconds: float = 60.0
) -> logging.Handler:
    """Route every logger (uvicorn's included) through one handler on stderr; answers it."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if json_format else HumanFormatter())
    handler.addFilter(DeduplicateFilter(dedup_window_seconds))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers = []
        uvicorn_logger.propagate = True
    # One line per request comes from portal.access; uvicorn's own access line would repeat it
    # (with the raw path, which for a download holds its token).
    logging.getLogger("uvicorn.access").disabled = True
    return handler
