"""Reading authorizations: who sees which (in SQL), the status derived at read time, loading by
id, search, and the batch loaders of their services, recipients, history and visit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal, PrincipalKind
from portal.models import (
    ApiClient,
    Authorization,
    AuthorizationEvent,
    AuthorizationRecipient,
    AuthorizationService,
    Contact,
    Employee,
    PortalUser,
    Service,
    Visit,
)
from portal.models.db import AccountScope
from portal.models.enums import AuthorizationState, AuthorizationStatus, Modality, Role
from portal.resolvers.loading import equals_any, in_key_order
from portal.resolvers.names import employee_name_matches
from portal.resolvers.pagination import Page, PageRequest, SortKey, paginate


@dataclass(frozen=True, slots=True)
class AuthorizationRecord:
    """An authorization as readers see it, its status derived when read."""

    id: uuid.UUID
    account_id: uuid.UUID
    number: str
    status: AuthorizationStatus
    employee_id: uuid.UUID
    location_id: uuid.UUID
    modality: Modality
    medical_center_id: uuid.UUID | None
    valid_from: date
    valid_until: date
    special_instructions: str | None
    created_by_user_id: uuid.UUID | None
    created_by_client_id: uuid.UUID | None
    template_id: uuid.UUID | None
    service_package_id: uuid.UUID | None
    sent_at: datetime | None
    cancelled_at: datetime | None
    created_at: datetime


def used_by_a_visit() -> sa.ColumnElement[bool]:
    return sa.exists().where(col(Visit.authorization_id) == col(Authorization.id))


def authorization_status_expression() -> sa.ColumnElement[str]:
    """The status, derived from the row when read (never stored, so never stale): CANCELLED once
    cancelled; USED once a visit used it; EXPIRED after its last valid day; else ACTIVE."""
    return sa.case(
        (col(Authorization.cancelled_at).is_not(None), AuthorizationStatus.CANCELLED.value),
        (
            sa.or_(col(Authorization.state) == AuthorizationState.USED.value, used_by_a_visit()),
            AuthorizationStatus.USED.value,
        ),
        (
            col(Authorization.valid_until) < sa.func.current_date(),
            AuthorizationStatus.EXPIRED.value,
        ),
        else_=AuthorizationStatus.ACTIVE.value,
    )


def visible_authorizations_condition(principal: Principal) -> sa.ColumnElement[bool]:
    """What the caller may see: staff every account's; a User Admin (and a third-party
    administrator, its clients') and an API client their accounts'; a Basic user only the ones
    they created. Deleted ones are gone for everyone."""
    condition = sa.and_(
        principal.scope.filter(col(Authorization.account_id)),
        col(Authorization.deleted_at).is_(None),
    )
    if principal.kind is PrincipalKind.USER and principal.user_role is not Role.USER_ADMIN:
        return sa.and_(condition, col(Authorization.created_by_user_id) == principal.id)
    return condition


def record_columns() -> Any:
    return sa.select(
        col(Authorization.id),
        col(Authorization.account_id),
        col(Authorization.number),
        authorization_status_expression().label("status"),
        col(Authorization.employee_id),
        col(Authorization.location_id),
        col(Authorization.modality),
        col(Authorization.medical_center_id),
        col(Authorization.valid_from),
        col(Authorization.valid_until),
        col(Authorization.special_instructions),
        col(Authorization.created_by_user_id),
        col(Authorization.created_by_client_id),
        col(Authorization.template_id),
        col(Authorization.service_package_id),
        col(Authorization.sent_at),
        col(Authorization.cancelled_at),
        col(Authorization.created_at),
    )


RECORD_WIDTH = 18


def to_record(row: Sequence[Any]) -> AuthorizationRecord:
    """A row of ``record_columns`` (a Row, or the plain tuple ``paginate`` hands over)."""
    values = list(tuple(row)[:RECORD_WIDTH])
    values[3] = AuthorizationStatus(values[3])
    values[6] = Modality(values[6])
    return AuthorizationRecord(*values)


async def load_authorizations(
    *, session: AsyncSession, principal: Principal, ids: Sequence[uuid.UUID]
) -> list[AuthorizationRecord | None]:
    rows = await session.execute(
        record_columns().where(
            equals_any(col(Authorization.id), ids), visible_authorizations_condition(principal)
        )
    )
    return in_key_order(ids, (to_record(row) for row in rows), lambda item: item.id)


async def load_authorization_by_number(
    *, session: AsyncSession, principal: Principal, number: str
) -> AuthorizationRecord | None:
    row = (
        await session.execute(
            record_columns().where(
                col(Authorization.number) == number.strip().upper(),
                visible_authorizations_condition(principal),
            )
        )
    ).one_or_none()
    return to_record(row) if row is not None else None


@dataclass(frozen=True, slots=True)
class AuthorizationFilter:
    status: AuthorizationStatus | None = None
    employee_name: str | None = None
    employee_id: uuid.UUID | None = None
    location_id: uuid.UUID | None = None
    modality: Modality | None = None
    number: str | None = None
    created_by_user_id: uuid.UUID | None = None
    created_by_client_id: uuid.UUID | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    valid_on: date | None = None

    def for_audit(self) -> dict[str, Any]:
        return {
            key: (str(value) if isinstance(value, (uuid.UUID, date, datetime)) else value)
            for key, value in asdict(self).items()
            if value is not None
        }


AUTHORIZATION_ORDER = (
    SortKey(col(Authorization.created_at), descending=True, python_type=datetime),
    SortKey(col(Authorization.id), descending=True, python_type=uuid.UUID),
)


def _filtered(
    statement: sa.Select[Any], filters: AuthorizationFilter, scope: AccountScope
) -> sa.Select[Any]:
    if filters.status is not None:
        statement = statement.where(authorization_status_expression() == filters.status.value)
    if filters.employee_name is not None:
        statement = statement.where(
            col(Authorization.employee_id).in_(
                sa.select(col(Employee.id)).where(
                    scope.filter(col(Employee.account_id)),
                    employee_name_matches(
                        filters.employee_name,
                        scope=scope,
                        argument="employeeName",
                        field="filter.employeeName",
                    ),
                )
            )
        )
    if filters.employee_id is not None:
        statement = statement.where(col(Authorization.employee_id) == filters.employee_id)
    if filters.location_id is not None:
        statement = statement.where(col(Authorization.location_id) == filters.location_id)
    if filters.modality is not None:
        statement = statement.where(col(Authorization.modality) == filters.modality)
    if filters.number is not None and filters.number.strip():
        statement = statement.where(col(Authorization.number) == filters.number.strip().upper())
    if filters.created_by_user_id is not None:
        statement = statement.where(
            col(Authorization.created_by_user_id) == filters.created_by_user_id
        )
    if filters.created_by_client_id is not None:
        statement = statement.where(
            col(Authorization.created_by_client_id) == filters.created_by_client_id
        )
    if filters.created_after is not None:
        statement = statement.where(col(Authorization.created_at) >= filters.created_after)
    if filters.created_before is not None:
        statement = statement.where(col(Authorization.created_at) < filters.created_before)
    if filters.valid_on is not None:
        statement = statement.where(
            col(Authorization.valid_from) <= filters.valid_on,
            col(Authorization.valid_until) >= filters.valid_on,
        )
    return statement


async def search_authorizations(
    *,
    session: AsyncSession,
    principal: Principal,
    page: PageRequest,
    filters: AuthorizationFilter,
) -> Page[AuthorizationRecord]:
    """The authorizations the caller may see matching ``filters``, newest first."""
    statement = _filtered(
        record_columns().where(visible_authorizations_condition(principal)),
        filters,
        principal.scope,
    )
    return await paginate(
        session=session,
        statement=statement,
        keys=AUTHORIZATION_ORDER,
        request=page,
        convert=to_record,
    )


async def load_authorizations_by_employee(
    *, session: AsyncSession, principal: Principal, employee_ids: Sequence[uuid.UUID]
) -> list[list[AuthorizationRecord]]:
    """Each employee's authorizations the caller may see, newest first."""
    rows = await session.execute(
        record_columns()
        .where(
            equals_any(col(Authorization.employee_id), employee_ids),
            visible_authorizations_condition(principal),
        )
        .order_by(col(Authorization.created_at).desc(), col(Authorization.id).desc())
    )
    by_employee: dict[uuid.UUID, list[AuthorizationRecord]] = {}
    for record in map(to_record, rows):
        by_employee.setdefault(record.employee_id, []).append(record)
    return [by_employee.get(employee_id, []) for employee_id in employee_ids]


