"""Which account a change applies to, and the audit shape of a change.

A User Admin changes only their own account (a third-party administrator's admin too: each
employer manages its own information); an account id they send for another account answers
NOT_FOUND, like an unknown one. Staff name the account (any account)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal
from portal.models import Account
from portal.resolvers.errors import BadUserInput, NotFound

UNKNOWN_ACCOUNT = "No account with this id."


def target_account_id(
    principal: Principal, account_id: uuid.UUID | None, *, field: str = "accountId"
) -> uuid.UUID:
    if principal.is_staff:
        if account_id is None:
            raise BadUserInput("Staff name the account: give `accountId`.", field=field)
        return account_id
    own = principal.account_id
    if own is None or (account_id is not None and account_id != own):
        raise NotFound(UNKNOWN_ACCOUNT, field=field)
    return own


async def lock_account(
    session: AsyncSession, account_id: uuid.UUID, *, field: str = "accountId"
) -> Account:
    """The account row, locked until the transaction ends (one change of an account at a time)."""
    account = await session.scalar(
        sa.select(Account).where(col(Account.id) == account_id).with_for_update()
    )
    if account is None:
        raise NotFound(UNKNOWN_ACCOUNT, field=field)
    return account


def changed(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the keys whose value changed, before and after (for the audit trail)."""
    keys = [key for key in after if before.get(key) != after[key]]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


def jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
