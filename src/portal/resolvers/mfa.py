"""TOTP second factor (pyotp): enrolment and confirmation, recovery codes, sign-in checks.

A person (portal user or staff member) enrols in two steps: ``begin_enrollment`` stores a new,
unconfirmed secret and answers it with an ``otpauth://`` URI for the authenticator app;
``confirm_enrollment`` checks a first code, marks the factor confirmed and answers ten recovery
codes, shown once and stored only as their SHA-256. From then on ``login`` asks for a code or a
recovery code.

Replay protection without a column: once enrolled, every sign-in needs the second factor, so
``last_login_at`` is the time of the last accepted one. A code is accepted only for the current
time step or the one before (clock drift tolerated backwards only), and only if that step comes
after the step of ``last_login_at``; the sign-in locks the person's row (``FOR UPDATE``), so two
concurrent sign-ins with one code cannot both pass.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import pyotp
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.passwords import verify_password
from portal.auth.principal import Principal, PrincipalKind
from portal.models import PortalUser, StaffUser
from portal.models.base import utcnow
from portal.models.credentials import RecoveryCode
from portal.resolvers.errors import BadUserInput, Forbidden, Unauthenticated
from portal.resolvers.lockout import LOCKED, RateLimited, count_failure, is_locked, system_scope
from portal.settings import Settings

ISSUER = "Employer Health Portal"
RECOVERY_CODE_COUNT = 10
# Recovery codes: 12 characters of lowercase base32 (60 bits), shown as xxxx-xxxx-xxxx.
_RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
_RECOVERY_LENGTH = 12

ALREADY_ENROLLED = "Two-step verification is already set up; disable it first to enrol again."
NOT_STARTED = "Start with `beginTotpEnrollment` to get a secret for your authenticator app."
NOT_ENROLLED = "Two-step verification is not set up."
BAD_CODE = "The authenticator code is incorrect."
WRONG_PASSWORD = "The password is incorrect."  # noqa: S105 -- a message, not a secret
MANDATORY = "Two-step verification is mandatory for administrators and cannot be turned off."


@dataclass(frozen=True, slots=True)
class Enrollment:
    secret: str
    provisioning_uri: str


def hash_recovery_code(code: str) -> str:
    return hashlib.sha256(normalize_recovery_code(code).encode()).hexdigest()


def normalize_recovery_code(code: str) -> str:
    """Codes are typed by hand: case, spaces and hyphens do not matter."""
    return "".join(ch for ch in code.lower() if ch not in " -\t")


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4))


def accepted_step(secret: str, code: str, *, now: datetime, last_used: datetime | None) -> bool:
    """``code`` is the current or previous step's, and that step is newer than ``last_used``."""
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    floor = totp.timecode(last_used) if last_used is not None else -1
    typed = code.strip().replace(" ", "")
    for step in (current, current - 1):
        if step > floor and pyotp.utils.strings_equal(typed, totp.generate_otp(step)):
            return True
    return False


async def use_recovery_code(
    session: AsyncSession, *, user_id: uuid.UUID | None, staff_id: uuid.UUID | None, code: str
) -> bool:
    """Spend one unused recovery code of this person: one statement, so it is used at most once."""
    subject = (
        col(RecoveryCode.user_id) == user_id
        if user_id is not None
        else col(RecoveryCode.staff_id) == staff_id
    )
    spent = await session.scalar(
        sa.update(RecoveryCode)
        .where(
            subject,
            col(RecoveryCode.code_hash) == hash_recovery_code(code),
            col(RecoveryCode.used_at).is_(None),
        )
        .values(used_at=utcnow())
        .returning(col(RecoveryCode.id))
    )
    return spent is not None


async def _person(session: AsyncSession, principal: Principal) -> PortalUser | StaffUser:
    """The caller's own row, locked: enrolment steps of one person run one at a time."""
    row: PortalUser | StaffUser | None
    if principal.kind is PrincipalKind.USER:
        row = await session.scalar(
            sa.select(PortalUser).where(col(PortalUser.id) == principal.id).with_for_update()
        )
    elif principal.kind is PrincipalKind.STAFF:
        row = await session.scalar(
            sa.select(StaffUser).where(col(StaffUser.id) == principal.id).with_for_update()
        )
    else:
        raise BadUserInput("Only people enrol a second factor.")
    if row is None:
        raise Unauthenticated("Sign in again.")
    return row


