"""Accounts, their employer clients, locations, contacts and contact roles; tenant-scoped in SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import Account, Contact, Location, PortalUser
from portal.models.db import AccountScope
from portal.models.enums import Role, UserStatus
from portal.resolvers.loading import RowsById, in_key_order
from portal.resolvers.pagination import Page, PageRequest, SortKey, paginate


@dataclass(frozen=True, slots=True)
class ContactAccess:
    """A contact's portal login, as far as the account's own people may see it."""

    contact_id: uuid.UUID
    user_id: uuid.UUID
    role: Role
    status: UserStatus
    last_login_at: datetime | None


async def load_accounts(
    *, session: AsyncSession, scope: AccountScope, ids: Sequence[uuid.UUID]
) -> list[Account | None]:
    return await ACCOUNTS_BY_ID.scoped(scope).load(session, ids)


LOCATIONS_BY_ID = RowsById(
    Location,
    lambda ids, scope: [col(Location.id) == sa.any_(ids), scope.allows(col(Location.account_id))],
)
# An account is in scope by its own id.
ACCOUNTS_BY_ID = RowsById(
    Account, lambda ids, scope: [col(Account.id) == sa.any_(ids), scope.allows(col(Account.id))]
)


async def load_locations(
    *, session: AsyncSession, scope: AccountScope, ids: Sequence[uuid.UUID]
) -> list[Location | None]:
    return await LOCATIONS_BY_ID.scoped(scope).load(session, ids)


async def load_contacts(
    *, session: AsyncSession, scope: AccountScope, ids: Sequence[uuid.UUID]
) -> list[Contact | None]:
    rows = await session.scalars(
        sa.select(Contact).where(col(Contact.id).in_(ids), scope.filter(col(Contact.account_id)))
    )
    return in_key_order(ids, rows, lambda contact: contact.id)


async def load_contact_access(
    *, session: AsyncSession, scope: AccountScope, contact_ids: Sequence[uuid.UUID]
) -> list[ContactAccess | None]:
    rows = await session.execute(
        sa.select(
            col(PortalUser.contact_id),
            col(PortalUser.id),
            col(PortalUser.role),
            col(PortalUser.status),
            col(PortalUser.last_login_at),
        ).where(
            col(PortalUser.contact_id).in_(contact_ids), scope.filter(col(PortalUser.account_id))
        )
    )
    access = [
        ContactAccess(
            contact_id=row.contact_id,
            user_id=row.id,
            role=row.role,
            status=row.status,
            last_login_at=row.last_login_at,
        )
        for row in rows
    ]
    return in_key_order(contact_ids, access, lambda item: item.contact_id)


async def list_accounts(
    *, session: AsyncSession, scope: AccountScope, page: PageRequest, search: str | None = None
) -> Page[Account]:
    statement = sa.select(Account).where(scope.filter(col(Account.id)))
    if search:
        statement = statement.where(
            sa.or_(
                col(Account.name).ilike(f"%{escape_like(search)}%", escape="\\"),
                col(Account.account_number) == search.strip(),
            )
        )
    return await paginate(
        session=session,
        statement=statement,
        keys=[SortKey(col(Account.name)), SortKey(col(Account.id), python_type=uuid.UUID)],
        request=page,
        convert=lambda account: account,
    )


async def list_employer_clients(
    *, session: AsyncSession, scope: AccountScope, account_id: uuid.UUID, page: PageRequest
) -> Page[Account]:
    statement = sa.select(Account).where(
        col(Account.parent_account_id) == account_id, scope.filter(col(Account.id))
    )
    return await paginate(
        session=session,
        statement=statement,
        keys=[SortKey(col(Account.name)), SortKey(col(Account.id), python_type=uuid.UUID)],
        request=page,
        convert=lambda account: account,
    )


async def list_locations(
    *,
    session: AsyncSession,
    scope: AccountScope,
    account_id: uuid.UUID,
    page: PageRequest,
    state: str | None = None,
) -> Page[Location]:
    statement = sa.select(Location).where(
        col(Location.account_id) == account_id, scope.filter(col(Location.account_id))
    )
    if state:
        statement = statement.where(col(Location.state) == state.upper())
    return await paginate(
        session=session,
        statement=statement,
        keys=[SortKey(col(Location.name)), SortKey(col(Location.id), python_type=uuid.UUID)],
        request=page,
        convert=lambda location: location,
    )


async def list_contacts(
    *,
    session: AsyncSession,
    scope: AccountScope,
    account_id: uuid.UUID,
    page: PageRequest,
    include_inactive: bool = False,
) -> Page[Contact]:
    statement = sa.select(Contact).where(
        col(Contact.account_id) == account_id, scope.filter(col(Contact.account_id))
    )
    if not include_inactive:
        statement = statement.where(col(Contact.is_active).is_(True))
    return await paginate(
        session=session,
        statement=statement,
        keys=[
            SortKey(col(Contact.last_name)),
            SortKey(col(Contact.first_name)),
            SortKey(col(Contact.id), python_type=uuid.UUID),
        ],
        request=page,
        convert=lambda contact: contact,
    )


def escape_like(text: str) -> str:
    """``text`` for use inside a LIKE pattern: its wildcards match literally."""
    return text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