async def load_services_by_authorization(
    *, session: AsyncSession, scope: AccountScope, authorization_ids: Sequence[uuid.UUID]
) -> list[list[Service]]:
    rows = await session.execute(
        sa.select(col(AuthorizationService.authorization_id), Service)
        .join(Service, col(Service.id) == col(AuthorizationService.service_id))
        .where(
            equals_any(col(AuthorizationService.authorization_id), authorization_ids),
            scope.filter(col(AuthorizationService.account_id)),
        )
        .order_by(col(Service.name), col(Service.id))
    )
    by_authorization: dict[uuid.UUID, list[Service]] = {}
    for authorization_id, service in rows:
        by_authorization.setdefault(authorization_id, []).append(service)
    return [by_authorization.get(i, []) for i in authorization_ids]


async def load_recipients_by_authorization(
    *, session: AsyncSession, scope: AccountScope, authorization_ids: Sequence[uuid.UUID]
) -> list[list[AuthorizationRecipient]]:
    rows = await session.scalars(
        sa.select(AuthorizationRecipient)
        .where(
            equals_any(col(AuthorizationRecipient.authorization_id), authorization_ids),
            scope.filter(col(AuthorizationRecipient.account_id)),
        )
        .order_by(col(AuthorizationRecipient.created_at), col(AuthorizationRecipient.email))
    )
    by_authorization: dict[uuid.UUID, list[AuthorizationRecipient]] = {}
    for recipient in rows:
        by_authorization.setdefault(recipient.authorization_id, []).append(recipient)
    return [by_authorization.get(i, []) for i in authorization_ids]


