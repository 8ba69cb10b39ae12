"""Audit of PHI reads: one event per action per request, naming every object read.

Nested fields (a page's employees, a visit's documents) report their ids one object at a time;
they are merged into the request's single entry for that action instead of one event each."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from portal.models.enums import AuditResult
from portal.resolvers.audit import AuditEntry
from portal.schema.context import Info


def record_phi_read(
    info: Info, action: str, ids: Iterable[uuid.UUID], details: dict[str, Any] | None = None
) -> None:
    new_ids = tuple(str(object_id) for object_id in ids)
    wanted = details or {}
    entries = info.context.audit_entries
    for index, entry in enumerate(entries):
        if entry.action == action and entry.details == wanted:
            merged = tuple(dict.fromkeys(entry.object_ids + new_ids))
            entries[index] = replace(entry, object_ids=merged)
            return
    info.context.audit(
        AuditEntry(action=action, result=AuditResult.ALLOWED, object_ids=new_ids, details=wanted)
    )
