"""The audit trail: what each request did, allowed or denied, written in a transaction of its own.

Events are collected during a request and written when its operation ends, in their own committed
transaction, so a read-only request (whose transaction is rolled back) is still audited and a
failed request still leaves its denials behind."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from portal.auth.principal import Principal, PrincipalKind
from portal.models import AuditEvent
from portal.models.base import utcnow
from portal.models.db import AccountScope, set_scope
from portal.models.driver import execute_many
from portal.models.enums import ActorType, AuditResult
from portal.resolvers.object_ids import stored_forms
from portal.resolvers.pagination import Page, PageRequest, SortKey, paginate

_ACTOR_TYPES = {
    PrincipalKind.ANONYMOUS: ActorType.ANONYMOUS,
    PrincipalKind.USER: ActorType.USER,
    PrincipalKind.STAFF: ActorType.STAFF,
    PrincipalKind.API_CLIENT: ActorType.API_CLIENT,
}


@dataclass(frozen=True, slots=True)
class RequestMeta:
    ip_address: str | None
    request_id: str | None
    operation_name: str | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    action: str
    result: AuditResult
    account_id: uuid.UUID | None = None
    object_ids: tuple[str, ...] = ()
    details: dict[str, Any] = field(default_factory=dict)
    # Who acted, when the request's principal does not say (e.g. the email a login names).
    actor_label: str | None = None
    # The person a sign-in names, when the request itself is anonymous (login, refresh).
    actor_id: uuid.UUID | None = None
    actor_type: ActorType | None = None


@dataclass(frozen=True, slots=True)
class AuditFilter:
    action: str | None = None
    result: AuditResult | None = None
    actor_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None
    object_id: str | None = None
    occurred_after: datetime | None = None
    occurred_before: datetime | None = None


def to_row(*, principal: Principal, meta: RequestMeta, entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "actor_type": entry.actor_type
        or (
            ActorType.PROVIDER_CLIENT if principal.provider_system else _ACTOR_TYPES[principal.kind]
        ),
        "actor_id": entry.actor_id if entry.actor_id is not None else principal.id,
        "actor_label": entry.actor_label or principal.label,
        "account_id": entry.account_id if entry.account_id is not None else principal.account_id,
        "action": entry.action,
        "object_ids": list(entry.object_ids),
        "result": entry.result,
        "ip_address": meta.ip_address,
        "request_id": meta.request_id,
        "operation_name": meta.operation_name,
        "details": entry.details,
    }


_INSERT = sa.insert(AuditEvent.__table__)  # type: ignore[attr-defined]


async def append_events(
    *,
    session: AsyncSession,
    principal: Principal,
    meta: RequestMeta,
    entries: Sequence[AuditEntry],
    commit: bool = False,
) -> None:
    """Add ``entries`` in ``session``'s transaction (the caller commits, unless ``commit``).
    Appending is allowed in any scope: the trail's row-level security admits every insert."""
    if entries:
        rows = [to_row(principal=principal, meta=meta, entry=entry) for entry in entries]
        # On the driver when it may (one round trip, no per-row ORM work), the commit too when
        # nothing else ran through the session; else a Core insert.
        if commit and await execute_many(session, _INSERT, rows, commit=True):
            return
        if not await execute_many(session, _INSERT, rows):
            await session.execute(_INSERT, rows)
    if commit:
        await session.commit()


def recorded_ctes(rows: Sequence[dict[str, Any]]) -> list[sa.CTE]:
    """``rows`` (``to_row``) as ``INSERT`` statements to put in another statement's ``WITH``
    clause (``add_cte``), so they cost no round trip of their own: one single-row ``INSERT`` per
    row, which SQLAlchemy compiles once and caches (a multi-row ``VALUES`` it would compile anew
    every time).

    The entries' time is given here, as the column's default would set it: SQLAlchemy cannot
    compute a Python-side default for two nested ``INSERT``s into one table."""
    occurred_at = utcnow()
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    return [
        sa.insert(table).values(**{"occurred_at": occurred_at, **row}).cte(f"recorded_{index}")
        for index, row in enumerate(rows)
    ]


