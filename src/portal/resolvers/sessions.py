"""Signing in and out: password (and TOTP) checks, lockout and throttling, sessions, refresh.

A sign-in creates an ``auth_sessions`` row and an opaque refresh token, stored only as its
SHA-256. Each refresh marks its token used and issues the next one of the same family; presenting
a used token again means it was stolen (or replayed), so the whole session is revoked. Access
tokens carry the session id (``sid``), so ending a session also stops its access tokens at the next
request (see ``portal.auth.resolve``).

Every function here commits its own transaction: failed attempts must be remembered even though
the caller answers them with an error.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.passwords import hash_password, verify_password
from portal.auth.principal import Principal, PrincipalKind
from portal.auth.tokens import SubjectKind, TokenService
from portal.models import AuthSession, Contact, PortalUser, RefreshToken, StaffUser
from portal.models.base import utcnow
from portal.models.enums import UserStatus
from portal.models.sessions import SessionSubject
from portal.resolvers import mfa
from portal.resolvers.errors import BadUserInput, ErrorCode, PortalError, Unauthenticated
from portal.resolvers.lockout import (
    IP_THROTTLED,
    LockedOut,
    RateLimited,
    count_failure,
    forget_failures,
    ip_failures,
    is_locked,
    record_ip_failure,
    system_scope,
)
from portal.settings import Settings

BAD_CREDENTIALS = "Email or password is incorrect."
TOTP_REQUIRED = "Enter the 6-digit code from your authenticator app."
BAD_RECOVERY_CODE = "The recovery code is incorrect or was already used."
BAD_REFRESH = "The refresh token is invalid or expired; sign in again."


@cache
def _dummy_hash() -> str:
    """Verified against when the email is unknown, so the answer takes as long as for a real
    account. Made at the first such sign-in, not at import: hashing takes argon2's 64 MiB for a
    moment, which would set every process's peak memory before it has served anything."""
    return hash_password(secrets.token_urlsafe(24))


@dataclass(frozen=True, slots=True)
class LoginResult:
    access_token: str
    refresh_token: str
    expires_in: int
    session_id: uuid.UUID
    # Who signed in, and their account (None for staff): the audit trail names them.
    subject_kind: SessionSubject = SessionSubject.USER
    subject_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None


@dataclass
class SignInSubject:
    """Filled in as a sign-in or refresh finds whom it is about, so that even a refused attempt
    is audited under that person and their account (an unknown email leaves it empty)."""

    kind: SessionSubject | None = None
    subject_id: uuid.UUID | None = None
    account_id: uuid.UUID | None = None


@dataclass
class _Subject:
    kind: SessionSubject
    row: PortalUser | StaffUser

    @property
    def token_kind(self) -> SubjectKind:
        return SubjectKind.USER if self.kind is SessionSubject.USER else SubjectKind.STAFF


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def login(
    *,
    session: AsyncSession,
    tokens: TokenService,
    settings: Settings,
    email: str,
    password: str,
    totp: str | None,
    ip: str | None,
    user_agent: str | None,
    recovery_code: str | None = None,
    attempt: SignInSubject | None = None,
) -> LoginResult:
    async with system_scope(session):
        try:
            result = await _login(
                session=session,
                tokens=tokens,
                settings=settings,
                email=email,
                password=password,
                totp=totp,
                ip=ip,
                user_agent=user_agent,
                recovery_code=recovery_code,
                attempt=attempt if attempt is not None else SignInSubject(),
            )
        except PortalError:
            await session.commit()
            raise
        await session.commit()
        return result


async def _login(
    *,
    session: AsyncSession,
    tokens: TokenService,
    settings: Settings,
    email: str,
    password: str,
    totp: str | None,
    ip: str | None,
    user_agent: str | None,
    recovery_code: str | None = None,
    attempt: SignInSubject,
) -> LoginResult:
    now = utcnow()
    ip_key = ip or "unknown"
    if await ip_failures(session, settings, ip_key, now) >= settings.login_ip_max_failures:
        verify_password(_dummy_hash(), password)
        raise RateLimited(IP_THROTTLED)

    subject = await _find_subject(session, email)
    if subject is None:
        verify_password(_dummy_hash(), password)
        await record_ip_failure(session, ip_key, now)
        raise Unauthenticated(BAD_CREDENTIALS)

    row = subject.row
    attempt.kind = subject.kind
    attempt.subject_id = row.id
    attempt.account_id = row.account_id if isinstance(row, PortalUser) else None
    if await is_locked(session, row, ip_key, now):
        # Exactly what an unknown email answers, after the same work: a lockout must not tell
        # that the email has an account (nor whether the password was right).
        verify_password(_dummy_hash(), password)
        await record_ip_failure(session, ip_key, now)
        raise LockedOut(BAD_CREDENTIALS)

    password_ok = row.password_hash is not None and verify_password(row.password_hash, password)
    if not password_ok:
        await count_failure(session, settings, row, ip_key, now)
        raise Unauthenticated(BAD_CREDENTIALS)

    if row.totp_secret is not None and row.totp_confirmed_at is not None:
        if recovery_code:
            # A spent or unknown recovery code is a failed attempt like a wrong TOTP code.
            spent = await mfa.use_recovery_code(
                session,
                user_id=row.id if subject.kind is SessionSubject.USER else None,
                staff_id=row.id if subject.kind is SessionSubject.STAFF else None,
                code=recovery_code,
            )
            if not spent:
                await count_failure(session, settings, row, ip_key, now)
                raise Unauthenticated(BAD_RECOVERY_CODE, field="recoveryCode")
        elif not totp:
            # The password was right: asking for the code is no secret to someone who knows it.
            raise Unauthenticated(TOTP_REQUIRED, code=ErrorCode.TOTP_REQUIRED, field="totp")
        elif not mfa.accepted_step(row.totp_secret, totp, now=now, last_used=row.last_login_at):
            # Wrong, too old, or already used (replay): one answer for all three.
            await count_failure(session, settings, row, ip_key, now)
            raise Unauthenticated("The authenticator code is incorrect.", field="totp")

    await forget_failures(session, row, ip_key=ip_key)
    row.last_login_at = now
    session.add(row)
    return await open_session(
        session,
        tokens=tokens,
        settings=settings,
        kind=subject.kind,
        subject_id=row.id,
        ip=ip,
        user_agent=user_agent,
        account_id=attempt.account_id,
    )


