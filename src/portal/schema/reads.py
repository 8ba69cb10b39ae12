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
    entries = info.context.audit_entries
    for index, entry in enumerate(entries):
        if entry.action == action and entry.details == wanted:
            merged = tuple(dict.fromkeys(entry.object_ids + new_ids))
            if len(merged) != len(entry.object_ids):
                entries[index] = replace(entry, object_ids=merged)
            return
    info.context.audit(
        AuditEntry(action=action, result=AuditResult.ALLOWED, object_ids=new_ids, details=wanted)
    )


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
