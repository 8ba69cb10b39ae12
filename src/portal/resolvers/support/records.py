"""Reading support requests, their threads and their history, always through one visibility rule.

- staff: every request;
- a User Admin: every request of their account family (a third-party administrator's includes
  its employer clients);
- a Basic user: the requests they opened;
- nobody else (API clients included) sees any.

Internal notes are staff-only: every query that reads comments for someone else filters them out
in SQL, so they appear in no field and no count."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlmodel import col

from portal.auth.principal import Principal, PrincipalKind
from portal.models import (
    Contact,
    PortalUser,
    StaffUser,
    SupportComment,
    SupportRequest,
    SupportRequestStatusChange,
)
from portal.models.enums import (
    Role,
    SupportRequestStatus,
    SupportRequestType,
    SupportTopic,
)
from portal.resolvers.errors import BadUserInput
from portal.resolvers.loading import equals_any, in_key_order
from portal.resolvers.pagination import Page, PageRequest, SortKey, paginate

NUMBER_MAX = 20


@dataclass(frozen=True, slots=True)
class Person:
    """Someone who took part in a request: a portal user or a staff member (name only)."""

    name: str
    staff: bool


@dataclass(frozen=True, slots=True)
class CommentRecord:
    id: uuid.UUID
    support_request_id: uuid.UUID
    body: str
    internal: bool
    created_at: datetime
    author: Person | None


@dataclass(frozen=True, slots=True)
class StatusChangeRecord:
    id: uuid.UUID
    support_request_id: uuid.UUID
    from_status: SupportRequestStatus | None
    to_status: SupportRequestStatus
    changed_at: datetime
    changed_by: Person | None


def visible_requests_condition(principal: Principal) -> sa.ColumnElement[bool]:
    """SQL condition on ``support_requests`` selecting exactly the rows ``principal`` may see."""
    if principal.kind is PrincipalKind.STAFF:
        return sa.true()
    if principal.kind is not PrincipalKind.USER or not principal.account_ids:
        return sa.false()
    in_family = col(SupportRequest.account_id).in_(sorted(principal.account_ids))
    if principal.user_role is Role.USER_ADMIN:
        return in_family
    if principal.user_role is Role.BASIC and principal.id is not None:
        return sa.and_(in_family, col(SupportRequest.requester_user_id) == principal.id)
    return sa.false()


def sees_internal_notes(principal: Principal) -> bool:
    return principal.kind is PrincipalKind.STAFF


def _person(first: str | None, last: str | None, *, staff: bool) -> Person | None:
    if first is None and last is None:
        return None
    return Person(name=" ".join(part for part in (first, last) if part), staff=staff)


def _people_columns(user_column: Any, staff_column: Any) -> tuple[list[Any], Any]:
    """Columns naming the user or staff member in ``user_column``/``staff_column``, and a
    function that joins them onto a select."""
    user = aliased(PortalUser)
    contact = aliased(Contact)
    staff = aliased(StaffUser)
    columns: list[Any] = [
        col(contact.first_name).label("user_first"),
        col(contact.last_name).label("user_last"),
        col(staff.first_name).label("staff_first"),
        col(staff.last_name).label("staff_last"),
    ]

    def join(statement: sa.Select[Any]) -> sa.Select[Any]:
        return (
            statement.outerjoin(user, col(user.id) == user_column)
            .outerjoin(contact, col(contact.id) == col(user.contact_id))
            .outerjoin(staff, col(staff.id) == staff_column)
        )

    return columns, join


def _who(row: Any) -> Person | None:
    if row.staff_first is not None:
        return _person(row.staff_first, row.staff_last, staff=True)
    return _person(row.user_first, row.user_last, staff=False)


async def load_support_requests(
    *, session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[SupportRequest | None]:
    rows = await session.scalars(
        sa.select(SupportRequest).where(
            equals_any(col(SupportRequest.id), ids), visible_requests_condition(principal)
        )
    )
    return in_key_order(ids, rows, lambda row: row.id)


async def load_user_names(
    *, session: AsyncSession, ids: Sequence[uuid.UUID]
) -> list[Person | None]:
    """Portal users (within the session's scope) as people."""
    rows = await session.execute(
        sa.select(col(PortalUser.id), col(Contact.first_name), col(Contact.last_name))
        .join(Contact, col(Contact.id) == col(PortalUser.contact_id))
        .where(equals_any(col(PortalUser.id), ids))
    )
    found = {row[0]: Person(name=f"{row[1]} {row[2]}", staff=False) for row in rows}
    return [found.get(key) for key in ids]


async def load_staff_names(
    *, session: AsyncSession, ids: Sequence[uuid.UUID]
) -> list[Person | None]:
    """Staff members as people."""
    rows = await session.execute(
        sa.select(col(StaffUser.id), col(StaffUser.first_name), col(StaffUser.last_name)).where(
            equals_any(col(StaffUser.id), ids)
        )
    )
    found = {row[0]: Person(name=f"{row[1]} {row[2]}", staff=True) for row in rows}
    return [found.get(key) for key in ids]


async def load_comments(
    *, session: AsyncSession, principal: Principal, request_ids: Sequence[uuid.UUID]
) -> list[list[CommentRecord]]:
    """Each request's thread in order (oldest first); internal notes for staff only."""
    people, join = _people_columns(
        col(SupportComment.author_user_id), col(SupportComment.author_staff_id)
    )
    statement = join(
        sa.select(
            col(SupportComment.id),
            col(SupportComment.support_request_id),
            col(SupportComment.body),
            col(SupportComment.internal),
            col(SupportComment.created_at),
            *people,
        ).select_from(SupportComment)
    ).where(equals_any(col(SupportComment.support_request_id), request_ids))
    if not sees_internal_notes(principal):
        statement = statement.where(col(SupportComment.internal).is_(False))
    rows = await session.execute(
        statement.order_by(col(SupportComment.created_at), col(SupportComment.id))
    )
    by_request: dict[uuid.UUID, list[CommentRecord]] = {}
    for row in rows:
        by_request.setdefault(row.support_request_id, []).append(
            CommentRecord(
                id=row.id,
                support_request_id=row.support_request_id,
                body=row.body,
                internal=row.internal,
                created_at=row.created_at,
                author=_who(row),
            )
        )
    return [by_request.get(request_id, []) for request_id in request_ids]


async def load_history(
    *, session: AsyncSession, request_ids: Sequence[uuid.UUID]
) -> list[list[StatusChangeRecord]]:
    """Each request's status changes, oldest first, with who made them."""
    people, join = _people_columns(
        col(SupportRequestStatusChange.changed_by_user_id),
        col(SupportRequestStatusChange.changed_by_staff_id),
    )
    rows = await session.execute(
        join(
            sa.select(
                col(SupportRequestStatusChange.id),
                col(SupportRequestStatusChange.support_request_id),
                col(SupportRequestStatusChange.from_status),
                col(SupportRequestStatusChange.to_status),
                col(SupportRequestStatusChange.changed_at),
                *people,
            ).select_from(SupportRequestStatusChange)
        )
        .where(equals_any(col(SupportRequestStatusChange.support_request_id), request_ids))
        .order_by(col(SupportRequestStatusChange.changed_at), col(SupportRequestStatusChange.id))
    )
    by_request: dict[uuid.UUID, list[StatusChangeRecord]] = {}
    for row in rows:
        by_request.setdefault(row.support_request_id, []).append(
            StatusChangeRecord(
                id=row.id,
                support_request_id=row.support_request_id,
                from_status=row.from_status,
                to_status=row.to_status,
                changed_at=row.changed_at,
                changed_by=_who(row),
            )
        )
    return [by_request.get(request_id, []) for request_id in request_ids]


async def load_requests_by_document(
    *, session: AsyncSession, principal: Principal, document_ids: Sequence[uuid.UUID]
) -> list[list[SupportRequest]]:
    return await _requests_by(
        session, principal, col(SupportRequest.document_id), document_ids, lambda r: r.document_id
    )


async def load_requests_by_visit(
    *, session: AsyncSession, principal: Principal, visit_ids: Sequence[uuid.UUID]
) -> list[list[SupportRequest]]:
    return await _requests_by(
        session, principal, col(SupportRequest.visit_id), visit_ids, lambda r: r.visit_id
    )


async def _requests_by(
    session: AsyncSession,
    principal: Principal,
    column: Any,
    keys: Sequence[uuid.UUID],
    key_of: Callable[[SupportRequest], uuid.UUID | None],
) -> list[list[SupportRequest]]:
    """The requests about each object that ``principal`` may see, in list order."""
    order = [key.column.desc() for key in request_order(principal)]
    rows = await session.scalars(
        sa.select(SupportRequest)
        .where(equals_any(column, keys), visible_requests_condition(principal))
        .order_by(*order)
    )
    by_key: dict[uuid.UUID, list[SupportRequest]] = {}
    for row in rows:
        key = key_of(row)
        if key is not None:
            by_key.setdefault(key, []).append(row)
    return [by_key.get(key, []) for key in keys]


@dataclass(frozen=True, slots=True)
class SupportRequestFilter:
    status: SupportRequestStatus | None = None
    request_type: SupportRequestType | None = None
    topic: SupportTopic | None = None
    urgent: bool | None = None
    assigned_to_me: bool | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    account_id: uuid.UUID | None = None
    number: str | None = None

    def for_audit(self) -> dict[str, Any]:
        return {
            key: (str(value) if isinstance(value, (uuid.UUID, datetime)) else value)
            for key, value in asdict(self).items()
            if value is not None
        }


def request_order(principal: Principal) -> tuple[SortKey, ...]:
    """Newest first; for staff, urgent (privacy) requests before all others."""
    newest = (
        SortKey(col(SupportRequest.created_at), descending=True, python_type=datetime),
        SortKey(col(SupportRequest.id), descending=True, python_type=uuid.UUID),
    )
    if principal.kind is PrincipalKind.STAFF:
        # 1 for urgent, 0 otherwise: a cursor compares numbers (SQL cannot seek past a boolean
        # literal portably).
        urgency = sa.case((col(SupportRequest.urgent).is_(True), 1), else_=0)
        return (SortKey(urgency, descending=True, python_type=int), *newest)
    return newest


async def search_support_requests(
    *,
    session: AsyncSession,
    principal: Principal,
    page: PageRequest,
    filters: SupportRequestFilter,
) -> Page[SupportRequest]:
    statement = sa.select(SupportRequest).where(visible_requests_condition(principal))
    if filters.status is not None:
        statement = statement.where(col(SupportRequest.status) == filters.status)
    if filters.request_type is not None:
        statement = statement.where(col(SupportRequest.request_type) == filters.request_type)
    if filters.topic is not None:
        statement = statement.where(col(SupportRequest.topic) == filters.topic)
    if filters.urgent is not None:
        statement = statement.where(col(SupportRequest.urgent).is_(filters.urgent))
    if filters.assigned_to_me is not None:
        assignee = col(SupportRequest.assigned_staff_id)
        mine = (
            sa.and_(assignee.is_not(None), assignee == principal.id)
            if principal.kind is PrincipalKind.STAFF and principal.id is not None
            else sa.false()
        )
        statement = statement.where(mine if filters.assigned_to_me else sa.not_(mine))
    if filters.created_after is not None:
        statement = statement.where(col(SupportRequest.created_at) >= filters.created_after)
    if filters.created_before is not None:
        statement = statement.where(col(SupportRequest.created_at) < filters.created_before)
    if filters.account_id is not None:
        statement = statement.where(col(SupportRequest.account_id) == filters.account_id)
    if filters.number is not None and filters.number.strip():
        number = filters.number.strip().upper()
        if len(number) > NUMBER_MAX:
            raise BadUserInput(
                f"A request number has at most {NUMBER_MAX} characters.", field="filter.number"
            )
        statement = statement.where(col(SupportRequest.number) == number)
    return await paginate(
        session=session,
        statement=statement,
        keys=request_order(principal),
        request=page,
        convert=lambda row: row,
    )