async def _replace_recovery_codes(
    session: AsyncSession, person: PortalUser | StaffUser
) -> list[str]:
    is_user = isinstance(person, PortalUser)
    subject = (
        col(RecoveryCode.user_id) == person.id
        if is_user
        else col(RecoveryCode.staff_id) == person.id
    )
    await session.execute(sa.delete(RecoveryCode).where(subject))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(
        RecoveryCode(
            user_id=person.id if is_user else None,
            staff_id=None if is_user else person.id,
            code_hash=hash_recovery_code(code),
        )
        for code in codes
    )
    await session.flush()
    return codes


def _check_code(person: PortalUser | StaffUser, code: str) -> None:
    assert person.totp_secret is not None
    # Enrolment steps tolerate one step of drift either way; sign-in is stricter (see above).
    if not pyotp.TOTP(person.totp_secret).verify(code.strip(), valid_window=1):
        raise BadUserInput(BAD_CODE, field="code")


async def begin_enrollment(*, session: AsyncSession, principal: Principal) -> Enrollment:
    person = await _person(session, principal)
    if person.totp_confirmed_at is not None:
        raise BadUserInput(ALREADY_ENROLLED)
    secret = pyotp.random_base32()
    person.totp_secret = secret
    session.add(person)
    await session.commit()
    uri = pyotp.TOTP(secret).provisioning_uri(name=person.email, issuer_name=ISSUER)
    return Enrollment(secret=secret, provisioning_uri=uri)


async def confirm_enrollment(
    *, session: AsyncSession, principal: Principal, code: str
) -> list[str]:
    person = await _person(session, principal)
    if person.totp_confirmed_at is not None:
        raise BadUserInput(ALREADY_ENROLLED)
    if person.totp_secret is None:
        raise BadUserInput(NOT_STARTED)
    _check_code(person, code)
    person.totp_confirmed_at = utcnow()
    session.add(person)
    codes = await _replace_recovery_codes(session, person)
    await session.commit()
    return codes


async def _guessed_wrong(
    session: AsyncSession, settings: Settings, person: PortalUser | StaffUser, ip: str | None
) -> None:
    """A wrong password or code with a signed-in session counts toward the lockout like a
    failed sign-in, so a stolen access token cannot be used to guess either."""
    async with system_scope(session):
        await count_failure(session, settings, person, ip or "unknown", utcnow())
        await session.commit()


async def _refuse_if_locked(
    session: AsyncSession, person: PortalUser | StaffUser, ip: str | None, field: str
) -> None:
    if await is_locked(session, person, ip or "unknown", utcnow()):
        raise RateLimited(LOCKED, field=field)


async def regenerate_recovery_codes(
    *,
    session: AsyncSession,
    principal: Principal,
    code: str,
    settings: Settings,
    ip: str | None,
) -> list[str]:
    person = await _person(session, principal)
    if person.totp_secret is None or person.totp_confirmed_at is None:
        raise BadUserInput(NOT_ENROLLED)
    await _refuse_if_locked(session, person, ip, "code")
    try:
        _check_code(person, code)
    except BadUserInput:
        await _guessed_wrong(session, settings, person, ip)
        raise
    codes = await _replace_recovery_codes(session, person)
    await session.commit()
    return codes


async def disable(
    *,
    session: AsyncSession,
    principal: Principal,
    password: str,
    settings: Settings,
    ip: str | None,
) -> None:
    """Turn the factor off (password required); refused where the factor is mandatory."""
    person = await _person(session, principal)
    if person.totp_secret is None:
        raise BadUserInput(NOT_ENROLLED)
    if settings.require_mfa_for_admins and principal.is_administrator:
        raise Forbidden(MANDATORY)
    await _refuse_if_locked(session, person, ip, "password")
    if person.password_hash is None or not verify_password(person.password_hash, password):
        await _guessed_wrong(session, settings, person, ip)
        raise BadUserInput(WRONG_PASSWORD, field="password")
    person.totp_secret = None
    person.totp_confirmed_at = None
    session.add(person)
    subject = (
        col(RecoveryCode.user_id) == person.id
        if isinstance(person, PortalUser)
        else col(RecoveryCode.staff_id) == person.id
    )
    await session.execute(sa.delete(RecoveryCode).where(subject))
    await session.commit()
