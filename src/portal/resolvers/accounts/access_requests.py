"""Access requests: support staff may enable a contact's portal access only after a User Admin
of that account approves.

Staff ask (``request_access``): one pending request per contact, for an active contact without an
active login; every active User Admin of the account gets an email (through the outbox, in the
same transaction). A User Admin of that account approves (the invitation goes out, in the same
transaction) or declines; either way the staff member who asked is told by email. A decided
request stays decided. A third-party administrator's admin decides only for its own account, like
invitations."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal
from portal.models import AccessRequest, Account, Contact, PortalUser, StaffUser
from portal.models.base import utcnow
from portal.models.db import AccountScope
from portal.models.enums import AccessRequestStatus, Role, UserStatus
from portal.resolvers.accounts.validation import optional_text
from portal.resolvers.errors import BadUserInput, ErrorCode, NotFound, PortalError
from portal.resolvers.invitations import UserAlreadyActive, send_invitation
from portal.resolvers.loading import in_key_order
from portal.resolvers.outbox import enqueue_email
from portal.resolvers.pagination import Page, PageRequest, SortKey, paginate
from portal.resolvers.users import UNKNOWN_CONTACT
from portal.settings import Settings

UNKNOWN_REQUEST = "No access request with this id."
REVIEW_PATH = "/account/access-requests"
MAX_NOTE = 1000


class AccessRequestPending(PortalError):
    code = ErrorCode.ACCESS_REQUEST_PENDING


class AccessRequestDecided(PortalError):
    code = ErrorCode.ACCESS_REQUEST_DECIDED


@dataclass(frozen=True, slots=True)
class Decision:
    request: AccessRequest
    contact: Contact | None
    # The login the approval invited (None when declined).
    user_id: uuid.UUID | None


async def load_access_requests(
    *, session: AsyncSession, scope: AccountScope, ids: Sequence[uuid.UUID]
) -> list[AccessRequest | None]:
    rows = await session.scalars(
        sa.select(AccessRequest).where(
            col(AccessRequest.id).in_(ids), scope.filter(col(AccessRequest.account_id))
        )
    )
    return in_key_order(ids, rows, lambda request: request.id)


async def list_access_requests(
    *,
    session: AsyncSession,
    scope: AccountScope,
    account_id: uuid.UUID,
    page: PageRequest,
    status: AccessRequestStatus | None = None,
) -> Page[AccessRequest]:
    statement = sa.select(AccessRequest).where(
        col(AccessRequest.account_id) == account_id, scope.filter(col(AccessRequest.account_id))
    )
    if status is not None:
        statement = statement.where(col(AccessRequest.status) == status)
    return await paginate(
        session=session,
        statement=statement,
        keys=[
            SortKey(col(AccessRequest.created_at), descending=True, python_type=datetime),
            SortKey(col(AccessRequest.id), descending=True, python_type=uuid.UUID),
        ],
        request=page,
        convert=lambda request: request,
    )


async def request_access(
    *,
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    contact_id: uuid.UUID,
    role: Role,
    note: str | None,
) -> AccessRequest:
    """Staff ask a User Admin of the contact's account to enable the contact's portal access."""
    text = optional_text(note, field="note", limit=MAX_NOTE, what="a note")
    staff_id = principal.id
    if staff_id is None:
        raise NotFound(UNKNOWN_CONTACT, field="contactId")
    contact = await session.scalar(
        sa.select(Contact).where(col(Contact.id) == contact_id).with_for_update()
    )
    if contact is None:
        raise NotFound(UNKNOWN_CONTACT, field="contactId")
    if not contact.is_active:
        raise BadUserInput("This contact is inactive.", field="contactId")
    active = await session.scalar(
        sa.select(sa.literal(1)).where(
            col(PortalUser.contact_id) == contact.id, col(PortalUser.status) == UserStatus.ACTIVE
        )
    )
    if active is not None:
        raise UserAlreadyActive("This contact already has an active login.", field="contactId")
    pending = await session.scalar(
        sa.select(sa.literal(1)).where(
            col(AccessRequest.contact_id) == contact.id,
            col(AccessRequest.status) == AccessRequestStatus.PENDING,
        )
    )
    if pending is not None:
        raise AccessRequestPending(
            "An access request for this contact is already waiting for a User Admin.",
            field="contactId",
        )
    request = AccessRequest(
        account_id=contact.account_id,
        contact_id=contact.id,
        requested_role=role,
        requested_by_staff_id=staff_id,
        note=text,
    )
    session.add(request)
    await session.flush()
    account_name = await session.scalar(
        sa.select(col(Account.name)).where(col(Account.id) == contact.account_id)
    )
    admins = await session.execute(
        sa.select(col(PortalUser.email), col(Contact.first_name))
        .join(Contact, col(Contact.id) == col(PortalUser.contact_id))
        .where(
            col(PortalUser.account_id) == contact.account_id,
            col(PortalUser.role) == Role.USER_ADMIN,
            col(PortalUser.status) == UserStatus.ACTIVE,
            col(Contact.is_active).is_(True),
        )
        .order_by(col(PortalUser.email))
    )
    role_name = "User Admin" if role is Role.USER_ADMIN else "Basic user"
    for email, first_name in admins:
        enqueue_email(
            session=session,
            account_id=contact.account_id,
            topic="access_request",
            to=email,
            subject="Portal access request waiting for your approval",
            text=(
                f"Hello {first_name},\n\n"
                f"Customer support asks to enable Employer Health Portal access for "
                f"{contact.first_name} {contact.last_name} of {account_name} as a {role_name}.\n\n"
                "Support enables access only after a User Admin approves. Approve or decline it "
                f"here:\n{settings.public_url.rstrip('/')}{REVIEW_PATH}\n"
            ),
        )
    await session.commit()
    return request


async def _pending_request(
    session: AsyncSession, principal: Principal, request_id: uuid.UUID
) -> AccessRequest:
    request = await session.scalar(
        sa.select(AccessRequest)
        .where(
            col(AccessRequest.id) == request_id,
            col(AccessRequest.account_id) == principal.account_id,
        )
        .with_for_update()
    )
    if request is None:
        raise NotFound(UNKNOWN_REQUEST, field="id")
    if request.status is not AccessRequestStatus.PENDING:
        raise AccessRequestDecided(
            f"This access request was already {request.status.value.lower()}.", field="id"
        )
    return request


async def _decide(
    session: AsyncSession,
    principal: Principal,
    request: AccessRequest,
    status: AccessRequestStatus,
    note: str | None,
) -> None:
    request.status = status
    request.decided_by_user_id = principal.id
    request.decided_at = utcnow()
    request.decision_note = note
    session.add(request)
    await session.flush()


async def _tell_staff(
    session: AsyncSession, request: AccessRequest, contact: Contact, decided: str
) -> None:
    staff = await session.scalar(
        sa.select(StaffUser).where(col(StaffUser.id) == request.requested_by_staff_id)
    )
    if staff is None or not staff.is_active:
        return
    enqueue_email(
        session=session,
        account_id=request.account_id,
        topic="access_request_decided",
        to=staff.email,
        subject=f"Portal access request {decided}",
        text=(
            f"Hello {staff.first_name},\n\n"
            f"A User Admin {decided} your request to enable portal access for "
            f"{contact.first_name} {contact.last_name}.\n"
            + ("The invitation email has been sent.\n" if decided == "approved" else "")
        ),
    )


async def approve_access_request(
    *,
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    request_id: uuid.UUID,
    note: str | None,
) -> Decision:
    text = optional_text(note, field="note", limit=MAX_NOTE, what="a note")
    request = await _pending_request(session, principal, request_id)
    contact = await session.scalar(
        sa.select(Contact).where(col(Contact.id) == request.contact_id).with_for_update()
    )
    if contact is None:  # the contact row cascades with its requests
        raise NotFound(UNKNOWN_REQUEST, field="id")
    await _decide(session, principal, request, AccessRequestStatus.APPROVED, text)
    user_id = await send_invitation(
        session=session, settings=settings, contact=contact, role=request.requested_role, field="id"
    )
    await _tell_staff(session, request, contact, "approved")
    await session.commit()
    return Decision(request=request, contact=contact, user_id=user_id)


async def decline_access_request(
    *,
    session: AsyncSession,
    principal: Principal,
    request_id: uuid.UUID,
    note: str | None,
) -> Decision:
    text = optional_text(note, field="note", limit=MAX_NOTE, what="a reason")
    request = await _pending_request(session, principal, request_id)
    contact = await session.scalar(sa.select(Contact).where(col(Contact.id) == request.contact_id))
    await _decide(session, principal, request, AccessRequestStatus.DECLINED, text)
    if contact is not None:
        await _tell_staff(session, request, contact, "declined")
    await session.commit()
    return Decision(request=request, contact=contact, user_id=None)
