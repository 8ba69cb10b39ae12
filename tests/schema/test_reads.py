"""The PHI reads of a page (schema/reads.py): one audit event per action naming every object
read, its ids gathered as the objects are read and written into the event once."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from tests.support.graphql import GraphQLClient

PAGE = "{ documents(first: 20) { edges { node { id visit { id } employee { id } } } } }"
EVENTS = """
query ($filter: AuditEventFilter) {
  auditEvents(first: 50, filter: $filter) { nodes { action requestId objectIds } }
}
"""


async def test_a_pages_reads_are_gathered_and_written_once_per_action(
    admin_client: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a page of documents whose visits and employees are read one object at a time, and
    # the rebuilding of an audit entry watched
    rebuilt: list[Any] = []
    original = replace

    def watched(entry: Any, **changes: Any) -> Any:
        rebuilt.append(entry.action)
        return original(entry, **changes)

    monkeypatch.setattr("portal.schema.reads.replace", watched)

    # when the page is read
    answer = await admin_client(PAGE)
    nodes = [edge["node"] for edge in answer.ok()["documents"]["edges"]]

    # then no entry was rebuilt per object read
    assert len({node["visit"]["id"] for node in nodes}) > 1
    assert rebuilt == []
    # and one event per action names every object of the page
    request_id = answer.headers["x-request-id"]
    events = (await admin_client(EVENTS, {"filter": {"action": "visits.read"}})).ok()
    [visits] = [e for e in events["auditEvents"]["nodes"] if e["requestId"] == request_id]
    assert sorted(visits["objectIds"]) == sorted({node["visit"]["id"] for node in nodes})
    events = (await admin_client(EVENTS, {"filter": {"action": "employees.read"}})).ok()
    [employees] = [e for e in events["auditEvents"]["nodes"] if e["requestId"] == request_id]
    assert sorted(employees["objectIds"]) == sorted({node["employee"]["id"] for node in nodes})
