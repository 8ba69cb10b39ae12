"""The principal in one statement: one round trip reads the caller with the system scope and
leaves the request's transaction in exactly the caller's scope (``Principal.scope``), for every
kind of caller; a caller who may not go on is refused, with the transaction scoped to nothing."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from portal.auth.bearer import authenticate_bearer
from portal.auth.principal import Principal
from portal.auth.resolve import resolve_principal, user_principal
from portal.auth.tokens import InvalidTokenError, SubjectKind, TokenService
from portal.models import Account, ApiClient, AuthSession, ProviderClient, StaffUser
from portal.models.db import AccountScope, set_scope
from portal.models.enums import Permission, Role
from portal.models.sessions import SessionSubject
from portal.resolvers.audit import RequestMeta
from tests.conftest import StatementCounter
from tests.support.world import World

SETTINGS = sa.text(
    "SELECT current_setting('portal.account_ids', true),"
    " current_setting('portal.all_accounts', true)"
)
VISIBLE_ACCOUNTS = sa.select(col(Account.id))
META = RequestMeta(ip_address="203.0.113.9", request_id="principal-test", operation_name=None)


def as_settings(scope: AccountScope) -> tuple[str, str]:
    """The two settings as the application writes a scope (the policies read these)."""
    return (
        ",".join(str(account) for account in sorted(scope.account_ids)),
        "on" if scope.all_accounts else "off",
    )


async def settings_of(session: AsyncSession) -> tuple[str, str]:
    ids, everything = (await session.execute(SETTINGS)).one()
    return ids, everything


async def a_tpa_client(db: AsyncSession, world: World) -> ApiClient:
    """An HR system of the Northwind TPA (its family: Northwind and Contoso), limited to one
    persisted operation."""
    client = ApiClient(
        account_id=world.northwind.id,
        client_id="northwind-hr-" + uuid.uuid4().hex[:8],
        secret_hash="unused",
        name="Northwind HRIS",
        scopes=["account:read", "documents:read"],
        allowed_operations=["a" * 64],
    )
    db.add(client)
    await db.flush()
    return client


@pytest.mark.parametrize(
    ("kind", "subject", "expected_scope"),
    [
        pytest.param(
            SubjectKind.USER,
            lambda world: world.northwind_admin.id,
            lambda world: AccountScope(frozenset({world.northwind.id, world.contoso.id})),
            id="TPA user admin with a client account",
        ),
        pytest.param(
            SubjectKind.USER,
            lambda world: world.acme_basic.id,
            lambda world: AccountScope(frozenset({world.acme.id})),
            id="Basic user",
        ),
        pytest.param(
            SubjectKind.STAFF,
            lambda world: world.staff.id,
            lambda world: AccountScope.everything(),
            id="staff",
        ),
        pytest.param(
            SubjectKind.CLIENT,
            lambda world: world.acme_client.id,
            lambda world: AccountScope(frozenset({world.acme.id})),
            id="API client",
        ),
        pytest.param(
            SubjectKind.PROVIDER_CLIENT,
            lambda world: world.lab_system.id,
            lambda world: AccountScope.everything(),
            id="provider client",
        ),
    ],
)
async def test_one_round_trip_reads_the_caller_and_leaves_the_transaction_in_its_scope(
    sessionmaker: async_sessionmaker[AsyncSession],
    tokens: TokenService,
    world: World,
    count_queries: StatementCounter,
    kind: SubjectKind,
    subject: Callable[[World], uuid.UUID],
    expected_scope: Callable[[World], AccountScope],
) -> None:
    # Given a valid token of this kind of caller
    token, _ = tokens.mint(kind=kind, subject_id=subject(world), scopes=frozenset({"x"}))

    async with sessionmaker() as session:
        # When a request authenticates it
        count_queries.reset()
        principal = await authenticate_bearer(
            session=session, sessionmaker=sessionmaker, tokens=tokens, token=token, meta=META
        )
        sent = list(count_queries.statements)

        # Then one statement was sent, the principal function, and no set_config around it
        assert len(sent) == 1, sent
        assert "_principal(" in sent[0]
        assert "set_config" not in sent[0]
        # and the principal's scope is the one this kind of caller must have
        assert principal.id == subject(world)
        assert principal.scope == expected_scope(world)
        # and the open transaction is already in exactly that scope, as the policies read it
        assert await settings_of(session) == as_settings(principal.scope)
        # and the transactions after it begin in that scope too
        await session.commit()
        assert await settings_of(session) == as_settings(principal.scope)


async def test_the_scope_each_function_applies_equals_the_principals_scope_for_clients_too(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    tokens: TokenService,
    world: World,
) -> None:
    # Given an API client of a TPA, whose family has two accounts
    client = await a_tpa_client(db, world)
    claims = tokens.verify(
        tokens.mint(kind=SubjectKind.CLIENT, subject_id=client.id, scopes=frozenset())[0]
    )

    async with sessionmaker() as session:
        # When its principal is resolved
        resolved = await resolve_principal(session, claims)

        # Then the scope the function applied is the principal's, with both accounts
        assert resolved.applied == resolved.principal.scope
        assert resolved.principal.scope == AccountScope(
            frozenset({world.northwind.id, world.contoso.id})
        )
        assert resolved.principal.allowed_operations == frozenset({"a" * 64})
        # and row-level security now admits exactly those accounts' rows
        visible = set((await session.execute(VISIBLE_ACCOUNTS)).scalars())
        assert visible == {world.northwind.id, world.contoso.id}


async def test_a_basic_users_transaction_sees_only_their_own_account(
    sessionmaker: async_sessionmaker[AsyncSession], tokens: TokenService, world: World
) -> None:
    # Given Acme's Basic user's token
    token, _ = tokens.mint(kind=SubjectKind.USER, subject_id=world.acme_basic.id)

    async with sessionmaker() as session:
        # When the request authenticates it and reads every account it can
        await authenticate_bearer(
            session=session, sessionmaker=sessionmaker, tokens=tokens, token=token, meta=META
        )
        visible = set((await session.execute(VISIBLE_ACCOUNTS)).scalars())

    # Then row-level security admits Acme alone (the system scope of the lookup is gone)
    assert visible == {world.acme.id}


async def _deactivate_acme_user(db: AsyncSession, world: World) -> tuple[SubjectKind, uuid.UUID]:
    return SubjectKind.USER, world.acme_deactivated.id


async def _deactivate_staff(db: AsyncSession, world: World) -> tuple[SubjectKind, uuid.UUID]:
    await db.execute(
        sa.update(StaffUser).where(col(StaffUser.id) == world.staff.id).values(is_active=False)
    )
    return SubjectKind.STAFF, world.staff.id


async def _revoke_api_client(db: AsyncSession, world: World) -> tuple[SubjectKind, uuid.UUID]:
    await db.execute(
        sa.update(ApiClient)
        .where(col(ApiClient.id) == world.acme_client.id)
        .values(revoked_at=datetime.now(UTC))
    )
    return SubjectKind.CLIENT, world.acme_client.id


async def _revoke_provider_client(db: AsyncSession, world: World) -> tuple[SubjectKind, uuid.UUID]:
    await db.execute(
        sa.update(ProviderClient)
        .where(col(ProviderClient.id) == world.lab_system.id)
        .values(revoked_at=datetime.now(UTC))
    )
    return SubjectKind.PROVIDER_CLIENT, world.lab_system.id


async def _contact_deactivated(db: AsyncSession, world: World) -> tuple[SubjectKind, uuid.UUID]:
    contact_id = world.acme_basic.contact_id
    await db.execute(
        sa.text("UPDATE contacts SET is_active = false WHERE id = :id"), {"id": contact_id}
    )
    return SubjectKind.USER, world.acme_basic.id


async def _unknown_user(db: AsyncSession, world: World) -> tuple[SubjectKind, uuid.UUID]:
    return SubjectKind.USER, uuid.uuid4()


@pytest.mark.parametrize(
    "arrange",
    [
        pytest.param(_deactivate_acme_user, id="deactivated user"),
        pytest.param(_contact_deactivated, id="user whose contact is inactive"),
        pytest.param(_unknown_user, id="unknown user"),
        pytest.param(_deactivate_staff, id="deactivated staff"),
        pytest.param(_revoke_api_client, id="revoked API client"),
        pytest.param(_revoke_provider_client, id="revoked provider client"),
    ],
)
async def test_a_caller_who_may_not_go_on_is_refused_with_the_transaction_scoped_to_nothing(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    tokens: TokenService,
    world: World,
    arrange: Callable[[AsyncSession, World], Awaitable[tuple[SubjectKind, uuid.UUID]]],
) -> None:
    # Given a token whose subject may no longer go on
    kind, subject = await arrange(db, world)
    await db.flush()
    token, _ = tokens.mint(kind=kind, subject_id=subject, scopes=frozenset({"account:read"}))

    async with sessionmaker() as session:
        # When its principal is resolved
        with pytest.raises(InvalidTokenError):
            await resolve_principal(session, tokens.verify(token))
        # Then the lookup's transaction is left seeing nothing (not the system scope)
        assert await settings_of(session) == ("", "off")
        assert list((await session.execute(VISIBLE_ACCOUNTS)).scalars()) == []
        await session.rollback()

        # and a request presenting it is refused
        with pytest.raises(InvalidTokenError):
            await authenticate_bearer(
                session=session, sessionmaker=sessionmaker, tokens=tokens, token=token, meta=META
            )


@pytest.mark.parametrize(
    ("subject_kind", "revoked", "expires_in"),
    [
        pytest.param(SessionSubject.USER, True, timedelta(days=1), id="user, revoked session"),
        pytest.param(SessionSubject.USER, False, -timedelta(minutes=1), id="user, expired session"),
        pytest.param(SessionSubject.STAFF, True, timedelta(days=1), id="staff, revoked session"),
    ],
)
async def test_a_token_whose_sign_in_session_ended_is_refused(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    tokens: TokenService,
    world: World,
    subject_kind: SessionSubject,
    revoked: bool,
    expires_in: timedelta,
) -> None:
    # Given a sign-in session that was revoked or has expired, and a token issued for it
    staff = subject_kind is SessionSubject.STAFF
    subject = world.staff.id if staff else world.acme_admin.id
    row = AuthSession(
        subject_kind=subject_kind,
        user_id=None if staff else subject,
        staff_id=subject if staff else None,
        absolute_expires_at=datetime.now(UTC) + expires_in,
        revoked_at=datetime.now(UTC) if revoked else None,
        revoked_reason="logout" if revoked else None,
    )
    db.add(row)
    await db.flush()
    kind = SubjectKind.STAFF if staff else SubjectKind.USER
    token, _ = tokens.mint(kind=kind, subject_id=subject, session_id=row.id)

    async with sessionmaker() as session:
        # When a request presents it
        with pytest.raises(InvalidTokenError):
            await authenticate_bearer(
                session=session, sessionmaker=sessionmaker, tokens=tokens, token=token, meta=META
            )

    # Then it was refused; and a token for a live session of the same subject is not
    live = AuthSession(
        subject_kind=subject_kind,
        user_id=None if staff else subject,
        staff_id=subject if staff else None,
        absolute_expires_at=datetime.now(UTC) + timedelta(days=1),
    )
    db.add(live)
    await db.flush()
    token, _ = tokens.mint(kind=kind, subject_id=subject, session_id=live.id)
    async with sessionmaker() as session:
        principal = await authenticate_bearer(
            session=session, sessionmaker=sessionmaker, tokens=tokens, token=token, meta=META
        )
    assert principal.session_id == live.id


async def test_a_function_leaving_another_scope_is_corrected_by_a_rescope(
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    tokens: TokenService,
    world: World,
    count_queries: StatementCounter,
) -> None:
    # Given a staff principal function that (wrongly) leaves the transaction seeing nothing
    await db.execute(
        sa.text(
            """
            CREATE OR REPLACE FUNCTION portal_staff_principal(staff_id uuid, session_id uuid)
            RETURNS TABLE (id uuid, email text, totp_confirmed_at timestamptz, alive boolean,
                           scope_ids uuid[], scope_all boolean)
            LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM portal_set_scope('{}', false);
                RETURN QUERY SELECT s.id, s.email::text, s.totp_confirmed_at, true,
                    portal_scope_ids(), portal_scope_all()
                  FROM staff_users AS s WHERE s.id = $1;
            END
            $$
            """
        )
    )
    token, _ = tokens.mint(kind=SubjectKind.STAFF, subject_id=world.staff.id)

    async with sessionmaker() as session:
        # When a request authenticates the staff member
        count_queries.reset()
        principal = await authenticate_bearer(
            session=session, sessionmaker=sessionmaker, tokens=tokens, token=token, meta=META
        )

        # Then the mismatch was noticed and the transaction re-scoped: a second round trip
        assert len(count_queries.statements) == 2, count_queries.statements
        assert "set_config" in count_queries.statements[1]
        assert await settings_of(session) == as_settings(principal.scope) == ("", "on")


async def test_supports_read_of_a_user_leaves_the_callers_scope_as_it_is(
    sessionmaker: async_sessionmaker[AsyncSession], tokens: TokenService, world: World
) -> None:
    token, _ = tokens.mint(kind=SubjectKind.USER, subject_id=world.northwind_admin.id)
    async with sessionmaker() as session:
        signed_in = await resolve_principal(session, tokens.verify(token))
        await session.rollback()

    # Given a staff member's transaction (every account visible)
    async with sessionmaker() as session:
        set_scope(session, AccountScope.everything())

        # When support reads a TPA admin and a deactivated user the way access explanations do
        found = await user_principal(session, world.northwind_admin.id)
        deactivated = await user_principal(session, world.acme_deactivated.id)
        unknown = await user_principal(session, uuid.uuid4())

        # Then the staff transaction's scope is untouched
        assert await settings_of(session) == ("", "on")

    # and the TPA admin is judged as the principal they sign in as (token details aside)
    assert found is not None
    principal, may_sign_in = found
    assert may_sign_in
    assert principal == _without_token(signed_in.principal)
    assert principal.scope == AccountScope(frozenset({world.northwind.id, world.contoso.id}))
    # and the deactivated user is known but may not sign in; the unknown one is None
    assert deactivated is not None
    assert deactivated[1] is False
    assert unknown is None


def _without_token(principal: Principal) -> Principal:
    return replace(principal, token_id=None, session_id=None)


async def test_the_user_function_reads_the_users_live_state_permissions_included(
    sessionmaker: async_sessionmaker[AsyncSession], tokens: TokenService, world: World
) -> None:
    # Given the Acme user granted VIEW_VISIT_ACTIVITY, as the world created them
    user = world.acme_visits
    token, _ = tokens.mint(kind=SubjectKind.USER, subject_id=user.id)

    async with sessionmaker() as session:
        # When the user's principal is resolved
        principal = (await resolve_principal(session, tokens.verify(token))).principal

    # Then it carries the row's state and the permission granted
    assert (principal.email, principal.account_id, principal.user_role) == (
        user.email,
        user.account_id,
        Role.BASIC,
    )
    assert principal.contact_id == user.contact_id
    assert principal.permissions == frozenset({Permission.VIEW_VISIT_ACTIVITY})
    assert principal.second_factor_confirmed is False
