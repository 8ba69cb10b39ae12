"""Contacts of an account: adding, changing and deactivating them; who receives what.

- A contact's work email is unique in its account (any case): EMAIL_TAKEN otherwise.
- Changing the work email of a contact with a login changes the login too, and only a User Admin
  of the account does that: staff enable access only after an admin approves, so they cannot point
  an existing login (or its pending invitation) at another mailbox. An INVITED login
  changes at once and its invitation goes to the new address (the old link stops working). An
  ACTIVE or deactivated login keeps signing in with the old address until its owner confirms the
  new one from the link sent there (``pending_email``); the old address gets a notice at once.
- Deactivating a contact ends their portal access (login DEACTIVATED, sessions ended); the
  account's last active User Admin cannot be deactivated (the invariant and its lock live in
  ``portal.resolvers.users``).
- Notification preferences: a person sets their own; a User Admin sets anyone's of the account.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal
from portal.models import (
    Contact,
    NotificationPreference,
    OneTimeTokenPurpose,
    PortalUser,
    ReportSubscription,
)
from portal.models.base import utcnow
from portal.models.db import AccountScope
from portal.models.enums import Role, UserStatus
from portal.models.sessions import SessionSubject
from portal.resolvers import one_time_tokens
from portal.resolvers.accounts.targets import changed, lock_account, target_account_id
from portal.resolvers.accounts.validation import (
    MAX_PERSON_NAME,
    MAX_TITLE,
    normalize_email,
    normalize_phone,
    optional_text,
    required_text,
)
from portal.resolvers.errors import BadUserInput, ErrorCode, Forbidden, NotFound, PortalError
from portal.resolvers.invitations import send_invitation
from portal.resolvers.outbox import enqueue_email
from portal.resolvers.sessions import revoke_sessions, system_scope
from portal.resolvers.users import (
    LAST_ADMIN,
    UNKNOWN_CONTACT,
    SubscriptionView,
    is_active_admin,
    lock_account_and_recheck_actor,
    other_active_admins,
)
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


@dataclass(frozen=True, slots=True)
class ContactValues:
    first_name: str
    last_name: str
    work_email: str
    phone: str | None
    title: str | None


@dataclass(frozen=True, slots=True)
class ContactChanges:
    """None leaves a part as it is; an empty phone or title clears it."""

    first_name: str | None = None
    last_name: str | None = None
    work_email: str | None = None
    phone: str | None = None
    title: str | None = None


@dataclass(frozen=True, slots=True)
class ContactUpdate:
    contact: Contact
    before: dict[str, Any]
    after: dict[str, Any]
    login_email_change: LoginEmailChange | None
    user_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class NotificationSettings:
    contact_id: uuid.UUID
    email_on_new_results: bool


def contact_values(
    *,
    first_name: str,
    last_name: str,
    work_email: str,
    phone: str | None,
    title: str | None,
    field: str = "",
) -> ContactValues:
    prefix = f"{field}." if field else ""
    return ContactValues(
        first_name=required_text(
            first_name, field=f"{prefix}firstName", limit=MAX_PERSON_NAME, what="a first name"
        ),
        last_name=required_text(
            last_name, field=f"{prefix}lastName", limit=MAX_PERSON_NAME, what="a last name"
        ),
        work_email=normalize_email(work_email, field=f"{prefix}workEmail"),
        phone=normalize_phone(phone, field=f"{prefix}phone"),
        title=optional_text(title, field=f"{prefix}title", limit=MAX_TITLE, what="a title"),
    )


def contact_snapshot(contact: Contact) -> dict[str, Any]:
    return {
        "firstName": contact.first_name,
        "lastName": contact.last_name,
        "workEmail": contact.work_email,
        "phone": contact.phone,
        "title": contact.title,
        "isActive": contact.is_active,
    }


async def email_taken_in_account(
    session: AsyncSession,
    account_id: uuid.UUID,
    email: str,
    except_contact: uuid.UUID | None = None,
) -> bool:
    statement = sa.select(sa.literal(1)).where(
        col(Contact.account_id) == account_id,
        sa.func.lower(col(Contact.work_email)) == email.lower(),
    )
    if except_contact is not None:
        statement = statement.where(col(Contact.id) != except_contact)
    return await session.scalar(statement) is not None


async def insert_contact(
    session: AsyncSession, account_id: uuid.UUID, values: ContactValues, *, field: str = "workEmail"
) -> Contact:
    """A new contact of the (locked) account, in the caller's transaction."""
    if await email_taken_in_account(session, account_id, values.work_email):
        raise EmailTaken("Another contact of this account has this work email.", field=field)
    contact = Contact(
        account_id=account_id,
        first_name=values.first_name,
        last_name=values.last_name,
        work_email=values.work_email,
        phone=values.phone,
        title=values.title,
    )
    session.add(contact)
    await session.flush()
    return contact


