"""Turn verified token claims into a Principal, reading the live state of the subject.

Reading the database on every request makes a deactivation, a role change or a revoked
permission take effect on the very next request instead of when the token expires."""

from __future__ import annotations

import uuid

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
from portal.models.enums import UserStatus


async def principal_from_claims(session: AsyncSession, claims: TokenClaims) -> Principal:
    if claims.session_id is not None:
        await _check_sign_in_session(session, claims)
    match claims.subject_kind:
        case SubjectKind.USER:
            return await _user_principal(session, claims)
        case SubjectKind.STAFF:
            return await _staff_principal(session, claims)
        case SubjectKind.CLIENT:
            return await _client_principal(session, claims)
        case SubjectKind.PROVIDER_CLIENT:
            return await _provider_client_principal(session, claims)


async def _check_sign_in_session(session: AsyncSession, claims: TokenClaims) -> None:
    """A token issued for a sign-in session dies with it: logout, revocation, absolute expiry."""
    subject = (
        col(AuthSession.user_id)
        if claims.subject_kind is SubjectKind.USER
        else col(AuthSession.staff_id)
    )
    alive = await session.scalar(
        sa.select(sa.literal(1)).where(
            col(AuthSession.id) == claims.session_id,
            subject == claims.subject_id,
            col(AuthSession.revoked_at).is_(None),
            col(AuthSession.absolute_expires_at) > sa.func.now(),
        )
    )
    if alive is None:
        raise InvalidTokenError("the sign-in session has ended")


async def account_family(session: AsyncSession, account_id: uuid.UUID) -> frozenset[uuid.UUID]:
    """The account and the employer clients it administers."""
    rows = await session.execute(
        sa.select(col(Account.id)).where(
            sa.or_(col(Account.id) == account_id, col(Account.parent_account_id) == account_id)
        )
    )
    return frozenset(rows.scalars())


async def _user_principal(session: AsyncSession, claims: TokenClaims) -> Principal:
    row = (
        await session.execute(
            sa.select(
                col(PortalUser.id),
                col(PortalUser.email),
                col(PortalUser.account_id),
                col(PortalUser.role),
                col(PortalUser.totp_confirmed_at),
            )
            .join(Contact, col(Contact.id) == PortalUser.contact_id)
            .where(
                col(PortalUser.id) == claims.subject_id,
                col(PortalUser.status) == UserStatus.ACTIVE,
                col(Contact.is_active).is_(True),
            )
        )
    ).one_or_none()
    if row is None:
        raise InvalidTokenError("the user is not active")
    permissions = await session.execute(
        sa.select(col(UserPermission.permission)).where(col(UserPermission.user_id) == row.id)
    )
    return Principal(
        kind=PrincipalKind.USER,
        id=row.id,
        email=row.email,
        account_id=row.account_id,
        account_ids=await account_family(session, row.account_id),
        user_role=row.role,
        permissions=frozenset(permissions.scalars()),
        token_id=claims.token_id,
        session_id=claims.session_id,
        second_factor_confirmed=row.totp_confirmed_at is not None,
    )


async def _staff_principal(session: AsyncSession, claims: TokenClaims) -> Principal:
    row = (
        await session.execute(
            sa.select(
                col(StaffUser.id), col(StaffUser.email), col(StaffUser.totp_confirmed_at)
            ).where(
                col(StaffUser.id) == claims.subject_id,
                col(StaffUser.is_active).is_(True),
            )
        )
    ).one_or_none()
    if row is None:
        raise InvalidTokenError("the staff user is not active")
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
        account_ids=await account_family(session, row.account_id),
        scopes=scopes,
        token_id=claims.token_id,
        allowed_operations=frozenset(row.allowed_operations) or None,
    )


async def _provider_client_principal(session: AsyncSession, claims: TokenClaims) -> Principal:
    row = (
        await session.execute(
            sa.select(col(ProviderClient.id), col(ProviderClient.scopes)).where(
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
    )
