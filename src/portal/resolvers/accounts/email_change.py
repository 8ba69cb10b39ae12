"""A contact's new work email followed by their login.

An INVITED login changes at once and its invitation goes to the new address (the old link stops
working). An ACTIVE or deactivated login keeps signing in with the old address until its owner
confirms the new one from the link sent there (``pending_email``); the old address gets a notice
at once. Only a User Admin of the account redirects a login: staff enable access only after an
admin approves, so they cannot point an existing login (or its invitation) at another mailbox."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import Contact, OneTimeTokenPurpose, PortalUser
from portal.models.base import utcnow
from portal.models.enums import UserStatus
from portal.resolvers import one_time_tokens
from portal.resolvers.errors import ErrorCode, Forbidden, PortalError
from portal.resolvers.invitations import send_invitation
from portal.resolvers.lockout import system_scope
from portal.resolvers.outbox import enqueue_email
from portal.settings import Settings

CONFIRM_EMAIL_PATH = "/confirm-email"


class EmailTaken(PortalError):
    code = ErrorCode.EMAIL_TAKEN


class LoginEmailChange(StrEnum):
    """How a login followed its contact's new work email."""

    # An invitation not yet accepted: the login changed at once, the invitation went anew.
    CHANGED = "CHANGED"
    # The owner confirms from the link sent to the new address; until then the old one works.
    PENDING_CONFIRMATION = "PENDING_CONFIRMATION"


async def follow_with_login(
    session: AsyncSession, settings: Settings, contact: Contact, old_email: str, *, by_staff: bool
) -> tuple[LoginEmailChange | None, uuid.UUID | None]:
    user = await session.scalar(
        sa.select(PortalUser).where(col(PortalUser.contact_id) == contact.id).with_for_update()
    )
    if user is None:
        return None, None
    if by_staff:
        raise Forbidden(
            "This contact has a portal login: a User Admin of the account changes its email "
            "(support cannot redirect a login or an invitation).",
            field="workEmail",
        )
    new_email = contact.work_email.lower()
    async with system_scope(session):
        # Login names are unique across every account; a clash names no other tenant.
        taken = await session.scalar(
            sa.select(sa.literal(1)).where(
                sa.func.lower(col(PortalUser.email)) == new_email,
                col(PortalUser.id) != user.id,
            )
        )
    if taken:
        raise EmailTaken("Another login already uses this email.", field="workEmail")
    _notify_old_address(session, contact, old_email, new_email)
    if user.status is UserStatus.INVITED:
        await send_invitation(
            session=session, settings=settings, contact=contact, role=user.role, field="workEmail"
        )
        return LoginEmailChange.CHANGED, user.id
    user.pending_email = new_email
    session.add(user)
    await session.flush()
    token = await one_time_tokens.issue(
        session,
        purpose=OneTimeTokenPurpose.EMAIL_CHANGE,
        ttl=timedelta(seconds=settings.invitation_ttl_seconds),
        now=utcnow(),
        user_id=user.id,
    )
    hours = settings.invitation_ttl_seconds // 3600
    enqueue_email(
        session=session,
        account_id=contact.account_id,
        topic="email_change_confirmation",
        to=new_email,
        subject="Confirm your new Employer Health Portal sign-in email",
        text=(
            f"Hello {contact.first_name},\n\n"
            "Your company changed the email address of your Employer Health Portal login to "
            "this one.\n\n"
            f"Confirm it here within {hours} hours to sign in with it from then on:\n"
            f"{one_time_tokens.link(settings, CONFIRM_EMAIL_PATH, token)}\n\n"
            "Until you confirm, you keep signing in with your previous address. "
            "The link works once.\n"
        ),
    )
    return LoginEmailChange.PENDING_CONFIRMATION, user.id


def _notify_old_address(
    session: AsyncSession, contact: Contact, old_email: str, new_email: str
) -> None:
    enqueue_email(
        session=session,
        account_id=contact.account_id,
        topic="email_change_notice",
        to=old_email,
        subject="Your Employer Health Portal sign-in email is changing",
        text=(
            f"Hello {contact.first_name},\n\n"
            f"The sign-in email of your Employer Health Portal login is being changed to "
            f"{new_email}.\n\n"
            "If you did not expect this, contact a User Admin of your company or the portal's "
            "support line at once.\n"
        ),
    )


@dataclass(frozen=True, slots=True)
class EmailChanged:
    user_id: uuid.UUID
    account_id: uuid.UUID
    before: str
    after: str


async def confirm_email_change(*, session: AsyncSession, token: str) -> EmailChanged:
    """The owner of the new address confirms it: the login's email becomes the new address."""
    async with system_scope(session):
        now = utcnow()
        found = await one_time_tokens.find_usable(
            session, purpose=OneTimeTokenPurpose.EMAIL_CHANGE, token=token, now=now
        )
        user = await session.scalar(
            sa.select(PortalUser)
            .where(col(PortalUser.id) == found.user_id, col(PortalUser.pending_email).is_not(None))
            .with_for_update()
        )
        if user is None or user.pending_email is None:
            raise one_time_tokens.InvalidToken(one_time_tokens.INVALID_LINK, field="token")
        new_email = user.pending_email
        taken = await session.scalar(
            sa.select(sa.literal(1)).where(
                sa.func.lower(col(PortalUser.email)) == new_email.lower(),
                col(PortalUser.id) != user.id,
            )
        )
        if taken:
            raise EmailTaken("Another login already uses this email.", field="token")
        await one_time_tokens.claim(session, token_id=found.id, now=now)
        changed_email = EmailChanged(
            user_id=user.id, account_id=user.account_id, before=user.email, after=new_email
        )
        user.email = new_email
        user.pending_email = None
        session.add(user)
        await session.flush()
        await session.commit()
        return changed_email