async def load_events_by_authorization(
    *, session: AsyncSession, scope: AccountScope, authorization_ids: Sequence[uuid.UUID]
) -> list[list[AuthorizationEvent]]:
    rows = await session.scalars(
        sa.select(AuthorizationEvent)
        .where(
            equals_any(col(AuthorizationEvent.authorization_id), authorization_ids),
            scope.filter(col(AuthorizationEvent.account_id)),
        )
        .order_by(col(AuthorizationEvent.created_at), col(AuthorizationEvent.id))
    )
    by_authorization: dict[uuid.UUID, list[AuthorizationEvent]] = {}
    for event in rows:
        by_authorization.setdefault(event.authorization_id, []).append(event)
    return [by_authorization.get(i, []) for i in authorization_ids]


async def load_visit_by_authorization(
    *, session: AsyncSession, scope: AccountScope, authorization_ids: Sequence[uuid.UUID]
) -> list[Visit | None]:
    """The (first) visit that used each authorization."""
    rows = await session.scalars(
        sa.select(Visit)
        .where(
            equals_any(col(Visit.authorization_id), authorization_ids),
            scope.filter(col(Visit.account_id)),
        )
        .order_by(col(Visit.visited_at).desc())
    )
    by_authorization: dict[uuid.UUID, Visit] = {}
    for visit in rows:
        if visit.authorization_id is not None:
            by_authorization[visit.authorization_id] = visit
    return [by_authorization.get(i) for i in authorization_ids]


@dataclass(frozen=True, slots=True)
class ActorName:
    """Who did something to an authorization, as its readers see them: a name, no more."""

    id: uuid.UUID
    name: str
    email: str | None


async def load_user_names(
    *, session: AsyncSession, scope: AccountScope, ids: Sequence[uuid.UUID]
) -> list[ActorName | None]:
    rows = await session.execute(
        sa.select(
            col(PortalUser.id),
            col(Contact.first_name),
            col(Contact.last_name),
            col(PortalUser.email),
        )
        .join(Contact, col(Contact.id) == col(PortalUser.contact_id))
        .where(equals_any(col(PortalUser.id), ids), scope.filter(col(PortalUser.account_id)))
    )
    names = (ActorName(row[0], f"{row[1]} {row[2]}", row[3]) for row in rows)
    return in_key_order(ids, names, lambda item: item.id)


async def load_api_client_names(
    *, session: AsyncSession, scope: AccountScope, ids: Sequence[uuid.UUID]
) -> list[ActorName | None]:
    rows = await session.execute(
        sa.select(col(ApiClient.id), col(ApiClient.name)).where(
            equals_any(col(ApiClient.id), ids), scope.filter(col(ApiClient.account_id))
        )
    )
    names = (ActorName(row[0], row[1], None) for row in rows)
    return in_key_order(ids, names, lambda item: item.id)
