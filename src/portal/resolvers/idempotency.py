"""Idempotent mutations: a retry with the same ``idempotencyKey`` answers the first result and
writes nothing; the same key with a different input is ``IDEMPOTENCY_KEY_REUSED``.

A key belongs to one principal (user, API client, staff member) and one operation
(``"createAuthorization"``, ...), and lives for ``IDEMPOTENCY_TTL`` (24 hours) after its first
use; after that the key may be used again as if new. What is kept is the SHA-256 of the
canonical JSON of the input (the key itself left out) and the first answer as the caller chose
to describe it: ids and counts only, never PHI (a replay re-reads the objects through the
caller's own visibility rules, so it shows their current state).

Use, inside the mutation's one transaction::

    outcome = await claim_key(
        session=session, principal=principal, operation="createThing", key=key, request=input
    )
    if isinstance(outcome, Replay):
        return outcome.result                      # the first answer; nothing is written
    ...                                            # validate and write
    await record_result(session=session, claim=outcome, result={"thingId": str(thing.id)})
    await session.commit()                         # the key and the change commit together

On a user error after the claim, roll the transaction back: the claim goes with the rest, so a
corrected retry with the same key is treated as new (only successful answers are kept).

Concurrency: the claim is an ``INSERT ... ON CONFLICT`` on the unique (principal, operation,
key) index. A second call with the same key blocks on that index entry until the first call's
transaction ends: if it committed, the second call reads the stored answer (READ COMMITTED: the
next statement sees it); if it rolled back, the second call claims the key and runs. Two calls
with one key can therefore never both write.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal
from portal.models.idempotency import IdempotencyKey
from portal.resolvers.errors import BadUserInput, ErrorCode

IDEMPOTENCY_TTL = timedelta(hours=24)
MAX_KEY_LENGTH = 200
KEY_FIELD = "idempotencyKey"
# The input attribute holding the key, left out of the fingerprint.
KEY_ATTRIBUTE = "idempotency_key"


@dataclass(frozen=True, slots=True)
class Claim:
    """This call owns the key: do the work, then ``record_result`` before committing."""

    id: uuid.UUID
    operation: str


@dataclass(frozen=True, slots=True)
class Replay:
    """The key was used before with the same input: answer ``result`` and write nothing."""

    result: dict[str, Any]


def principal_kind(principal: Principal) -> str:
    """How a key's owner is named (the provider's own systems apart from employer clients)."""
    return "PROVIDER" if principal.provider_system else principal.kind.value


def check_key(key: str, *, field: str = KEY_FIELD) -> str:
    """A key is 1 to 200 visible ASCII characters (a UUID is a good choice)."""
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        raise BadUserInput(f"`{field}` must be 1 to {MAX_KEY_LENGTH} characters long.", field=field)
    if not all("!" <= character <= "~" for character in key):
        raise BadUserInput(
            f"`{field}` may hold only visible ASCII characters (no spaces).", field=field
        )
    return key


def _plain(value: Any, exclude: frozenset[str]) -> Any:
    """``value`` as plain JSON data, the same for equal inputs whatever their Python types."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, enum.Enum):
        return _plain(value.value, frozenset())
    if isinstance(value, (uuid.UUID, Decimal)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        items: Iterable[tuple[str, Any]] = (
            (field.name, getattr(value, field.name)) for field in dataclasses.fields(value)
        )
        return _mapping(items, exclude)
    if isinstance(value, Mapping):
        return _mapping(((str(k), v) for k, v in value.items()), exclude)
    if isinstance(value, (list, tuple)):
        return [_plain(item, frozenset()) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((_plain(item, frozenset()) for item in value), key=orjson.dumps)
    if type(value).__name__ == "UnsetType":  # strawberry.UNSET: an argument not given
        return None
    raise TypeError(f"cannot fingerprint a {type(value).__name__}")


def _mapping(items: Iterable[tuple[str, Any]], exclude: frozenset[str]) -> dict[str, Any]:
    # An argument not given and one given as null ask for the same thing.
    plain = {name: _plain(item, frozenset()) for name, item in items if name not in exclude}
    return {name: item for name, item in plain.items() if item is not None}


def fingerprint(request: Any, *, exclude: Iterable[str] = (KEY_ATTRIBUTE,)) -> str:
    """SHA-256 (hex) of the canonical JSON of ``request`` (a dataclass such as a Strawberry
    input, a mapping, or plain values), top-level names in ``exclude`` left out."""
    plain = _plain(request, frozenset(exclude))
    return hashlib.sha256(orjson.dumps(plain, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _same_key(principal: Principal, operation: str, key: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        col(IdempotencyKey.principal_kind) == principal_kind(principal),
        col(IdempotencyKey.principal_id) == principal.id,
        col(IdempotencyKey.operation) == operation,
        col(IdempotencyKey.key) == key,
    )


async def claim_key(
    *,
    session: AsyncSession,
    principal: Principal,
    operation: str,
    key: str,
    request: Any,
    exclude: Iterable[str] = (KEY_ATTRIBUTE,),
    ttl: timedelta = IDEMPOTENCY_TTL,
) -> Claim | Replay:
    """Claim ``key`` for this call, or answer the first result of an earlier call with it.

    Raises ``BadUserInput`` (``IDEMPOTENCY_KEY_REUSED``) when the key was used with another
    input, and for a malformed key. Must run inside the transaction that does the work."""
    if principal.id is None:
        raise ValueError("idempotency keys belong to a signed-in principal")
    check_key(key)
    request_hash = fingerprint(request, exclude=exclude)
    table = IdempotencyKey.__table__  # type: ignore[attr-defined]
    statement = pg_insert(table).values(
        id=uuid.uuid4(),
        account_id=principal.account_id,
        principal_kind=principal_kind(principal),
        principal_id=principal.id,
        operation=operation,
        key=key,
        request_hash=request_hash,
        result=None,
        created_at=sa.func.now(),
        expires_at=sa.func.now() + ttl,
    )
    # An expired key is taken over as if new; a live one is left alone (and nothing returned).
    upsert = statement.on_conflict_do_update(
        constraint="uq_idempotency_keys_principal_operation_key",
        set_={
            "id": statement.excluded.id,
            "account_id": statement.excluded.account_id,
            "request_hash": statement.excluded.request_hash,
            "result": None,
            "created_at": statement.excluded.created_at,
            "expires_at": statement.excluded.expires_at,
        },
        where=table.c.expires_at <= sa.func.now(),
    ).returning(table.c.id)
    claimed = await session.scalar(upsert)
    if claimed is not None:
        return Claim(id=claimed, operation=operation)
    row = (
        await session.execute(
            sa.select(col(IdempotencyKey.request_hash), col(IdempotencyKey.result)).where(
                _same_key(principal, operation, key)
            )
        )
    ).one()
    if row.request_hash != request_hash:
        raise BadUserInput(
            "This idempotency key was already used with a different input: use a new key for a "
            "new request.",
            code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
            field=KEY_FIELD,
        )
    if row.result is None:
        raise RuntimeError(f"{operation} committed an idempotency key without its result")
    return Replay(result=dict(row.result))


async def record_result(*, session: AsyncSession, claim: Claim, result: Mapping[str, Any]) -> None:
    """Keep the first answer (ids and counts, no PHI); commit it with the work."""
    await session.execute(
        sa.update(IdempotencyKey)
        .where(col(IdempotencyKey.id) == claim.id)
        .values(result=_plain(dict(result), frozenset()))
        .execution_options(synchronize_session=False)
    )


async def purge_expired_keys(*, session: AsyncSession, limit: int = 10_000) -> int:
    """Delete up to ``limit`` keys past their 24 hours (system scope); answers how many."""
    doomed = (
        sa.select(col(IdempotencyKey.id))
        .where(col(IdempotencyKey.expires_at) <= sa.func.now())
        .limit(limit)
        .scalar_subquery()
    )
    result = await session.execute(
        sa.delete(IdempotencyKey)
        .where(col(IdempotencyKey.id).in_(doomed))
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
