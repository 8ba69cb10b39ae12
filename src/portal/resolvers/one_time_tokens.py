"""Emailed single-use tokens (password reset, invitation): issued, looked up and claimed.

Only the SHA-256 of a token is stored. Claiming is one conditional UPDATE (``used_at IS NULL``
and not expired, ``RETURNING``), so of two concurrent requests with the same token exactly one
wins. Links put the token in the URL fragment (``#token=``), which browsers never send to a
server, so it stays out of access logs and Referer headers.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import OneTimeToken, OneTimeTokenPurpose
from portal.resolvers.errors import ErrorCode, PortalError
from portal.settings import Settings

TOKEN_BYTES = 32
INVALID_LINK = "This link is invalid, expired or already used; ask for a new one."


class InvalidToken(PortalError):
    code = ErrorCode.INVALID_TOKEN


def hash_token(token: str) -> str:
    return hashlib.sha256(token.strip().encode()).hexdigest()


def link(settings: Settings, path: str, token: str) -> str:
    """The emailed link: the employer web app's page when PORTAL_APP_URL is set, else the API's
    own page (``portal.web.account_pages``) at the public URL."""
    base = settings.app_url or settings.public_url
    return f"{base.rstrip('/')}{path}#token={token}"


def _subject(user_id: uuid.UUID | None, staff_id: uuid.UUID | None) -> sa.ColumnElement[bool]:
    if user_id is not None:
        return col(OneTimeToken.user_id) == user_id
    return col(OneTimeToken.staff_id) == staff_id


async def issue(
    session: AsyncSession,
    *,
    purpose: OneTimeTokenPurpose,
    ttl: timedelta,
    now: datetime,
    user_id: uuid.UUID | None = None,
    staff_id: uuid.UUID | None = None,
) -> str:
    """A new token for the person; their earlier unused tokens of this purpose stop working."""
    await session.execute(
        sa.update(OneTimeToken)
        .where(
            _subject(user_id, staff_id),
            col(OneTimeToken.purpose) == purpose,
            col(OneTimeToken.used_at).is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    session.add(
        OneTimeToken(
            purpose=purpose,
            user_id=user_id,
            staff_id=staff_id,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + ttl,
        )
    )
    await session.flush()
    return token


async def issued_since(
    session: AsyncSession,
    *,
    purpose: OneTimeTokenPurpose,
    since: datetime,
    user_id: uuid.UUID | None = None,
    staff_id: uuid.UUID | None = None,
) -> int:
    count = await session.scalar(
        sa.select(sa.func.count()).where(
            _subject(user_id, staff_id),
            col(OneTimeToken.purpose) == purpose,
            col(OneTimeToken.created_at) >= since,
        )
    )
    return int(count or 0)


async def find_usable(
    session: AsyncSession, *, purpose: OneTimeTokenPurpose, token: str, now: datetime
) -> OneTimeToken:
    """The unused, unexpired token of this purpose, or ``InvalidToken``."""
    found = (
        await session.execute(
            sa.select(OneTimeToken).where(
                col(OneTimeToken.token_hash) == hash_token(token),
                col(OneTimeToken.purpose) == purpose,
                col(OneTimeToken.used_at).is_(None),
                col(OneTimeToken.expires_at) > now,
            )
        )
    ).scalar_one_or_none()
    if found is None:
        raise InvalidToken(INVALID_LINK, field="token")
    return found


async def claim(session: AsyncSession, *, token_id: uuid.UUID, now: datetime) -> None:
    """Mark the token used; ``InvalidToken`` when another request used it first."""
    claimed = await session.scalar(
        sa.update(OneTimeToken)
        .where(
            col(OneTimeToken.id) == token_id,
            col(OneTimeToken.used_at).is_(None),
            col(OneTimeToken.expires_at) > now,
        )
        .values(used_at=now)
        .returning(col(OneTimeToken.id))
        .execution_options(synchronize_session=False)
    )
    if claimed is None:
        raise InvalidToken(INVALID_LINK, field="token")
