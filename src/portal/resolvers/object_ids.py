"""The API's global ids for the raw row ids an audit event names.

Audit events store the ids of the rows they acted on (documents, users, sessions, ...) without
their type; clients see one id format everywhere, the global id (``portal.ids``). The type of
each id is found with one query over the tables audit events name, for a whole page at once
(row-level security applies: an id the reader may not see keeps its raw form)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from portal.ids import global_id, parse_global_id

# Table -> the type name its rows are shown as (GraphQL's where the row is a node).
NAMED_TABLES: tuple[tuple[str, str], ...] = (
    ("documents", "Document"),
    ("visits", "Visit"),
    ("employees", "Employee"),
    ("authorizations", "Authorization"),
    ("portal_users", "PortalUser"),
    ("contacts", "Contact"),
    ("accounts", "Account"),
    ("locations", "Location"),
    ("api_clients", "ApiClient"),
    ("provider_clients", "ProviderClient"),
    ("staff_users", "StaffUser"),
    ("auth_sessions", "AuthSession"),
    ("download_tickets", "DownloadTicket"),
    ("medical_centers", "MedicalCenter"),
)


def _union(names: Iterable[tuple[str, str]]) -> sa.TextClause:
    # Table and type names are the constants above, never input: nothing to inject.
    parts = [
        f"SELECT id, '{type_name}' AS type_name FROM {table} WHERE id = ANY(:ids)"  # noqa: S608
        for table, type_name in names
    ]
    return sa.text(" UNION ALL ".join(parts))


_TYPES_QUERY = _union(NAMED_TABLES)


async def load_object_types(*, session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[str | None]:
    """The type name of each id, in order; None when no visible row has it."""
    if not ids:
        return []
    rows = (await session.execute(_TYPES_QUERY, {"ids": list(set(ids))})).all()
    found: dict[uuid.UUID, str] = {row_id: type_name for row_id, type_name in rows}  # noqa: C416
    return [found.get(row_id) for row_id in ids]


def as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def shown(raw: str, type_name: str | None) -> str:
    """How a stored object id is shown: its global id when its type is known."""
    row_id = as_uuid(raw)
    if row_id is None or type_name is None:
        return raw
    return global_id(type_name, row_id)


def stored_forms(value: str) -> tuple[str, ...] | None:
    """What an id given by a client (a global id or a raw UUID) may be stored as; None when it
    is neither."""
    row_id = as_uuid(value)
    if row_id is not None:
        return (str(row_id),)
    try:
        _, decoded = parse_global_id(value)
    except ValueError:
        return None
    return (str(decoded), value)
