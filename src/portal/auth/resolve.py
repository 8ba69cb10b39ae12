"""Turn verified token claims into a Principal, reading the live state of the subject.

Reading the database on every request makes a deactivation, a role change or a revoked
permission take effect on the very next request instead of when the token expires."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal, PrincipalKind
from portal.auth.scopes import EMPLOYER_SCOPES, PROVIDER_SCOPES
from portal.auth.tokens import InvalidTokenError, SubjectKind, TokenClaims
from portal.models import (
    Account,
    ApiClient,
    AuthSession,
    Contact,
    PortalUser,
    ProviderClient,
    StaffUser,
    UserPermission,
)
from portal.models.enums import Permission, UserStatus


async def principal_from_claims(session: AsyncSession, claims: TokenClaims) -> Principal:
    """The principal a verified token names, read in one statement (its sign-in session, the
    subject's live state, its permissions and its account family together)."""
    match claims.subject_kind:
        case SubjectKind.USER:
            return await _user_principal(session, claims)
        case SubjectKind.STAFF:
            return await _staff_principal(session, claims)
        case SubjectKind.CLIENT:
            return await _client_principal(session, claims)
        case SubjectKind.PROVIDER_CLIENT:
            return await _provider_client_principal(session, claims)


def _session_alive(claims: TokenClaims) -> sa.ColumnElement[bool]:
    """A token issued for a sign-in session dies with it: logout, revocation, absolute expiry."""
    if claims.session_id is None:
        return sa.true()
    subject = (
        col(AuthSession.user_id)
        if claims.subject_kind is SubjectKind.USER
        else col(AuthSession.staff_id)
    )
    return sa.exists(
        sa.select(sa.literal(1)).where(
            col(AuthSession.id) == claims.session_id,
            subject == claims.subject_id,
            col(AuthSession.revoked_at).is_(None),
            col(AuthSession.absolute_expires_at) > sa.func.now(),
        )
    )


def _family_of(account_id: Any) -> sa.ScalarSelect[Any]:
    """The account and the employer clients it administers, as one array."""
    return (
        sa.select(sa.func.array_agg(col(Account.id)))
        .where(sa.or_(col(Account.id) == account_id, col(Account.parent_account_id) == account_id))
        .scalar_subquery()
    )


def _check_alive(alive: bool) -> None:
    if not alive:
        raise InvalidTokenError("the sign-in session has ended")


async def account_family(session: AsyncSession, account_id: uuid.UUID) -> frozenset[uuid.UUID]:
    """The account and the employer clients it administers."""
    family = await session.scalar(sa.select(_family_of(sa.literal(account_id, sa.Uuid))))
    return frozenset(family or ())


async def _user_principal(session: AsyncSession, claims: TokenClaims) -> Principal:
    found = await user_principal(session, claims.subject_id, claims=claims)
    if found is None or not found[1]:
        raise InvalidTokenError("the user is not active")
    return found[0]


async def user_principal(
    session: AsyncSession, user_id: uuid.UUID, *, claims: TokenClaims | None = None
) -> tuple[Principal, bool] | None:
    """The principal a portal user signs in as, and whether they may sign in now (an ACTIVE login
    of an active contact); None for an unknown user. Read in one statement (with the token's
    sign-in session when ``claims`` are given). Support's access explanations judge a user
    through exactly this principal."""
    permissions = (
        sa.select(sa.func.array_agg(sa.cast(col(UserPermission.permission), sa.Text)))
        .where(col(UserPermission.user_id) == col(PortalUser.id))
        .scalar_subquery()
    )
    row = (
        await session.execute(
            sa.select(
                col(PortalUser.id),
                col(PortalUser.email),
                col(PortalUser.account_id),
                col(PortalUser.role),
                col(PortalUser.status),
                col(PortalUser.totp_confirmed_at),
                col(PortalUser.contact_id),
                col(Contact.is_active),
                permissions.label("permissions"),
                _family_of(col(PortalUser.account_id)).label("family"),
                (_session_alive(claims) if claims is not None else sa.true()).label("alive"),
            )
            .join(Contact, col(Contact.id) == PortalUser.contact_id)
            .where(col(PortalUser.id) == user_id)
        )
    ).one_or_none()
    if row is None:
        return None
    may_sign_in = row.status is UserStatus.ACTIVE and bool(row.is_active)
    if may_sign_in:
        _check_alive(row.alive)
    principal = Principal(
        kind=PrincipalKind.USER,
        id=row.id,
        email=row.email,
        account_id=row.account_id,
        account_ids=frozenset(row.family or ()),
        user_role=row.role,
        permissions=frozenset(Permission(value) for value in row.permissions or ()),
        token_id=claims.token_id if claims is not None else None,
        session_id=claims.session_id if claims is not None else None,
        second_factor_confirmed=row.totp_confirmed_at is not None,
        contact_id=row.contact_id,
    )
    return principal, may_sign_in


async def _staff_principal(session: AsyncSession, claims: TokenClaims) -> Principal:
    row = (
        await session.execute(
            sa.select(
                col(StaffUser.id),
                col(StaffUser.email),
                col(StaffUser.totp_confirmed_at),
                _session_alive(claims).label("alive"),
            ).where(
                col(StaffUser.id) == claims.subject_id,
                col(StaffUser.is_active).is_(True),
            )
        )
    ).one_or_none()
    if row is None:
        raise InvalidTokenError("the staff user is not active")
    _check_alive(row.alive)
    return Principal(
        kind=PrincipalKind.STAFF,
        id=row.id,
        email=row.email,
        token_id=claims.token_id,
        session_id=claims.session_id,
        second_factor_confirmed=row.totp_confirmed_at is not None,
    )


async def _client_principal(session: AsyncSession, claims: TokenClaims) -> Principal:
    row = (
        await session.execute(
            sa.select(
                col(ApiClient.id),
                col(ApiClient.client_id),
                col(ApiClient.account_id),
                col(ApiClient.scopes),
                _family_of(col(ApiClient.account_id)).label("family"),
                col(ApiClient.name),
                col(ApiClient.allowed_operations),
            ).where(
                col(ApiClient.id) == claims.subject_id,
                col(ApiClient.revoked_at).is_(None),
            )
        )
    ).one_or_none()
    if row is None:
        raise InvalidTokenError("the client is revoked")
    # A token never carries more than the client holds now, nor a scope no employer client may.
    scopes = claims.scopes & frozenset(row.scopes) & EMPLOYER_SCOPES
    return Principal(
        kind=PrincipalKind.API_CLIENT,
        id=row.id,
        email=None,
        account_id=row.account_id,
        account_ids=frozenset(row.family or ()),
        scopes=scopes,
        token_id=claims.token_id,
        client_name=row.name,
        client_id=row.client_id,
        allowed_operations=frozenset(row.allowed_operations) or None,
    )


async def _provider_client_principal(session: AsyncSession, claims: TokenClaims) -> Principal:
    row = (
        await session.execute(
            sa.select(
                col(ProviderClient.id),
                col(ProviderClient.scopes),
                col(ProviderClient.name),
                col(ProviderClient.client_id),
            ).where(
                col(ProviderClient.id) == claims.subject_id,
                col(ProviderClient.revoked_at).is_(None),
            )
        )
    ).one_or_none()
    if row is None:
        raise InvalidTokenError("the provider client is revoked")
    return Principal(
        kind=PrincipalKind.API_CLIENT,
        id=row.id,
        scopes=claims.scopes & frozenset(row.scopes) & PROVIDER_SCOPES,
        token_id=claims.token_id,
        provider_system=True,
        client_name=row.name,
        client_id=row.client_id,
    )