# The columns of a row of ``to_row``, and the time ``recorded_values`` gives every row.
_ROW_COLUMNS = (
    "occurred_at",
    "id",
    "actor_type",
    "actor_id",
    "actor_label",
    "account_id",
    "action",
    "object_ids",
    "result",
    "ip_address",
    "request_id",
    "operation_name",
    "details",
)


@cache
def bound_recorded_ctes(count: int) -> tuple[sa.CTE, ...]:
    """``recorded_ctes`` of ``count`` rows, built once, their values bound parameters
    (``recorded_values``): a statement holding them is the same object each time, so it may go
    to the database driver (``portal.models.driver``), compiled once."""
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    return tuple(
        sa.insert(table)
        .values(
            {
                name: sa.bindparam(f"recorded_{index}_{name}", type_=table.c[name].type)
                for name in _ROW_COLUMNS
            }
        )
        .cte(f"recorded_{index}")
        for index in range(count)
    )


def recorded_values(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The parameters of ``bound_recorded_ctes(len(rows))`` for ``rows`` (``to_row``)."""
    occurred_at = utcnow()
    values: dict[str, Any] = {}
    for index, row in enumerate(rows):
        values[f"recorded_{index}_occurred_at"] = occurred_at
        values.update({f"recorded_{index}_{name}": row[name] for name in _ROW_COLUMNS[1:]})
    return values


async def write_events(
    *,
    sessionmaker: async_sessionmaker[AsyncSession],
    principal: Principal,
    meta: RequestMeta,
    entries: Sequence[AuditEntry],
) -> None:
    """Write ``entries`` in a transaction of their own, committed."""
    if not entries:
        return
    async with sessionmaker() as session:
        # Appending is allowed in any scope; the system scope only keeps the intent explicit.
        set_scope(session, AccountScope.everything())
        await append_events(session=session, principal=principal, meta=meta, entries=entries)
        await session.commit()


async def list_events(
    *, session: AsyncSession, scope: AccountScope, page: PageRequest, filters: AuditFilter
) -> Page[AuditEvent]:
    statement = sa.select(AuditEvent).where(scope.filter(col(AuditEvent.account_id)))
    if filters.action:
        statement = statement.where(col(AuditEvent.action) == filters.action)
    if filters.result is not None:
        statement = statement.where(col(AuditEvent.result) == filters.result)
    if filters.actor_id is not None:
        statement = statement.where(col(AuditEvent.actor_id) == filters.actor_id)
    if filters.account_id is not None:
        statement = statement.where(col(AuditEvent.account_id) == filters.account_id)
    if filters.object_id:
        # Stored raw (a UUID) or as a global id: the filter takes either form of the same id.
        forms = stored_forms(filters.object_id) or (filters.object_id,)
        statement = statement.where(
            col(AuditEvent.object_ids).op("&&")(
                sa.cast(list(forms), postgresql.ARRAY(sa.String(64)))
            )
        )
    if filters.occurred_after is not None:
        statement = statement.where(col(AuditEvent.occurred_at) >= filters.occurred_after)
    if filters.occurred_before is not None:
        statement = statement.where(col(AuditEvent.occurred_at) < filters.occurred_before)
    return await paginate(
        session=session,
        statement=statement,
        keys=[
            SortKey(col(AuditEvent.occurred_at), descending=True, python_type=datetime),
            SortKey(col(AuditEvent.id), descending=True, python_type=uuid.UUID),
        ],
        request=page,
        convert=lambda event: event,
    )


async def load_events(
    *, session: AsyncSession, scope: AccountScope, ids: Sequence[uuid.UUID]
) -> list[AuditEvent | None]:
    rows = await session.scalars(
        sa.select(AuditEvent).where(
            col(AuditEvent.id).in_(ids), scope.filter(col(AuditEvent.account_id))
        )
    )
    by_id = {row.id: row for row in rows}
    return [by_id.get(event_id) for event_id in ids]
