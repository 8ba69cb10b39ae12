"""Password reset by email, and changing one's password while signed in.

``request_password_reset`` answers the same whether or not the email belongs to an active
person: the email itself goes through the outbox (written in the same transaction as the token),
so no SMTP conversation makes the answer slower for a real account. Reset emails to one person
are capped per hour without telling the caller; requests from one IP address are throttled
openly (that reveals nothing about any account).

A reset or change sets the argon2id hash of the NFKC form, after the password policy, and ends
sessions: every one after a reset (whoever asked for the link may not be the one signed in),
every other one after a change.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.password_policy import check_password
from portal.auth.passwords import hash_password, verify_password
from portal.auth.principal import Principal, PrincipalKind
from portal.models import AuditEvent, Contact, OneTimeTokenPurpose, PortalUser, StaffUser
from portal.models.base import utcnow
from portal.models.enums import UserStatus
from portal.models.sessions import SessionSubject
from portal.resolvers import one_time_tokens
from portal.resolvers.errors import ErrorCode, PortalError
from portal.resolvers.lockout import (
    LOCKED,
    RateLimited,
    count_failure,
    forget_failures,
    is_locked,
    system_scope,
)
from portal.resolvers.outbox import enqueue_email
from portal.resolvers.sessions import revoke_sessions
from portal.settings import Settings

RESET_PATH = "/reset-password"
RESET_REQUESTED_ACTION = "password_reset.requested"
TOO_MANY_REQUESTS = "Too many reset requests from your network. Wait a few minutes and try again."
INCORRECT_CURRENT = "The current password is incorrect."


class IncorrectPassword(PortalError):
    code = ErrorCode.INCORRECT_PASSWORD


@dataclass(frozen=True, slots=True)
class Person:
    kind: SessionSubject
    row: PortalUser | StaffUser

    @property
    def id(self) -> uuid.UUID:
        return self.row.id

    @property
    def account_id(self) -> uuid.UUID | None:
        return self.row.account_id if isinstance(self.row, PortalUser) else None

    @property
    def has_second_factor(self) -> bool:
        return self.row.totp_confirmed_at is not None


@dataclass(frozen=True, slots=True)
class ResetRequested:
    """For the audit trail only: the caller's answer never depends on it."""

    person_id: uuid.UUID | None
    account_id: uuid.UUID | None
    emailed: bool


@dataclass(frozen=True, slots=True)
class PasswordSet:
    person: Person
    sessions_ended: int


async def _active_person(
    session: AsyncSession, *, email: str | None = None, person_id: uuid.UUID | None = None
) -> Person | None:
    """An active portal user (with an active contact) or active staff member, row locked."""
    address = (email or "").strip().lower()
    user_filter = (
        sa.func.lower(PortalUser.email) == address
        if email is not None
        else col(PortalUser.id) == person_id
    )
    user = (
        await session.execute(
            sa.select(PortalUser)
            .join(Contact, col(Contact.id) == PortalUser.contact_id)
            .where(
                user_filter,
                col(PortalUser.status) == UserStatus.ACTIVE,
                col(Contact.is_active).is_(True),
            )
            .with_for_update(of=PortalUser)
        )
    ).scalar_one_or_none()
    if user is not None:
        return Person(SessionSubject.USER, user)
    staff_filter = (
        sa.func.lower(StaffUser.email) == address
        if email is not None
        else col(StaffUser.id) == person_id
    )
    staff = (
        await session.execute(
            sa.select(StaffUser)
            .where(staff_filter, col(StaffUser.is_active).is_(True))
            .with_for_update()
        )
    ).scalar_one_or_none()
    return Person(SessionSubject.STAFF, staff) if staff is not None else None


def _subject_ids(person: Person) -> dict[str, uuid.UUID]:
    key = "user_id" if person.kind is SessionSubject.USER else "staff_id"
    return {key: person.id}


async def _recent_requests_from(session: AsyncSession, settings: Settings, ip: str) -> int:
    since = utcnow() - timedelta(seconds=settings.password_reset_ip_window_seconds)
    count = await session.scalar(
        sa.select(sa.func.count()).where(
            col(AuditEvent.action) == RESET_REQUESTED_ACTION,
            col(AuditEvent.occurred_at) >= since,
            col(AuditEvent.ip_address) == sa.cast(ip, postgresql.INET),
        )
    )
    return int(count or 0)


