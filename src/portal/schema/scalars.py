"""The ``Date`` and ``DateTime`` scalars with the standard each follows (``@specifiedBy``, shown
in introspection), replacing Strawberry's built-in ones (``JSON`` already names ECMA-404)."""

from __future__ import annotations

import datetime as dt

from strawberry.types.scalar import ScalarDefinition

from portal.resolvers.errors import BadUserInput

RFC_3339_URL = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
# A full date of RFC 3339 (ISO 8601 calendar date) as its own scalar.
FULL_DATE_URL = "https://datatracker.ietf.org/doc/html/rfc3339#section-5.6"
# Longer strings are refused before parsing (inputs are bounded).
MAX_LENGTH = 40


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or len(value) > MAX_LENGTH:
        raise BadUserInput(f"{name} must be a string such as {_EXAMPLES[name]}.")
    return value


def parse_datetime(value: object) -> dt.datetime:
    text = _text(value, "DateTime")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise BadUserInput(
            f'"{text}" is not an RFC 3339 date-time such as {_EXAMPLES["DateTime"]}.'
        ) from None
    if parsed.tzinfo is None or "T" not in text.upper():
        raise BadUserInput(
            f'"{text}" needs a date, a time and a UTC offset ("Z" or "+02:00"), '
            f"e.g. {_EXAMPLES['DateTime']}."
        )
    return parsed


def parse_date(value: object) -> dt.date:
    text = _text(value, "Date")
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadUserInput(
            f'"{text}" is not a date such as {_EXAMPLES["Date"]} (YYYY-MM-DD).'
        ) from None


def serialize_datetime(value: dt.datetime) -> str:
    # Stored timestamps are timezone-aware; a naive one is UTC by the database's convention.
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(dt.UTC).isoformat()


def serialize_date(value: dt.date) -> str:
    return value.isoformat()


_EXAMPLES = {"DateTime": "2026-03-01T14:30:00Z", "Date": "2026-03-01"}

DATE_TIME = ScalarDefinition(
    name="DateTime",
    description="A date and time with its UTC offset, RFC 3339 (e.g. 2026-03-01T14:30:00+00:00). "
    "Inputs must carry an offset (`Z` or `+hh:mm`); answers are in UTC.",
    specified_by_url=RFC_3339_URL,
    serialize=serialize_datetime,
    parse_value=parse_datetime,
    parse_literal=None,
    origin=dt.datetime,
)

DATE = ScalarDefinition(
    name="Date",
    description="A calendar date, RFC 3339 full-date (YYYY-MM-DD, e.g. 2026-03-01).",
    specified_by_url=FULL_DATE_URL,
    serialize=serialize_date,
    parse_value=parse_date,
    parse_literal=None,
    origin=dt.date,
)

SCALAR_OVERRIDES: dict[object, ScalarDefinition] = {dt.datetime: DATE_TIME, dt.date: DATE}
