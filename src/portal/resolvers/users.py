"""User management by a User Admin of the account: roles, permissions, report subscriptions,
deactivation; and the account's users as the admin sees them.

Every change is limited to the admin's own account: a user or contact of another account (an
employer client of a third-party administrator included) answers NOT_FOUND, exactly like an
unknown id.

The invariant "every account keeps at least one active User Admin" holds under concurrency:
every change that can remove an active admin first locks the account row (``FOR UPDATE``), so
such changes of one account run one at a time, then re-reads (READ COMMITTED: each statement sees
what committed before it) that the actor is still an active admin and that another active admin
remains. Two admins demoting each other at the same moment: the second one finds itself alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal, permissions_in_force
from portal.models import (
    Account,
    AuthSession,
    Contact,
    Location,
    PortalUser,
    ReportSubscription,
    ReportType,
    UserPermission,
)
from portal.models.base import utcnow
from portal.models.db import AccountScope
from portal.models.enums import Permission, Role, UserStatus
from portal.resolvers.errors import BadUserInput, Forbidden, NotFound
from portal.resolvers.pagination import Page, PageRequest, SortKey, paginate

UNKNOWN_USER = "No user with this id."
UNKNOWN_CONTACT = "No contact with this id."
LAST_ADMIN = (
    "Every account keeps at least one active User Admin: make another user a User Admin first."
)
MAX_SUBSCRIPTIONS = 500


@dataclass(frozen=True, slots=True)
class UserView:
    """A portal user as their account's admins see it."""

    id: uuid.UUID
    account_id: uuid.UUID
    contact_id: uuid.UUID
    email: str
    role: Role
    status: UserStatus
    permissions: tuple[Permission, ...]
    last_login_at: datetime | None
    deactivated_at: datetime | None
    second_factor_enabled: bool
    # A new login email waiting for its owner's confirmation.
    pending_email: str | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    report_type_id: uuid.UUID
    location_id: uuid.UUID


def _permissions_of_user() -> sa.ScalarSelect[list[Permission]]:
    return (
        sa.select(
            sa.func.coalesce(
                sa.func.array_agg(sa.cast(col(UserPermission.permission), sa.String)),
                sa.text("'{}'::varchar[]"),
            )
        )
        .where(col(UserPermission.user_id) == col(PortalUser.id))
        .scalar_subquery()
    )


def _user_columns() -> Any:
    return sa.select(
        col(PortalUser.id),
        col(PortalUser.account_id),
        col(PortalUser.contact_id),
        col(PortalUser.email),
        col(PortalUser.role),
        col(PortalUser.status),
        _permissions_of_user().label("permissions"),
        col(PortalUser.last_login_at),
        col(PortalUser.deactivated_at),
        col(PortalUser.totp_confirmed_at),
        col(PortalUser.pending_email),
    )


def _to_view(row: Sequence[Any]) -> UserView:
    """A row of ``_user_columns`` (a Row, or the plain tuple ``paginate`` hands over)."""
    (
        user_id,
        account_id,
        contact_id,
        email,
        role,
        status,
        permissions,
        last_login_at,
        deactivated_at,
        totp_confirmed_at,
        pending_email,
    ) = tuple(row)[:11]
    return UserView(
        id=user_id,
        account_id=account_id,
        contact_id=contact_id,
        email=email,
        role=role,
        status=status,
        permissions=permissions_in_force(role, (Permission(p) for p in permissions)),
        last_login_at=last_login_at,
        deactivated_at=deactivated_at,
        second_factor_enabled=totp_confirmed_at is not None,
        pending_email=pending_email,
    )


async def load_users(
    *, session: AsyncSession, scope: AccountScope, ids: Sequence[uuid.UUID]
) -> list[UserView | None]:
    rows = await session.execute(
        _user_columns().where(col(PortalUser.id).in_(ids), scope.filter(col(PortalUser.account_id)))
    )
    by_id = {view.id: view for view in map(_to_view, rows)}
    return [by_id.get(user_id) for user_id in ids]


async def list_users(
    *,
    session: AsyncSession,
    scope: AccountScope,
    account_id: uuid.UUID,
    page: PageRequest,
    status: UserStatus | None = None,
) -> Page[UserView]:
    statement = _user_columns().where(
        col(PortalUser.account_id) == account_id, scope.filter(col(PortalUser.account_id))
    )
    if status is not None:
        statement = statement.where(col(PortalUser.status) == status)
    return await paginate(
        session=session,
        statement=statement,
        keys=[SortKey(col(PortalUser.email)), SortKey(col(PortalUser.id), python_type=uuid.UUID)],
        request=page,
        convert=_to_view,
    )


