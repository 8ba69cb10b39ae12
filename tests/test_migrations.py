"""One Alembic history that equals the models, and that can be undone completely."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from portal.migrations import downgrade_async, upgrade_async
from portal.models import metadata
from portal.models.db import to_async_url
from portal.resolvers.names import name_trigrams
from tests.support.database import create_database, drop

pytestmark = pytest.mark.migrations

SYSTEM_SCOPE = sa.text("SELECT set_config('portal.all_accounts', 'on', true)")


async def _differences(url: str) -> list[object]:
    engine = create_async_engine(to_async_url(url))
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), metadata
                )
            )
    finally:
        await engine.dispose()


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(to_async_url(url))
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
            return {row[0] for row in rows}
    finally:
        await engine.dispose()


async def test_upgrade_head_equals_the_models_and_downgrade_to_base_removes_everything(
    admin_database_url: str, app_role: str
) -> None:
    url = await create_database(admin_database_url, app_role, prefix="portal_migrations")
    try:
        # given a fresh database migrated to head
        await upgrade_async(url)
        # then autogenerate finds nothing to change
        assert await _differences(url) == []
        assert set(metadata.tables) <= await _tables(url)

        # when downgraded to base, only Alembic's own bookkeeping remains
        await downgrade_async(url, "base")
        assert await _tables(url) <= {"alembic_version"}

        # and the history applies again cleanly
        await upgrade_async(url)
        assert await _differences(url) == []
    finally:
        await drop(admin_database_url, url)


async def test_the_name_index_migration_indexes_the_employees_already_there(
    admin_database_url: str, app_role: str
) -> None:
    url = await create_database(admin_database_url, app_role, prefix="portal_migrations")
    engine = create_async_engine(to_async_url(url))
    try:
        # given a database at 0004 holding an employee
        await upgrade_async(url, "0004")
        async with engine.begin() as connection:
            await connection.execute(SYSTEM_SCOPE)
            employee_id = await connection.scalar(
                sa.text(
                    """
                    WITH account AS (
                        INSERT INTO accounts (name, account_number) VALUES ('Old Co', 'OLD-1')
                        RETURNING id),
                    location AS (
                        INSERT INTO locations (account_id, name, street, city, state, postal_code)
                        SELECT id, 'Depot', '1 St', 'Austin', 'TX', '73301' FROM account
                        RETURNING id, account_id)
                    INSERT INTO employees (account_id, location_id, first_name, last_name,
                                           date_of_birth, employee_number)
                    SELECT account_id, id, 'Maria', 'Odete', DATE '1980-01-01', 'X-1'
                    FROM location RETURNING id
                    """
                )
            )

        # when the name index migration runs
        await upgrade_async(url)

        # then the employee is found by the pieces of their name
        async with engine.begin() as connection:
            await connection.execute(SYSTEM_SCOPE)
            pieces = await connection.scalars(
                sa.text("SELECT trigram FROM employee_name_trigrams WHERE employee_id = :id"),
                {"id": employee_id},
            )
            assert sorted(pieces) == name_trigrams(["maria", "odete"])
    finally:
        await engine.dispose()
        await drop(admin_database_url, url)


async def test_the_webhooks_migration_does_not_announce_authorizations_expired_before_it(
    admin_database_url: str, app_role: str
) -> None:
    url = await create_database(admin_database_url, app_role, prefix="portal_migrations")
    engine = create_async_engine(to_async_url(url))
    try:
        # given a database at 0006 with an authorization that ended last month and a current one
        await upgrade_async(url, "0006")
        async with engine.begin() as connection:
            await connection.execute(SYSTEM_SCOPE)
            await connection.execute(
                sa.text(
                    """
                    WITH account AS (
                        INSERT INTO accounts (name, account_number) VALUES ('Old Co', 'OLD-1')
                        RETURNING id),
                    location AS (
                        INSERT INTO locations (account_id, name, street, city, state, postal_code)
                        SELECT id, 'Depot', '1 St', 'Austin', 'TX', '73301' FROM account
                        RETURNING id, account_id),
                    employee AS (
                        INSERT INTO employees (account_id, location_id, first_name, last_name,
                                               date_of_birth, employee_number)
                        SELECT account_id, id, 'Maria', 'Odete', DATE '1980-01-01', 'X-1'
                        FROM location RETURNING id, account_id, location_id)
                    INSERT INTO authorizations (account_id, number, employee_id, location_id,
                                                modality, valid_from, valid_until, state)
                    SELECT account_id, number, id, location_id, 'TELEMEDICINE',
                           current_date - 60, current_date + days, 'ACTIVE'
                    FROM employee, (VALUES ('OLD-A-1', -30), ('OLD-A-2', 10)) AS v(number, days)
                    """
                )
            )

        # when the webhooks migration runs
        await upgrade_async(url, "0010")

        # then the old expiry counts as announced (no event flood), the current one does not
        async with engine.begin() as connection:
            await connection.execute(SYSTEM_SCOPE)
            rows = await connection.execute(
                sa.text(
                    "SELECT number, expiry_event_valid_until = valid_until AS announced "
                    "FROM authorizations ORDER BY number"
                )
            )
            assert [(row.number, row.announced) for row in rows] == [
                ("OLD-A-1", True),
                ("OLD-A-2", None),
            ]
    finally:
        await engine.dispose()
        await drop(admin_database_url, url)
