"""Audit of PHI reads: one event per action per request, naming every object read.

Nested fields (a page's employees, a visit's documents) report their ids one object at a time;
they are merged into the request's single entry for that action instead of one event each."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any, ClassVar, Self

from portal.models.enums import AuditResult
from portal.resolvers.audit import AuditEntry
from portal.schema.context import Info
from portal.schema.relay import PortalNode


def record_phi_read(
    info: Info, action: str, ids: Iterable[uuid.UUID], details: dict[str, Any] | None = None
) -> None:
    new_ids = tuple(str(object_id) for object_id in ids)
    wanted = details or {}
    context = info.context
    entries = context.audit_entries
    if not wanted:
        # The usual case, once per object of a page: the ids are added to the request's entry
        # for this action when the entries are read (``Context.settled_audit_entries``), not one
        # by one (the entry is found again when the list changed).
        known = context.phi_reads.get(action)
        if known is not None and known[0] < len(entries) and entries[known[0]] is known[1]:
            seen, added = known[2], known[3]
            for object_id in new_ids:
                if object_id not in seen:
                    seen.add(object_id)
                    added.append(object_id)
            return
    entries = context.settled_audit_entries()
    for index, entry in enumerate(entries):
        if entry.action == action and entry.details == wanted:
            merged = tuple(dict.fromkeys(entry.object_ids + new_ids))
            if len(merged) != len(entry.object_ids):
                entries[index] = entry = replace(entry, object_ids=merged)
            if not wanted:
                context.phi_reads[action] = (index, entry, set(entry.object_ids), [])
            return
    context.audit(
        AuditEntry(action=action, result=AuditResult.ALLOWED, object_ids=new_ids, details=wanted)
    )
    if not wanted and entries and entries[-1].action == action:
        context.phi_reads[action] = (len(entries) - 1, entries[-1], set(new_ids), [])


class PhiNode(PortalNode):
    """A node holding PHI: every row it is built from is recorded under ``phi_read_action``,
    whether loaded by id (``audited``) or reached through another object (``read``)."""

    phi_read_action: ClassVar[str]

    @classmethod
    def audited(cls, info: Info, rows: Sequence[Any | None]) -> Sequence[Any | None]:
        record_phi_read(info, cls.phi_read_action, (row.id for row in rows if row is not None))
        return rows

    @classmethod
    def rows_read(cls, info: Info, rows: Sequence[Any | None]) -> Sequence[Any | None]:
        return cls.audited(info, rows)

    @classmethod
    def read(cls, info: Info, row: Any) -> Self:
        """The node for a row reached through another object, its read audited."""
        record_phi_read(info, cls.phi_read_action, [row.id])
        return cls.from_row(row)