def _own_account(principal: Principal) -> uuid.UUID:
    if principal.account_id is None:
        raise Forbidden("Only a User Admin of an account manages its users.")
    return principal.account_id


async def lock_account_and_recheck_actor(session: AsyncSession, principal: Principal) -> uuid.UUID:
    """Serialise the account's admin changes, then make sure the actor is still an admin."""
    account_id = _own_account(principal)
    await session.execute(
        sa.select(col(Account.id)).where(col(Account.id) == account_id).with_for_update()
    )
    still_admin = await session.scalar(
        sa.select(sa.literal(1)).where(
            col(PortalUser.id) == principal.id,
            col(PortalUser.role) == Role.USER_ADMIN,
            col(PortalUser.status) == UserStatus.ACTIVE,
        )
    )
    if still_admin is None:
        raise Forbidden("You are no longer a User Admin of this account.")
    return account_id


async def _target_user(
    session: AsyncSession, account_id: uuid.UUID, user_id: uuid.UUID
) -> PortalUser:
    user = await session.scalar(
        sa.select(PortalUser)
        .where(col(PortalUser.id) == user_id, col(PortalUser.account_id) == account_id)
        .with_for_update()
    )
    if user is None:
        raise NotFound(UNKNOWN_USER, field="userId")
    return user


async def other_active_admins(
    session: AsyncSession, account_id: uuid.UUID, user_id: uuid.UUID
) -> int:
    count = await session.scalar(
        sa.select(sa.func.count())
        .select_from(PortalUser)
        .join(Contact, col(Contact.id) == PortalUser.contact_id)
        .where(
            col(PortalUser.account_id) == account_id,
            col(PortalUser.id) != user_id,
            col(PortalUser.role) == Role.USER_ADMIN,
            col(PortalUser.status) == UserStatus.ACTIVE,
            col(Contact.is_active).is_(True),
        )
    )
    return int(count or 0)


def is_active_admin(user: PortalUser) -> bool:
    return user.role is Role.USER_ADMIN and user.status is UserStatus.ACTIVE


async def _view(session: AsyncSession, user_id: uuid.UUID) -> UserView:
    row = (await session.execute(_user_columns().where(col(PortalUser.id) == user_id))).one()
    return _to_view(row)


async def update_user_role(
    *, session: AsyncSession, principal: Principal, user_id: uuid.UUID, role: Role
) -> tuple[UserView, Role]:
    """Answers the user and their previous role."""
    account_id = await lock_account_and_recheck_actor(session, principal)
    user = await _target_user(session, account_id, user_id)
    previous = user.role
    if previous is not role:
        if is_active_admin(user) and await other_active_admins(session, account_id, user.id) < 1:
            raise BadUserInput(LAST_ADMIN, field="role")
        user.role = role
        session.add(user)
        await session.flush()
    view = await _view(session, user.id)
    await session.commit()
    return view, previous


async def set_user_permissions(
    *,
    session: AsyncSession,
    principal: Principal,
    user_id: uuid.UUID,
    permissions: Sequence[Permission],
) -> tuple[UserView, tuple[Permission, ...]]:
    """Replace the user's permissions; answers the user and the permissions before."""
    account_id = _own_account(principal)
    user = await _target_user(session, account_id, user_id)
    before = tuple(
        sorted(
            (
                await session.scalars(
                    sa.select(col(UserPermission.permission)).where(
                        col(UserPermission.user_id) == user.id
                    )
                )
            ).all()
        )
    )
    await session.execute(sa.delete(UserPermission).where(col(UserPermission.user_id) == user.id))
    session.add_all(
        UserPermission(
            user_id=user.id,
            account_id=account_id,
            permission=permission,
            granted_by_user_id=principal.id,
        )
        for permission in sorted(set(permissions))
    )
    await session.flush()
    view = await _view(session, user.id)
    await session.commit()
    return view, before


