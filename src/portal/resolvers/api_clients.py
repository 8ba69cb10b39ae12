"""API clients of an account (OAuth2 client credentials): created by a User Admin with scopes no
wider than the admin's own access, the secret shown once and stored as an argon2id hash (what
``portal.auth.oauth`` verifies), revoked at once (``portal.auth.resolve`` re-reads the client on
every request)."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.passwords import hash_password
from portal.auth.principal import Principal, PrincipalKind
from portal.auth.scopes import EMPLOYER_SCOPES
from portal.models import ApiClient
from portal.models.base import utcnow
from portal.models.db import AccountScope
from portal.models.enums import Permission, Role
from portal.resolvers.display_text import check_display_text
from portal.resolvers.errors import BadUserInput, Forbidden, NotFound
from portal.resolvers.pagination import Page, PageRequest, SortKey, paginate

MAX_NAME_LENGTH = 120
UNKNOWN_CLIENT = "No API client with this id."
# Persisted operations: the most documents one client may be limited to.
MAX_ALLOWED_OPERATIONS = 500
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class CreatedClient:
    row: ApiClient
    client_secret: str


def delegable_scopes(principal: Principal) -> frozenset[str]:
    """The scopes a person may hand to an API client: never more than they may do themselves
    (docs/design-decisions.md, "Who may do what"). A Basic user sees only their own
    authorizations and the documents of their subscriptions, so the account-wide scopes are not
    theirs to give."""
    if principal.kind is not PrincipalKind.USER:
        return frozenset()
    allowed = {"account:read"}
    if principal.user_role is Role.USER_ADMIN:
        allowed |= {
            "authorizations:read",
            "authorizations:write",
            "documents:read",
            "webhooks:manage",
        }
    if principal.has_permission(Permission.VIEW_VISIT_ACTIVITY):
        allowed.add("visits:read")
    return frozenset(allowed) & EMPLOYER_SCOPES


async def create_client(
    *, session: AsyncSession, principal: Principal, name: str, scopes: Sequence[str]
) -> CreatedClient:
    if principal.account_id is None:
        raise Forbidden("Only a User Admin of an account creates its API clients.")
    clean_name = name.strip()
    if not clean_name or len(clean_name) > MAX_NAME_LENGTH:
        raise BadUserInput(f"Give a name of 1 to {MAX_NAME_LENGTH} characters.", field="name")
    check_display_text(clean_name, field="name", what="A name")
    wanted = frozenset(scope.strip() for scope in scopes)
    if not wanted:
        raise BadUserInput("Give at least one scope.", field="scopes")
    unknown = sorted(wanted - EMPLOYER_SCOPES)
    if unknown:
        raise BadUserInput(
            f"Unknown scope(s): {', '.join(unknown)}. Known: {', '.join(sorted(EMPLOYER_SCOPES))}.",
            field="scopes",
        )
    beyond = sorted(wanted - delegable_scopes(principal))
    if beyond:
        raise Forbidden(
            f"You may not grant scope(s) wider than your own access: {', '.join(beyond)}.",
            field="scopes",
        )
    secret = secrets.token_urlsafe(32)
    row = ApiClient(
        account_id=principal.account_id,
        client_id="ehp-" + secrets.token_hex(12),
        secret_hash=hash_password(secret),
        name=clean_name,
        scopes=sorted(wanted),
        created_by_user_id=principal.id,
    )
    session.add(row)
    await session.commit()
    return CreatedClient(row=row, client_secret=secret)


async def revoke_client(
    *, session: AsyncSession, principal: Principal, client_id: uuid.UUID
) -> ApiClient:
    row = await session.scalar(
        sa.select(ApiClient)
        .where(col(ApiClient.id) == client_id, col(ApiClient.account_id) == principal.account_id)
        .with_for_update()
    )
    if row is None:
        raise NotFound(UNKNOWN_CLIENT, field="id")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
    await session.commit()
    return row


def operation_hashes(hashes: Sequence[str]) -> list[str]:
    """Lowercase hex SHA-256 hashes, each once, in the order given; refused when malformed."""
    clean: list[str] = []
    for index, given in enumerate(hashes):
        value = given.strip().lower()
        if not _SHA256_HEX.fullmatch(value):
            raise BadUserInput(
                "Each operation is the lowercase hex SHA-256 of its exact query text "
                "(64 characters).",
                field=f"operationHashes.{index}",
            )
        if value not in clean:
            clean.append(value)
    if len(clean) > MAX_ALLOWED_OPERATIONS:
        raise BadUserInput(
            f"A client may be limited to at most {MAX_ALLOWED_OPERATIONS} operations.",
            field="operationHashes",
        )
    return clean


async def set_allowed_operations(
    *,
    session: AsyncSession,
    principal: Principal,
    client_id: uuid.UUID,
    hashes: Sequence[str],
) -> ApiClient:
    """Limit a client to the listed operations (none listed: it may run any operation)."""
    allowed = operation_hashes(hashes)
    row = await session.scalar(
        sa.select(ApiClient)
        .where(col(ApiClient.id) == client_id, col(ApiClient.account_id) == principal.account_id)
        .with_for_update()
    )
    if row is None:
        raise NotFound(UNKNOWN_CLIENT, field="id")
    row.allowed_operations = allowed
    session.add(row)
    await session.commit()
    return row


async def load_clients(
    *, session: AsyncSession, scope: AccountScope, ids: Sequence[uuid.UUID]
) -> list[ApiClient | None]:
    rows = await session.scalars(
        sa.select(ApiClient).where(
            col(ApiClient.id).in_(ids), scope.filter(col(ApiClient.account_id))
        )
    )
    by_id = {row.id: row for row in rows}
    return [by_id.get(i) for i in ids]


async def list_clients(
    *,
    session: AsyncSession,
    scope: AccountScope,
    account_id: uuid.UUID,
    page: PageRequest,
    include_revoked: bool = False,
) -> Page[ApiClient]:
    statement = sa.select(ApiClient).where(
        col(ApiClient.account_id) == account_id, scope.filter(col(ApiClient.account_id))
    )
    if not include_revoked:
        statement = statement.where(col(ApiClient.revoked_at).is_(None))
    return await paginate(
        session=session,
        statement=statement,
        keys=[SortKey(col(ApiClient.name)), SortKey(col(ApiClient.id), python_type=uuid.UUID)],
        request=page,
        convert=lambda row: row,
    )
