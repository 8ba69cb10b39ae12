"""Failed guesses of a password or code: lockout per (person, address), a slower lockout per
person across all addresses, and per-address throttling.

Every place that checks a secret the caller typed (sign-in, changing the password, turning the
second factor off, regenerating recovery codes) counts a wrong guess here, so a stolen access
token cannot be used to guess the password or a code either.

A lockout is per (person, client address): failures from one address lock that person for that
address only, so a stranger who knows someone's email cannot lock them out of their own
network. The person's own row counts failures from every address and locks them everywhere at a
much higher threshold, so a guess spread over many addresses is still stopped. Sign-in answers a
locked person exactly like a wrong password or an unknown email (see ``sessions.login``): the
answer never tells whether an email has an account."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import LoginFailure, LoginLockout, PortalUser, StaffUser
from portal.models.db import AccountScope, rescope, set_scope
from portal.models.db import current_scope as session_scope
from portal.resolvers.errors import ErrorCode, PortalError, Unauthenticated
from portal.settings import Settings

# To a signed-in person only (changing the password, the second factor): sign-in never says it.
LOCKED = "Too many wrong passwords or codes were entered. Try again later, or reset your password."
IP_THROTTLED = "Too many failed sign-ins from your network. Wait a few minutes and try again."
# Locks grow with repeated lockouts but never beyond a day (until the hard limit is reached).
MAX_LOCK = timedelta(days=1)
# An address's count is forgotten after a quiet day (unless it is locked).
FORGET_AFTER = timedelta(days=1)
# Reached ``login_max_failures`` from one address: locked for it until the password is reset.
PERMANENT_LOCK = timedelta(days=365 * 100)


class RateLimited(PortalError):
    code = ErrorCode.RATE_LIMITED


class LockedOut(Unauthenticated):
    """A sign-in refused because the person is locked out (for this address, or everywhere).
    The caller is answered exactly like a wrong password; the audit trail says ``login.locked``."""


@asynccontextmanager
async def system_scope(session: AsyncSession) -> AsyncIterator[None]:
    """Run with every account visible (a lookup by email, before any principal is known), and
    restore the caller's scope for the transactions after this one."""
    previous = session_scope(session.sync_session)
    # Scopes are applied when a transaction begins: an open one is re-scoped too.
    await rescope(session, AccountScope.everything())
    try:
        yield
    finally:
        set_scope(session, previous)


async def count_failure(
    session: AsyncSession,
    settings: Settings,
    row: PortalUser | StaffUser,
    ip_key: str,
    now: datetime,
) -> None:
    """One wrong guess at ``row``'s password or code from ``ip_key``: counted for that address
    (which locks that person for that address only) and across all addresses (the slower
    backstop on the person's own row)."""
    ip = ip_key[:64]
    # Addresses quiet for a day and not locked are forgotten (a guess spread over many addresses
    # leaves a row per address; the person's own row keeps counting them).
    await session.execute(
        sa.delete(LoginLockout).where(
            col(LoginLockout.subject_id) == row.id,
            col(LoginLockout.updated_at) < now - FORGET_AFTER,
            sa.or_(col(LoginLockout.locked_until).is_(None), col(LoginLockout.locked_until) < now),
        )
    )
    insert = postgresql.insert(LoginLockout).values(
        subject_id=row.id, ip=ip, failure_count=1, updated_at=now
    )
    count = await session.scalar(
        insert.on_conflict_do_update(
            index_elements=[col(LoginLockout.subject_id), col(LoginLockout.ip)],
            set_={"failure_count": col(LoginLockout.failure_count) + 1, "updated_at": now},
        ).returning(col(LoginLockout.failure_count))
    )
    pair_lock = _lock_for(
        int(count or 0),
        settings.login_lockout_threshold,
        settings,
        now,
        permanent_at=settings.login_max_failures,
    )
    if pair_lock is not None:
        await session.execute(
            sa.update(LoginLockout)
            .where(col(LoginLockout.subject_id) == row.id, col(LoginLockout.ip) == ip)
            .values(locked_until=pair_lock)
        )
    row.failed_login_count += 1
    everywhere = _lock_for(
        row.failed_login_count, settings.login_global_lockout_threshold, settings, now
    )
    if everywhere is not None:
        row.locked_until = everywhere
    session.add(row)
    await record_ip_failure(session, ip, now)


def _lock_for(
    count: int,
    threshold: int,
    settings: Settings,
    now: datetime,
    *,
    permanent_at: int | None = None,
) -> datetime | None:
    if permanent_at is not None and count >= permanent_at:
        return now + PERMANENT_LOCK
    if count % threshold != 0:
        return None
    lockouts = count // threshold
    lock: timedelta = timedelta(seconds=settings.login_lockout_seconds) * 2 ** min(lockouts - 1, 16)
    return now + min(lock, MAX_LOCK)


async def is_locked(
    session: AsyncSession, row: PortalUser | StaffUser, ip_key: str, now: datetime
) -> bool:
    """Whether ``row`` is locked everywhere (the backstop) or for this address."""
    if row.locked_until is not None and row.locked_until > now:
        return True
    until = await session.scalar(
        sa.select(col(LoginLockout.locked_until)).where(
            col(LoginLockout.subject_id) == row.id, col(LoginLockout.ip) == ip_key[:64]
        )
    )
    return until is not None and until > now


async def forget_failures(
    session: AsyncSession, row: PortalUser | StaffUser, *, ip_key: str | None = None
) -> None:
    """A right answer from ``ip_key`` clears that address's count and the backstop's; a new
    password (``ip_key`` None) clears every address's."""
    row.failed_login_count = 0
    row.locked_until = None
    session.add(row)
    delete = sa.delete(LoginLockout).where(col(LoginLockout.subject_id) == row.id)
    if ip_key is not None:
        delete = delete.where(col(LoginLockout.ip) == ip_key[:64])
    await session.execute(delete)


async def ip_failures(session: AsyncSession, settings: Settings, ip: str, now: datetime) -> int:
    since = now - timedelta(seconds=settings.login_ip_window_seconds)
    # Old rows of this address are of no further use.
    await session.execute(
        sa.delete(LoginFailure).where(
            col(LoginFailure.ip) == ip, col(LoginFailure.attempted_at) < since
        )
    )
    count = await session.scalar(
        sa.select(sa.func.count()).where(
            col(LoginFailure.ip) == ip, col(LoginFailure.attempted_at) >= since
        )
    )
    return int(count or 0)


async def record_ip_failure(session: AsyncSession, ip: str, now: datetime) -> None:
    session.add(LoginFailure(ip=ip[:64], attempted_at=now))
    await session.flush()