async def deactivate_user(
    *, session: AsyncSession, principal: Principal, user_id: uuid.UUID
) -> tuple[UserView, int]:
    """Deactivate the user and end their sessions at once; answers how many sessions ended."""
    account_id = await lock_account_and_recheck_actor(session, principal)
    user = await _target_user(session, account_id, user_id)
    ended = 0
    if user.status is not UserStatus.DEACTIVATED:
        if is_active_admin(user) and await other_active_admins(session, account_id, user.id) < 1:
            raise BadUserInput(LAST_ADMIN, field="userId")
        now = utcnow()
        user.status = UserStatus.DEACTIVATED
        user.deactivated_at = now
        session.add(user)
        result = await session.execute(
            sa.update(AuthSession)
            .where(col(AuthSession.user_id) == user.id, col(AuthSession.revoked_at).is_(None))
            .values(revoked_at=now, revoked_reason="user_deactivated")
        )
        ended = int(getattr(result, "rowcount", 0) or 0)
        await session.flush()
    view = await _view(session, user.id)
    await session.commit()
    return view, ended


async def reactivate_user(
    *, session: AsyncSession, principal: Principal, user_id: uuid.UUID
) -> UserView:
    account_id = _own_account(principal)
    user = await _target_user(session, account_id, user_id)
    if user.status is UserStatus.DEACTIVATED:
        # One who never set a password goes back to waiting for their invitation.
        user.status = UserStatus.ACTIVE if user.password_hash else UserStatus.INVITED
        user.deactivated_at = None
        session.add(user)
        # A contact deactivated with its login (``deactivateContact``) comes back with it.
        await session.execute(
            sa.update(Contact)
            .where(col(Contact.id) == user.contact_id, col(Contact.is_active).is_(False))
            .values(is_active=True)
            .execution_options(synchronize_session=False)
        )
        await session.flush()
    view = await _view(session, user.id)
    await session.commit()
    return view


async def list_subscriptions(
    *, session: AsyncSession, scope: AccountScope, contact_id: uuid.UUID
) -> list[SubscriptionView]:
    rows = await session.execute(
        sa.select(col(ReportSubscription.report_type_id), col(ReportSubscription.location_id))
        .where(
            col(ReportSubscription.contact_id) == contact_id,
            scope.filter(col(ReportSubscription.account_id)),
        )
        .order_by(col(ReportSubscription.report_type_id), col(ReportSubscription.location_id))
    )
    return [SubscriptionView(row.report_type_id, row.location_id) for row in rows]


async def set_report_subscriptions(
    *,
    session: AsyncSession,
    principal: Principal,
    contact_id: uuid.UUID,
    subscriptions: Sequence[SubscriptionView],
) -> tuple[Contact, list[SubscriptionView], list[SubscriptionView]]:
    """Replace the contact's (report type, location) pairs in one transaction; answers the
    contact, the pairs before and the pairs saved."""
    account_id = _own_account(principal)
    if len(subscriptions) > MAX_SUBSCRIPTIONS:
        raise BadUserInput(
            f"At most {MAX_SUBSCRIPTIONS} subscriptions per contact.", field="subscriptions"
        )
    contact = await session.scalar(
        sa.select(Contact)
        .where(col(Contact.id) == contact_id, col(Contact.account_id) == account_id)
        .with_for_update()
    )
    if contact is None:
        raise NotFound(UNKNOWN_CONTACT, field="contactId")
    wanted = list(dict.fromkeys(subscriptions))
    locations = set(
        (
            await session.scalars(
                sa.select(col(Location.id)).where(
                    col(Location.id).in_({s.location_id for s in wanted}),
                    col(Location.account_id) == account_id,
                )
            )
        ).all()
    )
    report_types = set(
        (
            await session.scalars(
                sa.select(col(ReportType.id)).where(
                    col(ReportType.id).in_({s.report_type_id for s in wanted})
                )
            )
        ).all()
    )
    for index, item in enumerate(subscriptions):
        if item.location_id not in locations:
            raise NotFound(
                "No location with this id in this account.",
                field=f"subscriptions.{index}.locationId",
            )
        if item.report_type_id not in report_types:
            raise NotFound(
                "No report type with this id.", field=f"subscriptions.{index}.reportTypeId"
            )
    own_scope = AccountScope(account_ids=frozenset({account_id}))
    before = await list_subscriptions(session=session, scope=own_scope, contact_id=contact.id)
    await session.execute(
        sa.delete(ReportSubscription).where(col(ReportSubscription.contact_id) == contact.id)
    )
    session.add_all(
        ReportSubscription(
            account_id=account_id,
            contact_id=contact.id,
            report_type_id=item.report_type_id,
            location_id=item.location_id,
        )
        for item in wanted
    )
    await session.flush()
    saved = await list_subscriptions(session=session, scope=own_scope, contact_id=contact.id)
    await session.commit()
    return contact, before, saved
