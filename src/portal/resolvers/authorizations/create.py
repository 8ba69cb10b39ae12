"""Creating authorizations (one, or one per employee from a template), idempotently: checked
first, then written set-based in one transaction, or nothing at all."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal
from portal.models import Authorization, AuthorizationService
from portal.resolvers.authorizations.drafts import (
    Draft,
    InvalidDrafts,
    NewEmployee,
    Ready,
    check_drafts,
)
from portal.resolvers.authorizations.records import visible_authorizations_condition
from portal.resolvers.authorizations.sending import insert_authorizations
from portal.resolvers.errors import BadUserInput, NotFound, PortalError
from portal.resolvers.idempotency import Replay, claim_key, record_result

MAX_BULK = 500


@dataclass(frozen=True, slots=True)
class Created:
    """The authorizations made (or made by the first call with the same idempotency key)."""

    authorization_ids: tuple[uuid.UUID, ...]
    replayed: bool = False
    # Employees given inline and created with them (not known on a replay).
    new_employee_ids: tuple[uuid.UUID, ...] = ()


async def _write(
    *,
    session: AsyncSession,
    principal: Principal,
    drafts: Sequence[Draft],
    send: bool,
    operation: str,
    idempotency_key: str | None,
    request: Any,
) -> Created:
    try:
        claim = None
        if idempotency_key is not None:
            outcome = await claim_key(
                session=session,
                principal=principal,
                operation=operation,
                key=idempotency_key,
                request=request,
            )
            if isinstance(outcome, Replay):
                await session.rollback()
                ids = tuple(uuid.UUID(i) for i in outcome.result["authorizationIds"])
                return Created(authorization_ids=ids, replayed=True)
            claim = outcome
        checked = await check_drafts(session=session, principal=principal, drafts=drafts)
        if any(isinstance(answer, list) for answer in checked):
            raise InvalidDrafts([a if isinstance(a, list) else [] for a in checked])
        ready = [answer for answer in checked if isinstance(answer, Ready)]
        await insert_authorizations(session=session, principal=principal, ready=ready, send=send)
        ids = tuple(r.id for r in ready)
        if claim is not None:
            await record_result(
                session=session,
                claim=claim,
                result={"authorizationIds": [str(i) for i in ids]},
            )
        await session.commit()
    except (PortalError, InvalidDrafts):
        # Nothing of a refused call stays: not the key, not a new employee.
        await session.rollback()
        raise
    return Created(
        authorization_ids=ids,
        new_employee_ids=tuple(r.employee_id for r in ready if r.new_employee is not None),
    )


async def create_authorization(
    *,
    session: AsyncSession,
    principal: Principal,
    draft: Draft,
    send: bool,
    idempotency_key: str | None = None,
    request: Any = None,
) -> Created:
    """Check and create one authorization (and its new employee), sending it when asked.
    Raises ``InvalidDrafts`` (every user error) or ``PortalError``; writes nothing then."""
    return await _write(
        session=session,
        principal=principal,
        drafts=[draft],
        send=send,
        operation="createAuthorization",
        idempotency_key=idempotency_key,
        request=request,
    )


@dataclass(frozen=True, slots=True)
class TemplateRow:
    """One employee of a bulk call: an existing one's id, or a new employee."""

    employee_id: uuid.UUID | None = None
    new_employee: NewEmployee | None = None


async def template_drafts(
    *,
    session: AsyncSession,
    principal: Principal,
    template_id: uuid.UUID,
    rows: Sequence[TemplateRow],
    valid_from: date | None,
    valid_until: date | None,
) -> list[Draft]:
    """One draft per row, with the template's services, modality, center and instructions."""
    if not rows:
        raise BadUserInput("Give at least one employee.", field="employees")
    if len(rows) > MAX_BULK:
        raise BadUserInput(f"At most {MAX_BULK} employees per call.", field="employees")
    template = await session.scalar(
        sa.select(Authorization).where(
            col(Authorization.id) == template_id, visible_authorizations_condition(principal)
        )
    )
    if template is None:
        raise NotFound("No authorization of yours has this id.", field="templateId")
    services = tuple(
        (
            await session.scalars(
                sa.select(col(AuthorizationService.service_id)).where(
                    col(AuthorizationService.authorization_id) == template.id
                )
            )
        ).all()
    )
    base = Draft(
        modality=template.modality,
        service_ids=services,
        medical_center_id=template.medical_center_id,
        valid_from=valid_from,
        valid_until=valid_until,
        special_instructions=template.special_instructions,
        template_id=template.id,
    )
    return [
        replace(
            base,
            employee_id=row.employee_id,
            new_employee=row.new_employee,
            # Each employee's own location, whatever the template's employee had.
            location_id=None,
            employee_field=f"employees.{index}.",
        )
        for index, row in enumerate(rows)
    ]


async def check_template_rows(
    *, session: AsyncSession, principal: Principal, drafts: Sequence[Draft]
) -> list[list[PortalError]]:
    """A dry run: every row's user errors (empty when the row is fine); nothing written."""
    checked = await check_drafts(session=session, principal=principal, drafts=drafts)
    await session.rollback()
    return [answer if isinstance(answer, list) else [] for answer in checked]


async def create_from_template(
    *,
    session: AsyncSession,
    principal: Principal,
    drafts: Sequence[Draft],
    send: bool,
    idempotency_key: str | None = None,
    request: Any = None,
) -> Created:
    """All rows or none, in one transaction, one INSERT per table."""
    return await _write(
        session=session,
        principal=principal,
        drafts=drafts,
        send=send,
        operation="createAuthorizationsFromTemplate",
        idempotency_key=idempotency_key,
        request=request,
    )
