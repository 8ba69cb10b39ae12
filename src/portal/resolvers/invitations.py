"""Inviting a contact to the portal, and accepting the invitation.

A User Admin invites a contact of their own account: the login (``portal_users``, status
INVITED, login name = the contact's work email), a single-use INVITATION token valid 72 hours and
the email with the set-password link are written in one transaction. Inviting again issues a
fresh link and voids the earlier one. Accepting sets the password (under the policy), activates
the login and signs the person in.

A third-party administrator's User Admin sees its employer clients' contacts, but invites only
into its own account: each employer manages its own logins.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.password_policy import check_password
from portal.auth.passwords import hash_password
from portal.auth.principal import Principal
from portal.auth.tokens import TokenService
from portal.models import Contact, OneTimeTokenPurpose, PortalUser
from portal.models.base import utcnow
from portal.models.enums import Role, UserStatus
from portal.models.sessions import SessionSubject
from portal.resolvers import one_time_tokens
from portal.resolvers.errors import BadUserInput, ErrorCode, NotFound, PortalError
from portal.resolvers.lockout import system_scope
from portal.resolvers.outbox import enqueue_email
from portal.resolvers.sessions import LoginResult, open_session
from portal.settings import Settings

ACCEPT_PATH = "/accept-invitation"
UNKNOWN_CONTACT = "No contact with this id."


class UserAlreadyActive(PortalError):
    code = ErrorCode.USER_ALREADY_ACTIVE


@dataclass(frozen=True, slots=True)
class Invited:
    contact: Contact
    user_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Accepted:
    tokens: LoginResult
    user_id: uuid.UUID
    account_id: uuid.UUID
    email: str


async def invite_user(
    *,
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    contact_id: uuid.UUID,
    role: Role,
) -> Invited:
    account_id = principal.account_id
    if account_id is None:
        raise NotFound(UNKNOWN_CONTACT, field="contactId")
    contact = (
        await session.execute(
            sa.select(Contact)
            .where(col(Contact.id) == contact_id, col(Contact.account_id) == account_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if contact is None:
        raise NotFound(UNKNOWN_CONTACT, field="contactId")
    user_id = await send_invitation(session=session, settings=settings, contact=contact, role=role)
    await session.commit()
    return Invited(contact=contact, user_id=user_id)


async def send_invitation(
    *,
    session: AsyncSession,
    settings: Settings,
    contact: Contact,
    role: Role,
    field: str = "contactId",
    invited_by: str = "An administrator of your company",
) -> uuid.UUID:
    """Create or renew the contact's INVITED login and queue the set-password email, in the
    caller's transaction (no commit). Answers the login's id."""
    if not contact.is_active:
        raise BadUserInput("This contact is inactive; reactivate it first.", field=field)
    email = contact.work_email.strip().lower()
    user = (
        await session.execute(
            sa.select(PortalUser).where(col(PortalUser.contact_id) == contact.id).with_for_update()
        )
    ).scalar_one_or_none()
    if user is not None and user.status is UserStatus.ACTIVE:
        raise UserAlreadyActive("This contact already has an active login.", field=field)
    async with system_scope(session):
        # Login names are unique across every account; a clash names no other tenant.
        taken = await session.scalar(
            sa.select(sa.literal(1)).where(
                sa.func.lower(PortalUser.email) == email,
                col(PortalUser.contact_id) != contact.id,
            )
        )
    if taken:
        raise BadUserInput("Another login already uses this contact's work email.", field=field)
    now = utcnow()
    if user is None:
        user = PortalUser(
            contact_id=contact.id, account_id=contact.account_id, email=email, role=role
        )
    user.email = email
    user.role = role
    user.status = UserStatus.INVITED
    user.deactivated_at = None
    session.add(user)
    await session.flush()
    token = await one_time_tokens.issue(
        session,
        purpose=OneTimeTokenPurpose.INVITATION,
        ttl=timedelta(seconds=settings.invitation_ttl_seconds),
        now=now,
        user_id=user.id,
    )
    hours = settings.invitation_ttl_seconds // 3600
    enqueue_email(
        session=session,
        account_id=contact.account_id,
        topic="invitation",
        to=email,
        subject="You are invited to the Employer Health Portal",
        text=(
            f"Hello {contact.first_name},\n\n"
            f"{invited_by} invited you to the Employer Health Portal.\n\n"
            f"Choose your password here within {hours} hours:\n"
            f"{one_time_tokens.link(settings, ACCEPT_PATH, token)}\n\n"
            "Your login is this email address. The link works once.\n"
        ),
    )
    return user.id


async def accept_invitation(
    *,
    session: AsyncSession,
    tokens: TokenService,
    settings: Settings,
    token: str,
    password: str,
    ip: str | None,
    user_agent: str | None,
) -> Accepted:
    async with system_scope(session):
        now = utcnow()
        found = await one_time_tokens.find_usable(
            session, purpose=OneTimeTokenPurpose.INVITATION, token=token, now=now
        )
        user = (
            await session.execute(
                sa.select(PortalUser)
                .join(Contact, col(Contact.id) == PortalUser.contact_id)
                .where(
                    col(PortalUser.id) == found.user_id,
                    col(PortalUser.status) == UserStatus.INVITED,
                    col(Contact.is_active).is_(True),
                )
                .with_for_update(of=PortalUser)
            )
        ).scalar_one_or_none()
        if user is None:
            raise one_time_tokens.InvalidToken(one_time_tokens.INVALID_LINK, field="token")
        check_password(
            password, email=user.email, has_second_factor=user.totp_confirmed_at is not None
        )
        await one_time_tokens.claim(session, token_id=found.id, now=now)
        user.password_hash = hash_password(password)
        user.password_changed_at = now
        user.status = UserStatus.ACTIVE
        user.failed_login_count = 0
        user.locked_until = None
        user.last_login_at = now
        session.add(user)
        await session.flush()
        result = await open_session(
            session,
            tokens=tokens,
            settings=settings,
            kind=SessionSubject.USER,
            subject_id=user.id,
            ip=ip,
            user_agent=user_agent,
            account_id=user.account_id,
        )
        accepted = Accepted(
            tokens=result, user_id=user.id, account_id=user.account_id, email=user.email
        )
        await session.commit()
        return accepted