async def add_contact(
    *,
    session: AsyncSession,
    principal: Principal,
    account_id: uuid.UUID | None,
    values: ContactValues,
) -> Contact:
    target = target_account_id(principal, account_id)
    await lock_account(session, target)
    contact = await insert_contact(session, target, values)
    await session.commit()
    return contact


async def _changeable_contact(
    session: AsyncSession, principal: Principal, contact_id: uuid.UUID
) -> Contact:
    """The contact, locked after its account (every account change locks the account first, so
    two changes never wait on each other in opposite orders): any for staff, else of the
    caller's own account."""
    statement = sa.select(col(Contact.account_id)).where(col(Contact.id) == contact_id)
    if not principal.is_staff:
        statement = statement.where(col(Contact.account_id) == principal.account_id)
    account_id = await session.scalar(statement)
    if account_id is None:
        raise NotFound(UNKNOWN_CONTACT, field="id")
    await lock_account(session, account_id)
    contact = await session.scalar(
        sa.select(Contact).where(col(Contact.id) == contact_id).with_for_update()
    )
    if contact is None:
        raise NotFound(UNKNOWN_CONTACT, field="id")
    return contact


async def update_contact(
    *,
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    contact_id: uuid.UUID,
    changes: ContactChanges,
) -> ContactUpdate:
    first_name = (
        required_text(
            changes.first_name, field="firstName", limit=MAX_PERSON_NAME, what="a first name"
        )
        if changes.first_name is not None
        else None
    )
    last_name = (
        required_text(
            changes.last_name, field="lastName", limit=MAX_PERSON_NAME, what="a last name"
        )
        if changes.last_name is not None
        else None
    )
    email = (
        normalize_email(changes.work_email, field="workEmail")
        if changes.work_email is not None
        else None
    )
    phone = normalize_phone(changes.phone, field="phone")
    title = optional_text(changes.title, field="title", limit=MAX_TITLE, what="a title")
    contact = await _changeable_contact(session, principal, contact_id)
    before = contact_snapshot(contact)
    login_change: LoginEmailChange | None = None
    user_id: uuid.UUID | None = None
    if first_name is not None:
        contact.first_name = first_name
    if last_name is not None:
        contact.last_name = last_name
    if changes.phone is not None:
        contact.phone = phone
    if changes.title is not None:
        contact.title = title
    if email is not None and email.lower() != contact.work_email.lower():
        if await email_taken_in_account(session, contact.account_id, email, contact.id):
            raise EmailTaken(
                "Another contact of this account has this work email.", field="workEmail"
            )
        old_email = contact.work_email
        contact.work_email = email
        session.add(contact)
        await session.flush()
        login_change, user_id = await _follow_with_login(
            session, settings, contact, old_email, by_staff=principal.is_staff
        )
    elif email is not None:
        contact.work_email = email
    session.add(contact)
    await session.flush()
    old, new = changed(before, contact_snapshot(contact))
    await session.commit()
    return ContactUpdate(
        contact=contact, before=old, after=new, login_email_change=login_change, user_id=user_id
    )


