"""Recording visits and moving them through their statuses (staff ingestion).

Every function commits its own transaction: the visit, the authorization it uses up and that
authorization's history row, or the status change and its webhook event, commit together.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.ids import global_id
from portal.models import (
    Account,
    Authorization,
    AuthorizationEvent,
    Employee,
    MedicalCenter,
    Visit,
)
from portal.models.base import utcnow
from portal.models.db import AccountScope
from portal.models.enums import AuthorizationEventKind, AuthorizationState, VisitStatus, VisitType
from portal.resolvers.errors import BadUserInput, ErrorCode, NotFound, PortalError
from portal.resolvers.outbox import enqueue_webhook_event

# The one way a visit moves forward; anything else is refused.
NEXT_STATUS: dict[VisitStatus, VisitStatus] = {
    VisitStatus.CHECKED_IN: VisitStatus.CHECKED_OUT,
    VisitStatus.CHECKED_OUT: VisitStatus.RESULTS_PENDING,
    VisitStatus.RESULTS_PENDING: VisitStatus.COMPLETE,
}
CLAIM_NUMBER_MAX = 40
AUTHORIZATION_NUMBER_MAX = 20


# Longest account number, employee number and name accepted in an employee reference.
REFERENCE_MAX = 100


@dataclass(frozen=True, slots=True)
class EmployeeReference:
    """An employee named the way a provider system knows them, without reading employees: the
    employer's account number with the employee number, or with name and date of birth."""

    account_number: str
    employee_number: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    date_of_birth: date | None = None


def _given(value: str | None, field: str) -> str | None:
    text = (value or "").strip()
    if len(text) > REFERENCE_MAX:
        raise BadUserInput(f"At most {REFERENCE_MAX} characters.", field=f"employee.{field}")
    return text or None


async def find_employee_id(
    *, session: AsyncSession, scope: AccountScope, reference: EmployeeReference
) -> uuid.UUID:
    """The one employee the reference names; a user error when none or several match."""
    account_number = _given(reference.account_number, "accountNumber")
    employee_number = _given(reference.employee_number, "employeeNumber")
    first_name = _given(reference.first_name, "firstName")
    last_name = _given(reference.last_name, "lastName")
    if account_number is None:
        raise BadUserInput("Give the employer's account number.", field="employee.accountNumber")
    by_name = first_name is not None and last_name is not None and reference.date_of_birth
    if employee_number is None and not by_name:
        raise BadUserInput(
            "Name the employee by employeeNumber, or by firstName, lastName and dateOfBirth.",
            field="employee",
        )
    statement = (
        sa.select(col(Employee.id))
        .join(Account, col(Account.id) == col(Employee.account_id))
        .where(col(Account.account_number) == account_number, scope.filter(col(Account.id)))
        .limit(2)
    )
    if employee_number is not None:
        statement = statement.where(col(Employee.employee_number) == employee_number)
    if by_name:
        assert first_name is not None
        assert last_name is not None
        statement = statement.where(
            sa.func.lower(col(Employee.first_name)) == first_name.casefold(),
            sa.func.lower(col(Employee.last_name)) == last_name.casefold(),
            col(Employee.date_of_birth) == reference.date_of_birth,
        )
    found = list(await session.scalars(statement))
    if not found:
        raise PortalError(
            "No employee of that account matches.",
            code=ErrorCode.EMPLOYEE_NOT_FOUND,
            field="employee",
        )
    if len(found) > 1:
        raise PortalError(
            "More than one employee of that account matches: give the employee number.",
            code=ErrorCode.EMPLOYEE_AMBIGUOUS,
            field="employee",
        )
    return found[0]


