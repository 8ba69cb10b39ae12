"""The idempotency mechanism on the real PostgreSQL: replay, reuse with another input, rollback,
expiry, per-principal keys, and two concurrent calls on separate connections."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
import strawberry
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlmodel import col

from portal.auth.principal import Principal, PrincipalKind
from portal.mail.worker import purge_idempotency_keys
from portal.models import IdempotencyKey
from portal.models.db import create_sessionmaker, scoped_session
from portal.models.enums import Role
from portal.resolvers.errors import BadUserInput, ErrorCode
from portal.resolvers.idempotency import (
    Claim,
    Replay,
    claim_key,
    fingerprint,
    purge_expired_keys,
    record_result,
)
from tests.support.world import World


@dataclass
class Input:
    name: str
    count: int | None = None
    idempotency_key: str | None = None


def admin(world: World) -> Principal:
    return Principal(
        kind=PrincipalKind.USER,
        id=world.acme_admin.id,
        account_id=world.acme.id,
        account_ids=frozenset({world.acme.id}),
        user_role=Role.USER_ADMIN,
    )


async def keys_of(db: AsyncSession, principal: Principal) -> int:
    count = await db.scalar(
        sa.select(sa.func.count())
        .select_from(IdempotencyKey)
        .where(col(IdempotencyKey.principal_id) == principal.id)
    )
    return int(count or 0)


async def test_a_retry_with_the_same_input_answers_the_first_result(
    db: AsyncSession, world: World
) -> None:
    # Given a key claimed and its result recorded
    principal = admin(world)
    first = await claim_key(
        session=db,
        principal=principal,
        operation="createThing",
        key="k-1",
        request=Input("a", idempotency_key="k-1"),
    )
    assert isinstance(first, Claim)
    await record_result(session=db, claim=first, result={"thingId": "T1"})
    await db.commit()
    # When the same call comes again (null and missing fields alike)
    again = await claim_key(
        session=db,
        principal=principal,
        operation="createThing",
        key="k-1",
        request={"name": "a", "count": None},
    )
    # Then it is a replay of the first answer, and no second key row exists
    assert again == Replay(result={"thingId": "T1"})
    assert await keys_of(db, principal) == 1


async def test_the_same_key_with_another_input_is_refused(db: AsyncSession, world: World) -> None:
    # Given a key used once
    principal = admin(world)
    first = await claim_key(
        session=db, principal=principal, operation="createThing", key="k-2", request=Input("a")
    )
    assert isinstance(first, Claim)
    await record_result(session=db, claim=first, result={"thingId": "T1"})
    await db.commit()
    # When it is used with a different input
    with pytest.raises(BadUserInput) as refused:
        await claim_key(
            session=db, principal=principal, operation="createThing", key="k-2", request=Input("b")
        )
    # Then IDEMPOTENCY_KEY_REUSED names the key field
    assert refused.value.code is ErrorCode.IDEMPOTENCY_KEY_REUSED
    assert refused.value.field == "idempotencyKey"


async def test_a_rolled_back_claim_leaves_the_key_free(db: AsyncSession, world: World) -> None:
    # Given a claim whose work failed and was rolled back
    principal = admin(world)
    first = await claim_key(
        session=db, principal=principal, operation="createThing", key="k-3", request=Input("a")
    )
    assert isinstance(first, Claim)
    await db.rollback()
    # When the corrected input comes with the same key
    again = await claim_key(
        session=db, principal=principal, operation="createThing", key="k-3", request=Input("b")
    )
    # Then it is claimed as new
    assert isinstance(again, Claim)


async def test_keys_belong_to_one_principal_and_one_operation(
    db: AsyncSession, world: World
) -> None:
    principal = admin(world)
    other = Principal(
        kind=PrincipalKind.USER,
        id=world.acme_basic.id,
        account_id=world.acme.id,
        account_ids=frozenset({world.acme.id}),
        user_role=Role.BASIC,
    )
    first = await claim_key(
        session=db, principal=principal, operation="createThing", key="k-4", request=Input("a")
    )
    assert isinstance(first, Claim)
    await record_result(session=db, claim=first, result={"thingId": "T1"})
    # When another person, or another operation, uses the same key with another input
    by_other = await claim_key(
        session=db, principal=other, operation="createThing", key="k-4", request=Input("b")
    )
    other_operation = await claim_key(
        session=db, principal=principal, operation="sendThing", key="k-4", request=Input("b")
    )
    # Then each is a fresh claim
    assert isinstance(by_other, Claim)
    assert isinstance(other_operation, Claim)


async def test_an_expired_key_is_taken_over_and_purged(db: AsyncSession, world: World) -> None:
    # Given a key whose 24 hours are over
    principal = admin(world)
    first = await claim_key(
        session=db, principal=principal, operation="createThing", key="k-5", request=Input("a")
    )
    assert isinstance(first, Claim)
    await record_result(session=db, claim=first, result={"thingId": "T1"})
    await db.execute(
        sa.update(IdempotencyKey)
        .where(col(IdempotencyKey.id) == first.id)
        .values(
            created_at=sa.func.now() - timedelta(hours=25),
            expires_at=sa.func.now() - timedelta(hours=1),
        )
    )
    # When the key comes again with another input
    again = await claim_key(
        session=db, principal=principal, operation="createThing", key="k-5", request=Input("b")
    )
    # Then it is claimed as new
    assert isinstance(again, Claim)
    assert await keys_of(db, principal) == 1
    # And an expired key is purged
    await db.execute(
        sa.update(IdempotencyKey)
        .where(col(IdempotencyKey.principal_id) == principal.id)
        .values(
            created_at=sa.func.now() - timedelta(hours=25),
            expires_at=sa.func.now() - timedelta(hours=1),
        )
    )
    assert await purge_expired_keys(session=db) >= 1
    assert await keys_of(db, principal) == 0


@pytest.mark.parametrize(
    "key", ["", "x" * 201, "has space", "naïve"], ids=["empty", "long", "space", "non-ascii"]
)
async def test_a_malformed_key_is_bad_input(db: AsyncSession, world: World, key: str) -> None:
    with pytest.raises(BadUserInput) as refused:
        await claim_key(
            session=db, principal=admin(world), operation="createThing", key=key, request={}
        )
    assert refused.value.field == "idempotencyKey"
    assert refused.value.code is ErrorCode.BAD_USER_INPUT


def test_the_fingerprint_ignores_the_key_and_unset_arguments() -> None:
    @strawberry.input
    class Given:
        name: str
        note: str | None = strawberry.UNSET
        idempotency_key: str | None = None

    assert fingerprint(Given(name="a", idempotency_key="one")) == fingerprint(
        Given(name="a", note=None, idempotency_key="two")
    )
    assert fingerprint(Given(name="a")) != fingerprint(Given(name="b"))


@pytest.fixture
async def committed_cleanup(engine: AsyncEngine, world: World) -> AsyncIterator[str]:
    """A unique key for a test whose transactions commit on their own connections."""
    key = "race-" + uuid.uuid4().hex
    yield key
    async with scoped_session(create_sessionmaker(engine), admin(world).scope) as session:
        await session.execute(sa.delete(IdempotencyKey).where(col(IdempotencyKey.key) == key))
        await session.commit()


async def test_two_concurrent_calls_with_one_key_never_both_write(
    engine: AsyncEngine, world: World, committed_cleanup: str
) -> None:
    principal = admin(world)
    sessionmaker = create_sessionmaker(engine)
    work_done: list[str] = []
    first_claimed = asyncio.Event()

    async def call(name: str, *, wait_first: bool) -> Claim | Replay:
        if wait_first:
            await first_claimed.wait()
        async with scoped_session(sessionmaker, principal.scope) as session:
            outcome = await claim_key(
                session=session,
                principal=principal,
                operation="createThing",
                key=committed_cleanup,
                request=Input("same"),
            )
            if not wait_first:
                first_claimed.set()
                # The first call holds its claim a while, as a slow mutation would.
                await asyncio.sleep(0.5)
            if isinstance(outcome, Claim):
                work_done.append(name)
                await record_result(session=session, claim=outcome, result={"by": name})
                await session.commit()
            return outcome

    # When two calls with one key run at once on separate connections
    outcomes = await asyncio.gather(
        call("first", wait_first=False), call("second", wait_first=True)
    )
    # Then only the first did the work; the second waited for it and answered its result
    assert work_done == ["first"]
    assert isinstance(outcomes[0], Claim)
    assert outcomes[1] == Replay(result={"by": "first"})


async def test_a_concurrent_call_runs_when_the_first_rolls_back(
    engine: AsyncEngine, world: World, committed_cleanup: str
) -> None:
    principal = admin(world)
    sessionmaker = create_sessionmaker(engine)
    first_claimed = asyncio.Event()

    async def failing_first() -> Claim | Replay:
        async with scoped_session(sessionmaker, principal.scope) as session:
            outcome = await claim_key(
                session=session,
                principal=principal,
                operation="createThing",
                key=committed_cleanup,
                request=Input("bad"),
            )
            first_claimed.set()
            await asyncio.sleep(0.3)
            await session.rollback()  # a user error: nothing written, the claim goes too
            return outcome

    async def second() -> Claim | Replay:
        await first_claimed.wait()
        async with scoped_session(sessionmaker, principal.scope) as session:
            outcome = await claim_key(
                session=session,
                principal=principal,
                operation="createThing",
                key=committed_cleanup,
                request=Input("good"),
            )
            if isinstance(outcome, Claim):
                await record_result(session=session, claim=outcome, result={"by": "second"})
                await session.commit()
            return outcome

    outcomes = await asyncio.gather(failing_first(), second())
    assert isinstance(outcomes[0], Claim)
    assert isinstance(outcomes[1], Claim)


async def test_the_worker_purges_expired_keys(
    db: AsyncSession, sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    # Given one expired and one live key
    principal = admin(world)
    for key, hours in (("old", -1), ("live", 5)):
        claimed = await claim_key(
            session=db, principal=principal, operation="createThing", key=key, request={}
        )
        assert isinstance(claimed, Claim)
        await record_result(session=db, claim=claimed, result={})
        await db.execute(
            sa.update(IdempotencyKey)
            .where(col(IdempotencyKey.id) == claimed.id)
            .values(
                created_at=sa.func.now() - timedelta(hours=30),
                expires_at=sa.func.now() + timedelta(hours=hours),
            )
        )
    await db.commit()
    # When the worker's housekeeping runs
    purged = await purge_idempotency_keys(sessionmaker)
    # Then only the expired key is gone
    assert purged == 1
    remaining = await db.scalars(
        sa.select(col(IdempotencyKey.key)).where(col(IdempotencyKey.principal_id) == principal.id)
    )
    assert list(remaining) == ["live"]
