"""Sending again, extending, cancelling and deleting an authorization.

Each loads the authorization under the caller's visibility (a Basic user only their own, so
"its creator or a User Admin" holds by construction) and locks it, so concurrent changes of one
authorization run one at a time. Each commits its own transaction, or writes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal
from portal.models import (
    Account,
    Authorization,
    AuthorizationEvent,
    AuthorizationRecipient,
    Contact,
    Employee,
    OutboxMessage,
)
from portal.models.base import utcnow
from portal.models.enums import AuthorizationEventKind, AuthorizationState, AuthorizationStatus
from portal.resolvers.authorizations.drafts import MAX_VALIDITY_DAYS, InvalidDrafts, RecipientDraft
from portal.resolvers.authorizations.recipients import check_recipients, clean_email
from portal.resolvers.authorizations.records import (
    authorization_status_expression,
    visible_authorizations_condition,
)
from portal.resolvers.authorizations.sending import Send, history_row, insert_rows, send_rows
from portal.resolvers.errors import BadUserInput, ErrorCode, NotFound, PortalError
from portal.resolvers.idempotency import Claim, Replay, claim_key, record_result

UNKNOWN = "No authorization of yours has this id."
MAX_NOTE = 1000


async def _locked(
    session: AsyncSession, principal: Principal, authorization_id: uuid.UUID
) -> tuple[Authorization, AuthorizationStatus]:
    row = (
        await session.execute(
            sa.select(Authorization, authorization_status_expression())
            .where(
                col(Authorization.id) == authorization_id,
                visible_authorizations_condition(principal),
            )
            .with_for_update(of=Authorization)
        )
    ).one_or_none()
    if row is None:
        raise NotFound(UNKNOWN, field="id")
    return row[0], AuthorizationStatus(row[1])


def _note(note: str | None, field: str) -> str | None:
    text = (note or "").strip() or None
    if text is not None and len(text) > MAX_NOTE:
        raise BadUserInput(f"At most {MAX_NOTE} characters.", field=field)
    return text


async def _claim(
    session: AsyncSession,
    principal: Principal,
    operation: str,
    key: str | None,
    request: Any,
) -> Claim | Replay | None:
    if key is None:
        return None
    return await claim_key(
        session=session, principal=principal, operation=operation, key=key, request=request
    )


async def _send(
    session: AsyncSession,
    principal: Principal,
    authorization: Authorization,
    wanted: Sequence[RecipientDraft] | None,
) -> None:
    """Send to the center's integration and email the recipients (``wanted``: new or known
    addresses; None: everyone it was sent to before), each send kept per recipient."""
    existing = {
        r.email.lower(): r
        for r in await session.scalars(
            sa.select(AuthorizationRecipient).where(
                col(AuthorizationRecipient.authorization_id) == authorization.id
            )
        )
    }
    targets: list[tuple[Any, str | None, str]]
    if wanted is None:
        targets = [(r.kind, r.name, r.email.lower()) for r in existing.values()]
    else:
        account = await session.get(Account, authorization.account_id)
        employee = await session.get(Employee, authorization.employee_id)
        if account is None or employee is None:  # the foreign keys forbid it
            raise NotFound(UNKNOWN, field="id")
        contacts = set(
            (
                await session.scalars(
                    sa.select(sa.func.lower(col(Contact.work_email))).where(
                        col(Contact.account_id) == account.id, col(Contact.is_active).is_(True)
                    )
                )
            ).all()
        )
        errors: list[PortalError] = []
        targets = check_recipients(
            wanted,
            account=account,
            contact_emails=contacts,
            employee_email=clean_email(employee.email),
            employee_name=f"{employee.first_name} {employee.last_name}",
            include_employee=False,
            errors=errors,
        )
        if errors:
            raise InvalidDrafts([errors])
    now = utcnow()
    new = [
        {
            "id": uuid.uuid4(),
            "authorization_id": authorization.id,
            "account_id": authorization.account_id,
            "kind": kind,
            "name": name,
            "email": email,
            "sent_at": now,
        }
        for kind, name, email in targets
        if email not in existing
    ]
    await insert_rows(session, AuthorizationRecipient, new)
    known = [email for _, _, email in targets if email in existing]
    if known:
        await session.execute(
            sa.update(AuthorizationRecipient)
            .where(
                col(AuthorizationRecipient.authorization_id) == authorization.id,
                sa.func.lower(col(AuthorizationRecipient.email)).in_(known),
            )
            .values(sent_at=now)
            .execution_options(synchronize_session=False)
        )
    events, outbox = send_rows(
        [
            Send(
                authorization_id=authorization.id,
                account_id=authorization.account_id,
                medical_center_id=authorization.medical_center_id,
                recipients=tuple(
                    (email, kind, email not in existing) for kind, _, email in targets
                ),
            )
        ],
        principal,
        now,
    )
    await insert_rows(session, AuthorizationEvent, events)
    await insert_rows(session, OutboxMessage, outbox)
    authorization.sent_at = now
    authorization.updated_at = now
    session.add(authorization)


async def send_authorization(
    *,
    session: AsyncSession,
    principal: Principal,
    authorization_id: uuid.UUID,
    recipients: Sequence[RecipientDraft] | None,
    idempotency_key: str | None = None,
    request: Any = None,
) -> tuple[uuid.UUID, bool]:
    """Send an active authorization again; answers its id and whether this was a replay."""
    try:
        claim = await _claim(session, principal, "sendAuthorization", idempotency_key, request)
        if isinstance(claim, Replay):
            await session.rollback()
            return uuid.UUID(claim.result["authorizationId"]), True
        authorization, status = await _locked(session, principal, authorization_id)
        if status is not AuthorizationStatus.ACTIVE:
            raise PortalError(
                f"Only an active authorization is sent; this one is {status.value}.",
                code=ErrorCode.INVALID_TRANSITION,
                field="id",
            )
        await _send(session, principal, authorization, recipients)
        await session.flush()
        if isinstance(claim, Claim):
            await record_result(
                session=session, claim=claim, result={"authorizationId": str(authorization.id)}
            )
        await session.commit()
    except (PortalError, InvalidDrafts):
        await session.rollback()
        raise
    return authorization.id, False


async def extend_authorization(
    *,
    session: AsyncSession,
    principal: Principal,
    authorization_id: uuid.UUID,
    valid_until: date,
    note: str | None,
    send: bool,
) -> tuple[uuid.UUID, date]:
    """Move the end later (an active or expired one); answers its id and the previous end."""
    try:
        text = _note(note, "note")
        authorization, status = await _locked(session, principal, authorization_id)
        if status not in (AuthorizationStatus.ACTIVE, AuthorizationStatus.EXPIRED):
            raise PortalError(
                f"A {status.value} authorization cannot be extended.",
                code=ErrorCode.INVALID_TRANSITION,
                field="id",
            )
        previous = authorization.valid_until
        if valid_until <= previous:
            raise BadUserInput(
                f"The new end must be after the current one ({previous.isoformat()}).",
                field="validUntil",
            )
        if valid_until - authorization.valid_from > timedelta(days=MAX_VALIDITY_DAYS):
            raise BadUserInput(
                f"An authorization is valid for at most {MAX_VALIDITY_DAYS} days.",
                field="validUntil",
            )
        now = utcnow()
        authorization.valid_until = valid_until
        authorization.updated_at = now
        session.add(authorization)
        await insert_rows(
            session,
            AuthorizationEvent,
            [
                history_row(
                    authorization.id,
                    authorization.account_id,
                    AuthorizationEventKind.EXTENDED,
                    now,
                    principal,
                    note=text,
                    previous_valid_until=previous,
                    new_valid_until=valid_until,
                )
            ],
        )
        if send:
            await session.flush()
            await _send(session, principal, authorization, None)
        await session.flush()
        await session.commit()
    except (PortalError, InvalidDrafts):
        await session.rollback()
        raise
    return authorization.id, previous


async def cancel_authorization(
    *,
    session: AsyncSession,
    principal: Principal,
    authorization_id: uuid.UUID,
    reason: str | None,
) -> uuid.UUID:
    try:
        text = _note(reason, "reason")
        authorization, status = await _locked(session, principal, authorization_id)
        if status not in (AuthorizationStatus.ACTIVE, AuthorizationStatus.EXPIRED):
            raise PortalError(
                f"A {status.value} authorization cannot be cancelled.",
                code=ErrorCode.INVALID_TRANSITION,
                field="id",
            )
        now = utcnow()
        authorization.state = AuthorizationState.CANCELLED
        authorization.cancelled_at = now
        authorization.updated_at = now
        session.add(authorization)
        await insert_rows(
            session,
            AuthorizationEvent,
            [
                history_row(
                    authorization.id,
                    authorization.account_id,
                    AuthorizationEventKind.CANCELLED,
                    now,
                    principal,
                    note=text,
                )
            ],
        )
        await session.flush()
        await session.commit()
    except PortalError:
        await session.rollback()
        raise
    return authorization.id


async def delete_authorization(
    *, session: AsyncSession, principal: Principal, authorization_id: uuid.UUID
) -> uuid.UUID:
    """Soft delete (User Admin): gone from every list, node and loader; the row stays for the
    audit trail. Answers the account it belonged to."""
    try:
        authorization, _ = await _locked(session, principal, authorization_id)
        now = utcnow()
        authorization.deleted_at = now
        authorization.deleted_by_user_id = principal.id
        authorization.updated_at = now
        session.add(authorization)
        await insert_rows(
            session,
            AuthorizationEvent,
            [
                history_row(
                    authorization.id,
                    authorization.account_id,
                    AuthorizationEventKind.DELETED,
                    now,
                    principal,
                )
            ],
        )
        await session.flush()
        await session.commit()
    except PortalError:
        await session.rollback()
        raise
    return authorization.account_id
