"""Cursors: the sort keys of a row as base64 JSON, written once by orjson (ids, times, dates and
enums as strings) and read back as the keys' types."""

from __future__ import annotations

import base64
import enum
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import orjson
import pytest

from portal.resolvers.errors import BadUserInput
from portal.resolvers.pagination import SortKey, decode_cursor, encode_cursor


class Status(enum.StrEnum):
    OPEN = "OPEN"


AN_ID = "9da16bb5-4ad1-4d8b-89bd-aaf4ef3ba3b0"


class DriverUUID(uuid.UUID):
    """As the database driver hands ids over: its own subclass of ``uuid.UUID``."""


def _decoded(cursor: str) -> object:
    return orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (uuid.UUID(AN_ID), AN_ID),
        (DriverUUID(AN_ID), AN_ID),
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "2026-01-02T03:04:05+00:00"),
        (datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), "2026-01-02T03:04:05.123456+00:00"),
        (
            datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2))),
            "2026-01-02T03:04:05+02:00",
        ),
        (date(2026, 1, 2), "2026-01-02"),
        (Status.OPEN, "OPEN"),
        ("text", "text"),
        (7, 7),
    ],
)
def test_a_cursor_writes_each_kind_of_key_as_before(value: object, written: object) -> None:
    # given a row's sort key of each kind
    # when it is written into a cursor
    cursor = encode_cursor([value])

    # then the cursor holds it as ISO text, a string or a number (as cursors always did)
    assert _decoded(cursor) == [written]
    assert "=" not in cursor


def test_a_cursor_reads_back_as_its_keys_types() -> None:
    # given a page ordered by time then id, and a row's keys
    posted = datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    row_id = uuid.uuid4()
    keys = [SortKey(column=None, python_type=datetime), SortKey(column=None, python_type=uuid.UUID)]

    # when its cursor is written and read back
    read = decode_cursor(encode_cursor((posted, row_id)), keys, field="after")

    # then the keys come back as they were; a cursor of another shape is bad input
    assert read == [posted, row_id]
    with pytest.raises(BadUserInput):
        decode_cursor(encode_cursor([posted]), keys, field="after")