async def _find_subject(session: AsyncSession, email: str) -> _Subject | None:
    address = email.strip().lower()
    if not address:
        return None
    user = (
        await session.execute(
            sa.select(PortalUser)
            .join(Contact, col(Contact.id) == PortalUser.contact_id)
            .where(
                sa.func.lower(PortalUser.email) == address,
                col(PortalUser.status) == UserStatus.ACTIVE,
                col(Contact.is_active).is_(True),
            )
            .with_for_update(of=PortalUser)
        )
    ).scalar_one_or_none()
    if user is not None:
        return _Subject(SessionSubject.USER, user)
    staff = (
        await session.execute(
            sa.select(StaffUser)
            .where(sa.func.lower(StaffUser.email) == address, col(StaffUser.is_active).is_(True))
            .with_for_update()
        )
    ).scalar_one_or_none()
    return _Subject(SessionSubject.STAFF, staff) if staff is not None else None


def _new_refresh_token(session: AsyncSession, session_id: uuid.UUID) -> str:
    token = secrets.token_urlsafe(32)
    session.add(RefreshToken(session_id=session_id, token_hash=hash_refresh_token(token)))
    return token


async def refresh(
    *,
    session: AsyncSession,
    tokens: TokenService,
    settings: Settings,
    refresh_token: str,
    attempt: SignInSubject | None = None,
) -> LoginResult:
    async with system_scope(session):
        try:
            result = await _refresh(
                session=session,
                tokens=tokens,
                settings=settings,
                refresh_token=refresh_token,
                attempt=attempt if attempt is not None else SignInSubject(),
            )
        except PortalError:
            await session.commit()
            raise
        await session.commit()
        return result


async def _refresh(
    *,
    session: AsyncSession,
    tokens: TokenService,
    settings: Settings,
    refresh_token: str,
    attempt: SignInSubject,
) -> LoginResult:
    now = utcnow()
    found = (
        await session.execute(
            sa.select(RefreshToken, AuthSession)
            .join(AuthSession, col(AuthSession.id) == RefreshToken.session_id)
            .where(col(RefreshToken.token_hash) == hash_refresh_token(refresh_token.strip()))
            .with_for_update()
        )
    ).one_or_none()
    if found is None:
        raise Unauthenticated(BAD_REFRESH, field="refreshToken")
    token, auth_session = found[0], found[1]
    attempt.kind = auth_session.subject_kind
    attempt.subject_id = auth_session.user_id or auth_session.staff_id
    if auth_session.user_id is not None:
        attempt.account_id = await session.scalar(
            sa.select(col(PortalUser.account_id)).where(col(PortalUser.id) == auth_session.user_id)
        )
    if auth_session.revoked_at is not None:
        raise Unauthenticated(BAD_REFRESH, field="refreshToken")
    if token.used_at is not None:
        # A spent token came back: someone holds a copy. End the whole family.
        _revoke(session, auth_session, "refresh_token_reuse", now)
        raise Unauthenticated(BAD_REFRESH, field="refreshToken")
    if auth_session.absolute_expires_at <= now:
        _revoke(session, auth_session, "expired", now)
        raise Unauthenticated(BAD_REFRESH, field="refreshToken")
    if auth_session.last_used_at + timedelta(seconds=settings.idle_timeout_seconds) <= now:
        _revoke(session, auth_session, "idle_timeout", now)
        raise Unauthenticated(BAD_REFRESH, field="refreshToken")
    subject_id = await _active_subject(session, auth_session)
    if subject_id is None:
        _revoke(session, auth_session, "subject_inactive", now)
        raise Unauthenticated(BAD_REFRESH, field="refreshToken")

    token.used_at = now
    auth_session.last_used_at = now
    session.add_all([token, auth_session])
    new_token = _new_refresh_token(session, auth_session.id)
    kind = (
        SubjectKind.USER if auth_session.subject_kind is SessionSubject.USER else SubjectKind.STAFF
    )
    access_token, expires_in = tokens.mint(
        kind=kind, subject_id=subject_id, session_id=auth_session.id
    )
    await session.flush()
    return LoginResult(
        access_token=access_token,
        refresh_token=new_token,
        expires_in=expires_in,
        session_id=auth_session.id,
        subject_kind=auth_session.subject_kind,
        subject_id=subject_id,
        account_id=attempt.account_id,
    )