async def record_visit(
    *,
    session: AsyncSession,
    scope: AccountScope,
    employee_id: uuid.UUID,
    medical_center_id: uuid.UUID,
    visited_at: datetime,
    visit_type: VisitType,
    claim_number: str | None = None,
    authorization_id: uuid.UUID | None = None,
    authorization_number: str | None = None,
) -> Visit:
    """Record a visit; the account and location come from the employee, never from the caller.

    An authorization (by id, or by the number the front desk scans) must belong to the same
    employee, be ACTIVE and cover the visit's date; it becomes USED, with a USED row in its
    history.
    """
    number = (authorization_number or "").strip().upper() or None
    if number is not None and authorization_id is not None:
        raise BadUserInput(
            "Give the authorization's id or its number, not both.", field="authorizationNumber"
        )
    if number is not None and len(number) > AUTHORIZATION_NUMBER_MAX:
        raise BadUserInput("This is not an authorization number.", field="authorizationNumber")
    if visited_at.tzinfo is None:
        raise BadUserInput("Give the visit time with its time zone.", field="visitedAt")
    claim = (claim_number or "").strip() or None
    if claim is not None and visit_type is not VisitType.INJURY:
        raise BadUserInput("Only injury visits have a claim number.", field="claimNumber")
    if claim is not None and len(claim) > CLAIM_NUMBER_MAX:
        raise BadUserInput(
            f"A claim number has at most {CLAIM_NUMBER_MAX} characters.", field="claimNumber"
        )
    employee = await session.scalar(
        sa.select(Employee).where(
            col(Employee.id) == employee_id, scope.filter(col(Employee.account_id))
        )
    )
    if employee is None:
        raise NotFound("No employee has this id.", field="employeeId")
    center_active = await session.scalar(
        sa.select(col(MedicalCenter.is_active)).where(col(MedicalCenter.id) == medical_center_id)
    )
    if center_active is None:
        raise NotFound("No medical center has this id.", field="medicalCenterId")
    if not center_active:
        raise BadUserInput("This medical center is closed.", field="medicalCenterId")

    authorization: Authorization | None = None
    if authorization_id is not None or number is not None:
        authorization = await _usable_authorization(
            session=session,
            scope=scope,
            authorization_id=authorization_id,
            number=number,
            employee=employee,
            visited_at=visited_at,
        )

    visit = Visit(
        account_id=employee.account_id,
        employee_id=employee.id,
        location_id=employee.location_id,
        medical_center_id=medical_center_id,
        authorization_id=authorization.id if authorization else None,
        visited_at=visited_at,
        visit_type=visit_type,
        claim_number=claim,
        status=VisitStatus.CHECKED_IN,
    )
    session.add(visit)
    if authorization is not None:
        authorization.state = AuthorizationState.USED
        authorization.updated_at = utcnow()
        session.add(
            AuthorizationEvent(
                authorization_id=authorization.id,
                account_id=authorization.account_id,
                kind=AuthorizationEventKind.USED,
                note=f"visit {visit.id}",
            )
        )
    await session.flush()
    await session.commit()
    return visit


async def _usable_authorization(
    *,
    session: AsyncSession,
    scope: AccountScope,
    authorization_id: uuid.UUID | None,
    number: str | None,
    employee: Employee,
    visited_at: datetime,
) -> Authorization:
    field = "authorizationId" if authorization_id is not None else "authorizationNumber"
    which = (
        col(Authorization.id) == authorization_id
        if authorization_id is not None
        else col(Authorization.number) == number
    )
    # Locked so that two visits recorded at once cannot both use the same authorization.
    authorization = await session.scalar(
        sa.select(Authorization)
        .where(
            which,
            col(Authorization.deleted_at).is_(None),
            scope.filter(col(Authorization.account_id)),
        )
        .with_for_update()
    )
    # Another employee's authorization answers like an unknown one: it is not this visit's.
    if authorization is None or authorization.employee_id != employee.id:
        raise NotFound(
            f"No authorization of this employee has this {field[13:].lower()}.", field=field
        )
    if authorization.state is not AuthorizationState.ACTIVE:
        raise BadUserInput(
            f"This authorization is {authorization.state.value.lower()}, not active.",
            field=field,
        )
    visit_day = visited_at.date()
    if visit_day > authorization.valid_until or visit_day < authorization.valid_from:
        raise BadUserInput(
            "This authorization is not valid on the visit's date (it is expired or not yet valid).",
            field=field,
        )
    return authorization


async def update_visit_status(
    *,
    session: AsyncSession,
    scope: AccountScope,
    visit_id: uuid.UUID,
    status: VisitStatus,
    checked_out_at: datetime | None = None,
) -> Visit:
    """Move a visit one step: CHECKED_IN -> CHECKED_OUT -> RESULTS_PENDING -> COMPLETE.

    Checking out records the check-out time (now unless given). Webhook subscribers get a
    ``visit.status_changed`` event in the same transaction.
    """
    visit = await session.scalar(
        sa.select(Visit)
        .where(col(Visit.id) == visit_id, scope.filter(col(Visit.account_id)))
        .with_for_update()
    )
    if visit is None:
        raise NotFound("No visit has this id.", field="id")
    if NEXT_STATUS.get(visit.status) is not status:
        raise PortalError(
            f"A {visit.status.value} visit cannot become {status.value}.",
            code=ErrorCode.INVALID_TRANSITION,
            field="status",
        )
    if checked_out_at is not None and status is not VisitStatus.CHECKED_OUT:
        raise BadUserInput(
            "A check-out time is given only when checking out.", field="checkedOutAt"
        )
    now = utcnow()
    if status is VisitStatus.CHECKED_OUT:
        out = checked_out_at or now
        if out.tzinfo is None:
            raise BadUserInput("Give the check-out time with its time zone.", field="checkedOutAt")
        if out < visit.visited_at:
            raise BadUserInput(
                "The check-out time is before the visit started.", field="checkedOutAt"
            )
        visit.checked_out_at = out
    previous = visit.status
    visit.status = status
    visit.status_changed_at = now
    visit.updated_at = now
    enqueue_webhook_event(
        session=session,
        account_id=visit.account_id,
        topic="visit.status_changed",
        data={
            "visitId": global_id("Visit", visit.id),
            "from": previous.value,
            "to": status.value,
        },
    )
    await session.flush()
    await session.commit()
    return visit
