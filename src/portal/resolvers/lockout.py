"""Failed guesses of a password or code: account lockout and per-address throttling.

Every place that checks a secret the caller typed (sign-in, changing the password, turning the
second factor off, regenerating recovery codes) counts a wrong guess here, so a stolen access
token cannot be used to guess the password or a code either."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import LoginFailure, PortalUser, StaffUser
from portal.models.db import ACCOUNT_IDS_SETTING, ALL_ACCOUNTS_SETTING, AccountScope, set_scope
from portal.models.db import current_scope as session_scope
from portal.resolvers.errors import ErrorCode, PortalError
from portal.settings import Settings

LOCKED = (
    "This account is locked after too many failed sign-ins. Try again later, "
    "or ask support to unlock it."
)
IP_THROTTLED = "Too many failed sign-ins from your network. Wait a few minutes and try again."
# Locks grow with repeated lockouts but never beyond a day (until the hard limit is reached).
MAX_LOCK = timedelta(days=1)
# Reached ``login_max_failures``: locked until support resets it.
PERMANENT_LOCK = timedelta(days=365 * 100)


class RateLimited(PortalError):
    code = ErrorCode.RATE_LIMITED


@asynccontextmanager
async def system_scope(session: AsyncSession) -> AsyncIterator[None]:
    """Run with every account visible (a lookup by email, before any principal is known), and
    restore the caller's scope for the transactions after this one."""
    previous = session_scope(session.sync_session)
    set_scope(session, AccountScope.everything())
    if session.in_transaction():
        # Scopes are applied when a transaction begins: re-scope the one already open.
        await session.execute(
            sa.text("SELECT set_config(:ids_key, '', true), set_config(:all_key, 'on', true)"),
            {"ids_key": ACCOUNT_IDS_SETTING, "all_key": ALL_ACCOUNTS_SETTING},
        )
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
    row.failed_login_count += 1
    count = row.failed_login_count
    if count >= settings.login_max_failures:
        row.locked_until = now + PERMANENT_LOCK
    elif count % settings.login_lockout_threshold == 0:
        lockouts = count // settings.login_lockout_threshold
        lock = timedelta(seconds=settings.login_lockout_seconds) * 2 ** min(lockouts - 1, 16)
        row.locked_until = now + min(lock, MAX_LOCK)
    session.add(row)
    await record_ip_failure(session, ip_key, now)


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
