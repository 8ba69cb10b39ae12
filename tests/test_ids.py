"""The global-id codec every layer shares."""

from __future__ import annotations

import uuid

import pytest

from portal.ids import global_id, parse_global_id


def test_a_global_id_round_trips_to_its_type_and_row() -> None:
    row_id = uuid.uuid4()
    value = global_id("Document", row_id)
    assert value != str(row_id)
    assert parse_global_id(value) == ("Document", row_id)
    assert parse_global_id(value, expected_type="Document") == ("Document", row_id)


@pytest.mark.parametrize("value", ["", "nonsense", global_id("Document", uuid.uuid4())])
def test_anything_else_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="not a valid id"):
        parse_global_id(value, expected_type="Employee")
