"""Contacts of an account: adding, changing and deactivating them.

- A contact's work email is unique in its account (any case): EMAIL_TAKEN otherwise.
- Changing the work email of a contact with a login changes the login too
  (``portal.resolvers.accounts.email_change``).
- Deactivating a contact ends their portal access (login DEACTIVATED, sessions ended); the
  account's last active User Admin cannot be deactivated (the invariant and its lock live in
  ``portal.resolvers.users``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal
from portal.models import (
    Contact,
    PortalUser,
)
from portal.models.base import utcnow
from portal.models.enums import UserStatus
from portal.models.sessions import SessionSubject
from portal.resolvers.accounts.email_change import (
    EmailTaken,
    LoginEmailChange,
    follow_with_login,
)
from portal.resolvers.accounts.targets import changed, lock_account, target_account_id
from portal.resolvers.accounts.validation import (
    MAX_PERSON_NAME,
    MAX_TITLE,
    normalize_email,
    normalize_phone,
    optional_text,
    required_text,
)
from portal.resolvers.errors import BadUserInput, NotFound
from portal.resolvers.sessions import revoke_sessions
from portal.resolvers.users import (
    LAST_ADMIN,
    UNKNOWN_CONTACT,
    is_active_admin,
    lock_account_and_recheck_actor,
    other_active_admins,
)
from portal.settings import Settings


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
        login_change, user_id = await follow_with_login(
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
