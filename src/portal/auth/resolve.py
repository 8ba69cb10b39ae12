"""Turn verified token claims into a Principal, reading the live state of the subject.

Reading the database on every request makes a deactivation, a role change or a revoked
permission take effect on the very next request instead of when the token expires.

Each kind of caller is read by a database function of its own (migration 0017) that, in one
round trip, sets the system scope, reads the caller and scopes the transaction to the caller
(``Principal.scope``; to nothing when the caller may not go on), and answers the scope it left
the transaction in, so the request needs no ``set_config`` round trip of its own."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.principal import Principal, PrincipalKind
from portal.auth.scopes import EMPLOYER_SCOPES, PROVIDER_SCOPES
from portal.auth.tokens import InvalidTokenError, SubjectKind, TokenClaims
from portal.models.db import AccountScope, execute_self_scoped
from portal.models.enums import Permission, Role, UserStatus


@dataclass(frozen=True, slots=True)
class ResolvedPrincipal:
    principal: Principal
    # The scope the lookup left the open transaction in, as the row-level security policies read
    # it (``portal_scope_ids()``, ``portal_scope_all()``).
    applied: AccountScope


async def resolve_principal(session: AsyncSession, claims: TokenClaims) -> ResolvedPrincipal:
    """The principal a verified token names, read in one round trip (its sign-in session, the
    subject's live state, its permissions and its account family together), and the scope that
    round trip left the open transaction in: the principal's, when it may go on.

    Raises ``InvalidTokenError`` when the subject is unknown, inactive or revoked, or its sign-in
    session has ended; the transaction is then scoped to nothing, and the caller rolls it back."""
    match claims.subject_kind:
        case SubjectKind.USER:
            return await _user_principal(session, claims)
        case SubjectKind.STAFF:
            return await _staff_principal(session, claims)
        case SubjectKind.CLIENT:
            return await _client_principal(session, claims)
        case SubjectKind.PROVIDER_CLIENT:
            return await _provider_client_principal(session, claims)


async def principal_from_claims(session: AsyncSession, claims: TokenClaims) -> Principal:
    """``resolve_principal``'s principal. The open transaction is left scoped to it: roll the
    transaction back, or re-scope it, before reading anything else in it."""
    return (await resolve_principal(session, claims)).principal


def _uuid_arg(name: str) -> sa.BindParameter[uuid.UUID]:
    return sa.bindparam(name, type_=sa.Uuid)


def _scope_columns() -> tuple[sa.ColumnClause[Any], ...]:
    return (sa.column("scope_ids", sa.ARRAY(sa.Uuid)), sa.column("scope_all", sa.Boolean))


def _user_columns() -> tuple[sa.ColumnClause[Any], ...]:
    return (
        sa.column("id", sa.Uuid),
        sa.column("email", sa.Text),
        sa.column("account_id", sa.Uuid),
        sa.column("role", sa.Text),
        sa.column("status", sa.Text),
        sa.column("totp_confirmed_at", sa.DateTime(timezone=True)),
        sa.column("contact_id", sa.Uuid),
        sa.column("contact_active", sa.Boolean),
        sa.column("permissions", sa.ARRAY(sa.Text)),
        sa.column("family", sa.ARRAY(sa.Uuid)),
        sa.column("alive", sa.Boolean),
    )


def _call(function: sa.Function[Any], *columns: sa.ColumnClause[Any]) -> sa.Select[Any]:
    return sa.select(function.table_valued(*columns, name="principal"))


USER_ROW = _call(sa.func.portal_user_principal_row(_uuid_arg("user_id"), None), *_user_columns())
USER = _call(
    sa.func.portal_user_principal(_uuid_arg("user_id"), _uuid_arg("session_id")),
    *_user_columns(),
    *_scope_columns(),
)
STAFF = _call(
    sa.func.portal_staff_principal(_uuid_arg("staff_id"), _uuid_arg("session_id")),
    sa.column("id", sa.Uuid),
    sa.column("email", sa.Text),
    sa.column("totp_confirmed_at", sa.DateTime(timezone=True)),
    sa.column("alive", sa.Boolean),
    *_scope_columns(),
)
API_CLIENT = _call(
    sa.func.portal_api_client_principal(_uuid_arg("client_id")),
    sa.column("id", sa.Uuid),
    sa.column("client_id", sa.Text),
    sa.column("account_id", sa.Uuid),
    sa.column("scopes", sa.ARRAY(sa.Text)),
    sa.column("family", sa.ARRAY(sa.Uuid)),
    sa.column("name", sa.Text),
    sa.column("allowed_operations", sa.ARRAY(sa.Text)),
    *_scope_columns(),
)
PROVIDER_CLIENT = _call(
    sa.func.portal_provider_client_principal(_uuid_arg("client_id")),
    sa.column("id", sa.Uuid),
    sa.column("client_id", sa.Text),
    sa.column("scopes", sa.ARRAY(sa.Text)),
    sa.column("name", sa.Text),
    *_scope_columns(),
)


def _applied(row: Any) -> AccountScope:
    return AccountScope(
        account_ids=frozenset(row.scope_ids or ()), all_accounts=bool(row.scope_all)
    )


def _check_alive(alive: bool) -> None:
    if not alive:
        raise InvalidTokenError("the sign-in session has ended")


async def _user_principal(session: AsyncSession, claims: TokenClaims) -> ResolvedPrincipal:
    row = await execute_self_scoped(
        session, USER, {"user_id": claims.subject_id, "session_id": claims.session_id}
    )
    if row is None:
        raise InvalidTokenError("the user is not active")
    principal, may_sign_in = _user_from_row(row, claims)
    if not may_sign_in:
        raise InvalidTokenError("the user is not active")
    _check_alive(row.alive)
    return ResolvedPrincipal(principal, _applied(row))


async def user_principal(
    session: AsyncSession, user_id: uuid.UUID
) -> tuple[Principal, bool] | None:
    """The principal a portal user signs in as, and whether they may sign in now (an ACTIVE login
    of an active contact); None for an unknown user. Read under the caller's scope, which it
    leaves as it is, by the very read a request's sign-in runs (``portal_user_principal_row``):
    support's access explanations judge a user through exactly this principal."""
    row = (await session.execute(USER_ROW, {"user_id": user_id})).one_or_none()
    if row is None:
        return None
    return _user_from_row(row, None)


@lru_cache(maxsize=1024)
def _permissions(values: tuple[str, ...]) -> frozenset[Permission]:
    """A role's permissions, as read (the few sets there are, made once)."""
    return frozenset(Permission(value) for value in values)


def _user_from_row(row: Any, claims: TokenClaims | None) -> tuple[Principal, bool]:
    may_sign_in = row.status == UserStatus.ACTIVE.value and bool(row.contact_active)
    principal = Principal(
        kind=PrincipalKind.USER,
        id=row.id,
        email=row.email,
        account_id=row.account_id,
        account_ids=frozenset(row.family or ()),
        user_role=Role(row.role),
        permissions=_permissions(tuple(row.permissions or ())),
        token_id=claims.token_id if claims is not None else None,
        session_id=claims.session_id if claims is not None else None,
        second_factor_confirmed=row.totp_confirmed_at is not None,
        contact_id=row.contact_id,
    )
    return principal, may_sign_in


async def _staff_principal(session: AsyncSession, claims: TokenClaims) -> ResolvedPrincipal:
    row = await execute_self_scoped(
        session, STAFF, {"staff_id": claims.subject_id, "session_id": claims.session_id}
    )
    if row is None:
        raise InvalidTokenError("the staff user is not active")
    _check_alive(row.alive)
    principal = Principal(
        kind=PrincipalKind.STAFF,
        id=row.id,
        email=row.email,
        token_id=claims.token_id,
        session_id=claims.session_id,
        second_factor_confirmed=row.totp_confirmed_at is not None,
    )
    return ResolvedPrincipal(principal, _applied(row))


async def _client_principal(session: AsyncSession, claims: TokenClaims) -> ResolvedPrincipal:
    row = await execute_self_scoped(session, API_CLIENT, {"client_id": claims.subject_id})
    if row is None:
        raise InvalidTokenError("the client is revoked")
    # A token never carries more than the client holds now, nor a scope no employer client may.
    scopes = claims.scopes & frozenset(row.scopes) & EMPLOYER_SCOPES
    principal = Principal(
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
    return ResolvedPrincipal(principal, _applied(row))


async def _provider_client_principal(
    session: AsyncSession, claims: TokenClaims
) -> ResolvedPrincipal:
    row = await execute_self_scoped(session, PROVIDER_CLIENT, {"client_id": claims.subject_id})
    if row is None:
        raise InvalidTokenError("the provider client is revoked")
    principal = Principal(
        kind=PrincipalKind.API_CLIENT,
        id=row.id,
        scopes=claims.scopes & frozenset(row.scopes) & PROVIDER_SCOPES,
        token_id=claims.token_id,
        provider_system=True,
        client_name=row.name,
        client_id=row.client_id,
    )
    return ResolvedPrincipal(principal, _applied(row))
