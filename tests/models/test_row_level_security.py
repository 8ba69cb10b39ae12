"""The second tenant wall: PostgreSQL itself hides other tenants' rows from unfiltered SQL."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.models import metadata
from portal.models.db import AccountScope, set_scope
from tests.support.world import World

# Every table whose rows belong to one account (a required account_id), and the column naming it.
TENANT_TABLES = {
    name: "account_id"
    for name, table in metadata.tables.items()
    if "account_id" in table.c and not table.c["account_id"].nullable
} | {"accounts": "id"}


async def _count(session: AsyncSession, table: str) -> int:
    return int(await session.scalar(sa.text(f"SELECT count(*) FROM {table}")) or 0)  # noqa: S608


async def test_the_app_role_is_bound_by_row_level_security(db: AsyncSession) -> None:
    row = (
        await db.execute(
            sa.text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        )
    ).one()
    assert (row.rolsuper, row.rolbypassrls) == (False, False)


async def test_every_tenant_table_forces_row_level_security(db: AsyncSession) -> None:
    rows = await db.execute(
        sa.text(
            "SELECT relname FROM pg_class WHERE relrowsecurity AND relforcerowsecurity "
            "AND relnamespace = 'public'::regnamespace"
        )
    )
    assert set(TENANT_TABLES) <= {row.relname for row in rows}


async def test_an_unfiltered_query_as_globex_sees_no_acme_rows(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    # given Acme has contacts, locations and users
    async with sessionmaker() as session:
        set_scope(session, AccountScope.everything())
        assert await session.scalar(
            sa.text("SELECT count(*) FROM contacts WHERE account_id = :a"), {"a": world.acme.id}
        )
    # when a Globex-scoped transaction selects from tenant tables with no WHERE at all
    async with sessionmaker() as session:
        set_scope(session, AccountScope(account_ids=frozenset({world.globex.id})))
        for table, column in TENANT_TABLES.items():
            accounts = await session.scalars(
                sa.text(f"SELECT DISTINCT {column} FROM {table}")  # noqa: S608
            )
            # then only Globex's rows come back
            assert set(accounts) <= {world.globex.id}, table
        assert await _count(session, "locations") == 1


async def test_a_transaction_with_no_scope_sees_nothing(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    async with sessionmaker() as session:
        for table in ("accounts", "contacts", "portal_users", "locations"):
            assert await _count(session, table) == 0


async def test_a_tenant_cannot_write_rows_into_another_account(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    async with sessionmaker() as session:
        set_scope(session, AccountScope(account_ids=frozenset({world.globex.id})))
        with pytest.raises(ProgrammingError, match="row-level security"):
            await session.execute(
                sa.text(
                    "INSERT INTO employees (account_id, location_id, first_name, last_name, "
                    "date_of_birth, employee_number) VALUES (:a, :l, 'X', 'Y', :d, :n)"
                ),
                {
                    "a": world.acme.id,
                    "l": world.acme_dallas.id,
                    "d": date(1990, 1, 1),
                    "n": "RLS-1",
                },
            )


async def test_the_audit_trail_is_append_only(db: AsyncSession, world: World) -> None:
    await db.execute(
        sa.text(
            "INSERT INTO audit_events (actor_type, account_id, action, result) "
            "VALUES ('SYSTEM', :a, 'test.event', 'ALLOWED')"
        ),
        {"a": world.acme.id},
    )
    for statement in ("UPDATE audit_events SET action = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with db.begin_nested():
                await db.execute(sa.text(statement))


async def test_anyone_may_append_audit_events_but_reads_are_scoped(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    marker = f"test.{uuid.uuid4().hex[:8]}"
    async with sessionmaker() as session:
        # an anonymous failure (no scope, no account) is still recorded
        await session.execute(
            sa.text(
                "INSERT INTO audit_events (actor_type, action, result) "
                "VALUES ('ANONYMOUS', :m, 'DENIED')"
            ),
            {"m": marker},
        )
        await session.commit()
        assert (
            await session.scalar(
                sa.text("SELECT count(*) FROM audit_events WHERE action = :m"), {"m": marker}
            )
            == 0
        )
    async with sessionmaker() as session:
        set_scope(session, AccountScope.everything())
        assert (
            await session.scalar(
                sa.text("SELECT count(*) FROM audit_events WHERE action = :m"), {"m": marker}
            )
            == 1
        )


async def test_every_tenant_policy_reads_the_scope_once_per_query(db: AsyncSession) -> None:
    # Given every row-level security policy of the schema
    rows = (
        await db.execute(
            sa.text(
                "SELECT tablename, policyname, coalesce(qual, '') || ' ' || "
                "coalesce(with_check, '') AS expression FROM pg_policies "
                "WHERE schemaname = current_schema()"
            )
        )
    ).all()

    # Then none evaluates the per-row scope function, and every tenant table's policy reads the
    # scope through init-plans (evaluated once per query, so the planner can use its indexes)
    assert not [row for row in rows if "portal_scope_allows" in row.expression]
    init_plan_tables = {
        row.tablename for row in rows if "SELECT portal_scope_ids()" in row.expression
    }
    assert set(TENANT_TABLES) <= init_plan_tables


async def test_the_init_plan_policy_admits_exactly_the_scope(
    sessionmaker: async_sessionmaker[AsyncSession], world: World
) -> None:
    # Given sessions scoped to Acme, to nothing, and to everything
    counts = {}
    for name, scope in {
        "acme": AccountScope(account_ids=frozenset({world.acme.id})),
        "nothing": AccountScope.nothing(),
        "everything": AccountScope.everything(),
    }.items():
        async with sessionmaker() as session:
            set_scope(session, scope)
            counts[name] = (
                await session.execute(
                    sa.text(
                        "SELECT count(*) FILTER (WHERE account_id = :acme) AS own, "
                        "count(*) AS seen FROM documents"
                    ),
                    {"acme": world.acme.id},
                )
            ).one()

    # Then Acme sees its own documents and nothing else, no scope sees nothing, staff see all
    assert counts["acme"].own == counts["acme"].seen > 0
    assert counts["nothing"].seen == 0
    assert counts["everything"].seen > counts["acme"].seen