async def request_password_reset(
    *, session: AsyncSession, settings: Settings, email: str, ip: str | None
) -> ResetRequested:
    async with system_scope(session):
        if (
            ip is not None
            and await _recent_requests_from(session, settings, ip)
            >= settings.password_reset_ip_max_requests
        ):
            raise RateLimited(TOO_MANY_REQUESTS)
        person = await _active_person(session, email=email)
        if person is None:
            await session.rollback()
            return ResetRequested(person_id=None, account_id=None, emailed=False)
        # Read before any rollback expires the row.
        person_id, account_id = person.id, person.account_id
        now = utcnow()
        recent = await one_time_tokens.issued_since(
            session,
            purpose=OneTimeTokenPurpose.PASSWORD_RESET,
            since=now - timedelta(hours=1),
            **_subject_ids(person),
        )
        if recent >= settings.password_reset_max_per_hour:
            await session.rollback()
            return ResetRequested(person_id=person_id, account_id=account_id, emailed=False)
        ttl = timedelta(seconds=settings.password_reset_ttl_seconds)
        token = await one_time_tokens.issue(
            session,
            purpose=OneTimeTokenPurpose.PASSWORD_RESET,
            ttl=ttl,
            now=now,
            **_subject_ids(person),
        )
        minutes = settings.password_reset_ttl_seconds // 60
        enqueue_email(
            session=session,
            account_id=person.account_id,
            topic="password_reset",
            to=person.row.email,
            subject="Reset your Employer Health Portal password",
            text=(
                "Someone (we hope you) asked to reset the password of your Employer Health "
                "Portal login.\n\n"
                f"Choose a new password here within {minutes} minutes:\n"
                f"{one_time_tokens.link(settings, RESET_PATH, token)}\n\n"
                "The link works once. If you did not ask for it, ignore this email: your "
                "password stays as it is.\n"
            ),
        )
        await session.commit()
        return ResetRequested(person_id=person_id, account_id=account_id, emailed=True)


def _set_password(person: Person, password: str) -> None:
    row = person.row
    row.password_hash = hash_password(password)
    if isinstance(row, PortalUser):
        row.password_changed_at = utcnow()


async def reset_password(
    *, session: AsyncSession, settings: Settings, token: str, password: str
) -> PasswordSet:
    async with system_scope(session):
        now = utcnow()
        found = await one_time_tokens.find_usable(
            session, purpose=OneTimeTokenPurpose.PASSWORD_RESET, token=token, now=now
        )
        person = await _active_person(session, person_id=found.user_id or found.staff_id)
        if person is None:
            raise one_time_tokens.InvalidToken(one_time_tokens.INVALID_LINK, field="token")
        check_password(password, email=person.row.email, has_second_factor=person.has_second_factor)
        # The policy passed: only now spend the token (a refused password leaves it usable).
        await one_time_tokens.claim(session, token_id=found.id, now=now)
        _set_password(person, password)
        await forget_failures(session, person.row)
        ended = await revoke_sessions(
            session, kind=person.kind, subject_id=person.id, reason="password_reset"
        )
        await session.commit()
        return PasswordSet(person=person, sessions_ended=ended)


async def change_password(
    *,
    session: AsyncSession,
    settings: Settings,
    principal: Principal,
    current_password: str,
    new_password: str,
    ip: str | None,
) -> PasswordSet:
    if principal.kind not in (PrincipalKind.USER, PrincipalKind.STAFF) or principal.id is None:
        raise PortalError("Only people have passwords.")
    async with system_scope(session):
        person = await _active_person(session, person_id=principal.id)
        if person is None or person.kind.value != principal.kind.value:
            raise PortalError("Only people have passwords.")
        row = person.row
        now = utcnow()
        if await is_locked(session, row, ip or "unknown", now):
            raise RateLimited(LOCKED, field="currentPassword")
        if row.password_hash is None or not verify_password(row.password_hash, current_password):
            # Counts toward the lockout like a failed sign-in, so a stolen access token cannot
            # be used to guess the password.
            await count_failure(session, settings, row, ip or "unknown", now)
            await session.commit()
            raise IncorrectPassword(INCORRECT_CURRENT, field="currentPassword")
        check_password(
            new_password,
            email=row.email,
            has_second_factor=person.has_second_factor,
            field="newPassword",
        )
        _set_password(person, new_password)
        await forget_failures(session, row)
        ended = await revoke_sessions(
            session,
            kind=person.kind,
            subject_id=person.id,
            reason="password_changed",
            keep=principal.session_id,
        )
        await session.commit()
        return PasswordSet(person=person, sessions_ended=ended)
