"""Hardening 6, enumeration and targeted lockout: a locked account answers a sign-in exactly like
an unknown email, and wrong guesses lock a person only for the address they come from, with a
slower lockout across all addresses so a guess spread over many addresses is still stopped."""

from __future__ import annotations

import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col
from starlette.applications import Starlette

from portal.models import AuditEvent, LoginLockout, PortalUser
from portal.settings import Settings
from tests.auth.test_login import GENERIC, login
from tests.support.graphql import GraphQLClient
from tests.support.world import PASSWORD, World

VICTIM = "basic@acme.example"
From = Callable[[str], Awaitable[GraphQLClient]]


@pytest.fixture
async def client_from(
    app: Starlette, sessionmaker: async_sessionmaker[AsyncSession]
) -> AsyncIterator[From]:
    """Anonymous clients connecting from the given IP addresses."""
    app.state.graphql.sessionmaker = sessionmaker
    opened: list[httpx.AsyncClient] = []

    async def open_from(ip: str) -> GraphQLClient:
        transport = httpx.ASGITransport(app=app, client=(ip, 40000))
        http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        opened.append(http)
        return GraphQLClient(http)

    yield open_from
    for http in opened:
        await http.aclose()


async def lock_out(client: GraphQLClient, settings: Settings) -> None:
    for n in range(settings.login_lockout_threshold):
        assert (await login(client, VICTIM, f"wrong guess {n}"))["userErrors"] == [GENERIC]


async def test_a_locked_account_answers_like_an_unknown_email(
    client_from: From, settings: Settings, db: AsyncSession
) -> None:
    # Given a real account locked by wrong guesses from this address
    here = await client_from("198.51.100.1")
    await lock_out(here, settings)

    # When the right password, a wrong one, and an unknown email are tried from there
    right = await login(here, VICTIM, PASSWORD)
    wrong = await login(here, VICTIM, "yet another guess")
    unknown = await login(here, "nobody-at-all@acme.example", PASSWORD)

    # Then all three answer exactly alike: nothing tells that the email has an account
    for result in (right, wrong, unknown):
        assert result["accessToken"] is None
        assert result["userErrors"] == [GENERIC]
    # But the audit trail tells the account's admins that the two attempts met a lockout
    locked = await db.scalars(
        sa.select(col(AuditEvent.actor_label)).where(col(AuditEvent.action) == "login.locked")
    )
    assert list(locked) == [VICTIM, VICTIM]


async def test_a_locked_account_takes_as_long_as_an_unknown_email(
    client_from: From, settings: Settings
) -> None:
    # Given a real account locked for this address
    here = await client_from("198.51.100.2")
    await lock_out(here, settings)

    async def seconds(email: str) -> float:
        started = time.perf_counter()
        await login(here, email, "a guess of the password")
        return time.perf_counter() - started

    # When both are timed, turn about (so a change of load on the machine hits both alike)
    locked_times, unknown_times = [], []
    for _ in range(6):
        locked_times.append(await seconds(VICTIM))
        unknown_times.append(await seconds("nobody-at-all@acme.example"))
    locked = statistics.median(locked_times)
    unknown = statistics.median(unknown_times)

    # Then they take about as long (both verify a password hash)
    assert abs(locked - unknown) < max(locked, unknown) * 0.5 + 0.02, (locked, unknown)


async def test_a_stranger_cannot_lock_someone_out(
    client_from: From, settings: Settings, db: AsyncSession, world: World
) -> None:
    # Given a stranger who locked the victim's account from their own address
    stranger = await client_from("203.0.113.50")
    await lock_out(stranger, settings)
    assert (await login(stranger, VICTIM, PASSWORD))["accessToken"] is None

    # When the victim signs in from their own address
    victim = await client_from("198.51.100.20")
    result = await login(victim, VICTIM, PASSWORD)

    # Then they get in, and the stranger's address stays locked out of that account
    assert result["userErrors"] == []
    assert result["accessToken"]
    assert (await login(stranger, VICTIM, PASSWORD))["accessToken"] is None
    user = await db.get(PortalUser, world.acme_basic.id, populate_existing=True)
    assert user is not None
    assert user.locked_until is None


async def test_a_guess_spread_over_many_addresses_is_still_stopped(
    client_from: From,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    db: AsyncSession,
    world: World,
) -> None:
    # Given a backstop of 3 per-address thresholds across all addresses
    monkeypatch.setattr(
        settings, "login_global_lockout_threshold", 3 * settings.login_lockout_threshold
    )
    # When three addresses each guess as often as their own lockout allows
    for n in range(3):
        await lock_out(await client_from(f"203.0.113.{60 + n}"), settings)

    # Then the account is locked everywhere, even for its owner's fresh address
    fresh = await login(await client_from("198.51.100.30"), VICTIM, PASSWORD)
    assert fresh["accessToken"] is None
    assert fresh["userErrors"] == [GENERIC]
    user = await db.get(PortalUser, world.acme_basic.id, populate_existing=True)
    assert user is not None
    assert user.failed_login_count == 3 * settings.login_lockout_threshold


async def test_an_address_quiet_for_a_day_is_forgotten(
    client_from: From, settings: Settings, db: AsyncSession, world: World
) -> None:
    # Given wrong guesses from two addresses a day and more ago (one of them still locked)
    for ip in ("203.0.113.70", "203.0.113.71"):
        for n in range(2):
            await login(await client_from(ip), VICTIM, f"old guess {n}")
    await db.execute(
        sa.update(LoginLockout)
        .where(col(LoginLockout.subject_id) == world.acme_basic.id)
        .values(updated_at=datetime.now(UTC) - timedelta(days=2))
    )
    await db.execute(
        sa.update(LoginLockout)
        .where(col(LoginLockout.ip) == "203.0.113.71")
        .values(locked_until=datetime.now(UTC) + timedelta(hours=1))
    )
    await db.commit()

    # When a new wrong guess comes from the first address
    await login(await client_from("203.0.113.70"), VICTIM, "new guess")

    # Then its count starts again, and the locked address is kept
    rows = await db.execute(
        sa.select(col(LoginLockout.ip), col(LoginLockout.failure_count)).where(
            col(LoginLockout.subject_id) == world.acme_basic.id
        )
    )
    counts = {str(row[0]): int(row[1]) for row in rows}
    assert counts == {"203.0.113.70": 1, "203.0.113.71": 2}
