"""A support request's life: its status machine, assignment, and what each change sends out.

Status: NEW -> IN_PROGRESS -> RESOLVED -> CLOSED. Staff move a request forward and may reopen a
resolved one; the requester may close a resolved one, or reopen it (resolved or closed) within
14 days of its resolution. Every change is kept (from, to, who, when), emails the requester
(status and a link, never the subject, description or anything else that may be PHI) and queues a
``support_request.status_changed`` webhook event, in the transaction of the change."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal, PrincipalKind
from portal.ids import global_id
from portal.models import PortalUser, StaffUser, SupportRequest, SupportRequestStatusChange
from portal.models.base import utcnow
from portal.models.enums import SupportRequestStatus, UserStatus
from portal.resolvers.errors import ErrorCode, NotFound, PortalError
from portal.resolvers.outbox import enqueue_email, enqueue_webhook_event
from portal.resolvers.support.records import visible_requests_condition

REOPEN_WINDOW = timedelta(days=14)
STATUS_EMAIL_TOPIC = "support_request_status"
STATUS_WEBHOOK_TOPIC = "support_request.status_changed"
# The GraphQL type name clients see: ids in emails and webhook events are its global ids.
NODE_TYPE = "SupportRequest"
SUPPORT_PATH = "/support-requests/"
UNKNOWN_REQUEST = "No support request has this id."

STATUS_LABELS = {
    SupportRequestStatus.NEW: "New",
    SupportRequestStatus.IN_PROGRESS: "In progress",
    SupportRequestStatus.RESOLVED: "Resolved",
    SupportRequestStatus.CLOSED: "Closed",
}

# What staff may do from each status.
_STAFF_MOVES = {
    SupportRequestStatus.NEW: (SupportRequestStatus.IN_PROGRESS,),
    SupportRequestStatus.IN_PROGRESS: (SupportRequestStatus.RESOLVED,),
    SupportRequestStatus.RESOLVED: (SupportRequestStatus.IN_PROGRESS, SupportRequestStatus.CLOSED),
    SupportRequestStatus.CLOSED: (),
}


def is_requester(request: SupportRequest, principal: Principal) -> bool:
    return (
        principal.kind is PrincipalKind.USER
        and principal.id is not None
        and request.requester_user_id == principal.id
    )


def may_reopen(request: SupportRequest, now: datetime) -> bool:
    return request.resolved_at is not None and now - request.resolved_at <= REOPEN_WINDOW


def allowed_next_statuses(
    request: SupportRequest, principal: Principal, now: datetime | None = None
) -> tuple[SupportRequestStatus, ...]:
    """The statuses ``principal`` may move ``request`` to now (empty: none)."""
    moment = now or utcnow()
    if principal.kind is PrincipalKind.STAFF:
        return _STAFF_MOVES[request.status]
    if not is_requester(request, principal):
        return ()
    reopen = (SupportRequestStatus.IN_PROGRESS,) if may_reopen(request, moment) else ()
    if request.status is SupportRequestStatus.RESOLVED:
        return (*reopen, SupportRequestStatus.CLOSED)
    if request.status is SupportRequestStatus.CLOSED:
        return reopen
    return ()


def not_allowed_message(
    request: SupportRequest, wanted: SupportRequestStatus, allowed: tuple[SupportRequestStatus, ...]
) -> str:
    names = ", ".join(status.value for status in allowed) if allowed else "none"
    message = (
        f"A {request.status.value} request cannot move to {wanted.value} for you. "
        f"Allowed next states: {names}."
    )
    if (
        wanted is SupportRequestStatus.IN_PROGRESS
        and request.status in (SupportRequestStatus.RESOLVED, SupportRequestStatus.CLOSED)
        and request.resolved_at is not None
        and not may_reopen(request, utcnow())
    ):
        message += f" A request can be reopened within {REOPEN_WINDOW.days} days of resolution."
    return message


async def locked_request(
    *, session: AsyncSession, principal: Principal, request_id: uuid.UUID
) -> SupportRequest:
    """The request, locked for this transaction, if ``principal`` may see it."""
    request = await session.scalar(
        sa.select(SupportRequest)
        .where(col(SupportRequest.id) == request_id, visible_requests_condition(principal))
        .with_for_update()
    )
    if request is None:
        raise NotFound(UNKNOWN_REQUEST, field="id")
    return request


async def flush_and_reload(session: AsyncSession, request: SupportRequest) -> None:
    """Write the changes and read back what the database computes (the urgent flag)."""
    await session.flush()
    await session.refresh(request)


def actor_columns(principal: Principal) -> tuple[uuid.UUID | None, uuid.UUID | None]:
    """(user id, staff id) of whoever acts."""
    if principal.kind is PrincipalKind.STAFF:
        return None, principal.id
    if principal.kind is PrincipalKind.USER:
        return principal.id, None
    return None, None


def record_status_change(
    *,
    session: AsyncSession,
    request: SupportRequest,
    principal: Principal,
    to_status: SupportRequestStatus,
    from_status: SupportRequestStatus | None,
    now: datetime,
) -> None:
    user_id, staff_id = actor_columns(principal)
    session.add(
        SupportRequestStatusChange(
            support_request_id=request.id,
            account_id=request.account_id,
            from_status=from_status,
            to_status=to_status,
            changed_by_user_id=user_id,
            changed_by_staff_id=staff_id,
            changed_at=now,
        )
    )


async def apply_status(
    *,
    session: AsyncSession,
    request: SupportRequest,
    principal: Principal,
    status: SupportRequestStatus,
    public_url: str,
    resolution: str | None = None,
) -> None:
    """Move ``request`` to ``status`` (already allowed) and record and announce the change."""
    now = utcnow()
    previous = request.status
    request.status = status
    request.updated_at = now
    if status is SupportRequestStatus.RESOLVED:
        request.resolved_at = now
        request.resolution = resolution
    elif status is SupportRequestStatus.IN_PROGRESS:
        request.resolution = None
    session.add(request)
    record_status_change(
        session=session,
        request=request,
        principal=principal,
        to_status=status,
        from_status=previous,
        now=now,
    )
    request_gid = global_id(NODE_TYPE, request.id)
    enqueue_webhook_event(
        session=session,
        account_id=request.account_id,
        topic=STATUS_WEBHOOK_TOPIC,
        # The catalog's keys (see the WebhookEvent enum): the request's global id, and the move.
        data={
            "supportRequestId": request_gid,
            "from": previous.value if previous is not None else None,
            "to": status.value,
        },
    )
    await _email_requester(session=session, request=request, public_url=public_url)


async def _email_requester(
    *, session: AsyncSession, request: SupportRequest, public_url: str
) -> None:
    """Tell the requester the new status: the number, the status and a link; nothing else."""
    if request.requester_user_id is None:
        return
    email = await session.scalar(
        sa.select(col(PortalUser.email)).where(
            col(PortalUser.id) == request.requester_user_id,
            col(PortalUser.status) == UserStatus.ACTIVE,
        )
    )
    if email is None:
        return
    label = STATUS_LABELS[request.status]
    link = public_url.rstrip("/") + SUPPORT_PATH + global_id(NODE_TYPE, request.id)
    # The outcome is one of the portal's own sentences (never text a person typed).
    outcome = f"Outcome: {request.resolution}\n\n" if request.resolution else ""
    text = (
        f"Your support request {request.number} is now: {label}.\n\n"
        f"{outcome}"
        f"Sign in to the Employer Health Portal to read it: {link}\n"
    )
    enqueue_email(
        session=session,
        account_id=request.account_id,
        topic=STATUS_EMAIL_TOPIC,
        to=email,
        subject=f"Support request {request.number}: {label}",
        text=text,
    )


async def change_status(
    *,
    session: AsyncSession,
    principal: Principal,
    request_id: uuid.UUID,
    status: SupportRequestStatus,
    public_url: str,
) -> SupportRequest:
    request = await locked_request(session=session, principal=principal, request_id=request_id)
    allowed = allowed_next_statuses(request, principal)
    if status not in allowed:
        raise PortalError(
            not_allowed_message(request, status, allowed),
            code=ErrorCode.INVALID_TRANSITION,
            field="status",
        )
    await apply_status(
        session=session, request=request, principal=principal, status=status, public_url=public_url
    )
    await flush_and_reload(session, request)
    await session.commit()
    return request


async def assign(
    *,
    session: AsyncSession,
    principal: Principal,
    request_id: uuid.UUID,
    staff_id: uuid.UUID | None,
) -> SupportRequest:
    """Give the request to an active staff member (``None``: to nobody)."""
    request = await locked_request(session=session, principal=principal, request_id=request_id)
    if staff_id is not None:
        active = await session.scalar(
            sa.select(col(StaffUser.id)).where(
                col(StaffUser.id) == staff_id, col(StaffUser.is_active).is_(True)
            )
        )
        if active is None:
            raise NotFound("No active staff member has this id.", field="assigneeId")
    if request.status is SupportRequestStatus.CLOSED:
        raise PortalError(
            "A closed request cannot be assigned.", code=ErrorCode.INVALID_TRANSITION, field="id"
        )
    request.assigned_staff_id = staff_id
    request.updated_at = utcnow()
    session.add(request)
    await flush_and_reload(session, request)
    await session.commit()
    return request