async def _active_subject(session: AsyncSession, auth_session: AuthSession) -> uuid.UUID | None:
    if auth_session.user_id is not None:
        found: uuid.UUID | None = await session.scalar(
            sa.select(col(PortalUser.id))
            .join(Contact, col(Contact.id) == PortalUser.contact_id)
            .where(
                col(PortalUser.id) == auth_session.user_id,
                col(PortalUser.status) == UserStatus.ACTIVE,
                col(Contact.is_active).is_(True),
            )
        )
        return found
    staff_id: uuid.UUID | None = await session.scalar(
        sa.select(col(StaffUser.id)).where(
            col(StaffUser.id) == auth_session.staff_id, col(StaffUser.is_active).is_(True)
        )
    )
    return staff_id


def _revoke(session: AsyncSession, auth_session: AuthSession, reason: str, now: datetime) -> None:
    auth_session.revoked_at = now
    auth_session.revoked_reason = reason
    session.add(auth_session)


def _subject_column(principal: Principal) -> Any:
    if principal.kind is PrincipalKind.USER:
        return col(AuthSession.user_id)
    if principal.kind is PrincipalKind.STAFF:
        return col(AuthSession.staff_id)
    raise BadUserInput("Only people sign out; API clients have no sign-in session.")


async def logout(*, session: AsyncSession, principal: Principal) -> None:
    """End the sign-in session of the caller's access token."""
    subject = _subject_column(principal)
    if principal.session_id is None:
        raise BadUserInput("This access token does not belong to a sign-in session.")
    await session.execute(
        sa.update(AuthSession)
        .where(
            col(AuthSession.id) == principal.session_id,
            subject == principal.id,
            col(AuthSession.revoked_at).is_(None),
        )
        .values(revoked_at=utcnow(), revoked_reason="logout")
    )
    await session.commit()


async def logout_everywhere(*, session: AsyncSession, principal: Principal) -> int:
    """End every open sign-in session of the caller; answers how many were ended."""
    subject = _subject_column(principal)
    result = await session.execute(
        sa.update(AuthSession)
        .where(subject == principal.id, col(AuthSession.revoked_at).is_(None))
        .values(revoked_at=utcnow(), revoked_reason="logout_everywhere")
    )
    await session.commit()
    return int(getattr(result, "rowcount", 0) or 0)


async def revoke_sessions(
    session: AsyncSession,
    *,
    kind: SessionSubject,
    subject_id: uuid.UUID,
    reason: str,
    keep: uuid.UUID | None = None,
) -> int:
    """End every open sign-in session of one person (but ``keep``), in the caller's transaction;
    answers how many were ended. Their access tokens stop working at the next request."""
    subject = col(AuthSession.user_id) if kind is SessionSubject.USER else col(AuthSession.staff_id)
    statement = sa.update(AuthSession).where(
        subject == subject_id, col(AuthSession.revoked_at).is_(None)
    )
    if keep is not None:
        statement = statement.where(col(AuthSession.id) != keep)
    result = await session.execute(
        statement.values(revoked_at=utcnow(), revoked_reason=reason).execution_options(
            synchronize_session=False
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def open_session(
    session: AsyncSession,
    *,
    tokens: TokenService,
    settings: Settings,
    kind: SessionSubject,
    subject_id: uuid.UUID,
    ip: str | None,
    user_agent: str | None,
    account_id: uuid.UUID | None = None,
) -> LoginResult:
    """Start a sign-in session for a person who has just proven who they are (a password and
    second factor, or an accepted invitation), in the caller's transaction."""
    now = utcnow()
    auth_session = AuthSession(
        subject_kind=kind,
        user_id=subject_id if kind is SessionSubject.USER else None,
        staff_id=subject_id if kind is SessionSubject.STAFF else None,
        created_at=now,
        last_used_at=now,
        absolute_expires_at=now + timedelta(seconds=settings.session_lifetime_seconds),
        ip=ip[:64] if ip else None,
        user_agent=user_agent[:512] if user_agent else None,
    )
    session.add(auth_session)
    await session.flush()
    refresh_token = _new_refresh_token(session, auth_session.id)
    access_token, expires_in = tokens.mint(
        kind=SubjectKind.USER if kind is SessionSubject.USER else SubjectKind.STAFF,
        subject_id=subject_id,
        session_id=auth_session.id,
    )
    await session.flush()
    return LoginResult(
        access_token=access_token,
        refresh_token=refresh_token,
        expires_in=expires_in,
        session_id=auth_session.id,
        subject_kind=kind,
        subject_id=subject_id,
        account_id=account_id,
    )