async def _follow_with_login(
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


async def deactivate_contact(
    *, session: AsyncSession, principal: Principal, contact_id: uuid.UUID
) -> tuple[Contact, uuid.UUID | None, int]:
    """Deactivate the contact and their login; answers the contact, the login's id and how many
    sign-in sessions ended."""
    account_id = await lock_account_and_recheck_actor(session, principal)
    contact = await session.scalar(
        sa.select(Contact)
        .where(col(Contact.id) == contact_id, col(Contact.account_id) == account_id)
        .with_for_update()
    )
    if contact is None:
        raise NotFound(UNKNOWN_CONTACT, field="id")
    user = await session.scalar(
        sa.select(PortalUser).where(col(PortalUser.contact_id) == contact.id).with_for_update()
    )
    ended = 0
    if (
        user is not None
        and is_active_admin(user)
        and contact.is_active
        and await other_active_admins(session, account_id, user.id) < 1
    ):
        raise BadUserInput(LAST_ADMIN, field="id")
    if contact.is_active:
        contact.is_active = False
        session.add(contact)
    if user is not None and user.status is not UserStatus.DEACTIVATED:
        user.status = UserStatus.DEACTIVATED
        user.deactivated_at = utcnow()
        user.pending_email = None
        session.add(user)
        ended = await revoke_sessions(
            session, kind=SessionSubject.USER, subject_id=user.id, reason="contact_deactivated"
        )
    await session.flush()
    user_id = user.id if user is not None else None
    await session.commit()
    return contact, user_id, ended


async def load_subscriptions(
    *, session: AsyncSession, scope: AccountScope, contact_ids: Sequence[uuid.UUID]
) -> list[list[SubscriptionView]]:
    """Each contact's (report type, location) pairs."""
    rows = await session.execute(
        sa.select(
            col(ReportSubscription.contact_id),
            col(ReportSubscription.report_type_id),
            col(ReportSubscription.location_id),
        )
        .where(
            col(ReportSubscription.contact_id).in_(contact_ids),
            scope.filter(col(ReportSubscription.account_id)),
        )
        .order_by(col(ReportSubscription.report_type_id), col(ReportSubscription.location_id))
    )
    by_contact: dict[uuid.UUID, list[SubscriptionView]] = {}
    for row in rows:
        by_contact.setdefault(row.contact_id, []).append(
            SubscriptionView(row.report_type_id, row.location_id)
        )
    return [by_contact.get(contact_id, []) for contact_id in contact_ids]


async def load_notification_settings(
    *, session: AsyncSession, scope: AccountScope, contact_ids: Sequence[uuid.UUID]
) -> list[NotificationSettings]:
    """Each contact's preferences; a contact who never chose gets the default (email on)."""
    rows = await session.execute(
        sa.select(
            col(NotificationPreference.contact_id),
            col(NotificationPreference.email_on_new_results),
        ).where(
            col(NotificationPreference.contact_id).in_(contact_ids),
            scope.filter(col(NotificationPreference.account_id)),
        )
    )
    chosen = {row.contact_id: row.email_on_new_results for row in rows}
    return [
        NotificationSettings(contact_id, chosen.get(contact_id, True)) for contact_id in contact_ids
    ]


async def set_notification_preferences(
    *,
    session: AsyncSession,
    principal: Principal,
    contact_id: uuid.UUID | None,
    email_on_new_results: bool,
) -> tuple[Contact, bool, bool]:
    """Set a contact's preferences: one's own (``contact_id`` omitted or one's own), or, for a
    User Admin, any contact of the account. Answers the contact and the value before and after."""
    own = principal.contact_id
    wanted = contact_id if contact_id is not None else own
    if wanted is None or principal.account_id is None:
        raise NotFound(UNKNOWN_CONTACT, field="contactId")
    statement = sa.select(Contact).where(
        col(Contact.id) == wanted, col(Contact.account_id) == principal.account_id
    )
    if principal.user_role is not Role.USER_ADMIN:
        # Anyone else changes only their own preferences: other contacts are not theirs to find.
        statement = statement.where(col(Contact.id) == own)
    contact = await session.scalar(statement.with_for_update())
    if contact is None:
        raise NotFound(
            "No contact with this id whose preferences you may change (a Basic user changes "
            "only their own).",
            field="contactId",
        )
    preference = await session.get(NotificationPreference, contact.id, with_for_update=True)
    before = preference.email_on_new_results if preference is not None else True
    if preference is None:
        preference = NotificationPreference(contact_id=contact.id, account_id=contact.account_id)
    preference.email_on_new_results = email_on_new_results
    session.add(preference)
    await session.flush()
    await session.commit()
    return contact, before, email_on_new_results
