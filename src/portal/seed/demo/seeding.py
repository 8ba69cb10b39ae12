"""Inserting the demo plan: idempotent, in dependency order."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import col

from portal.auth.passwords import hash_password
from portal.models import (
    Account,
    Document,
    ReportType,
    Service,
    SQLModel,
)
from portal.models.db import ACCOUNT_IDS_SETTING, ALL_ACCOUNTS_SETTING, AccountScope, set_scope
from portal.resolvers.support.requests import continue_request_numbers
from portal.seed.demo.facts import ARCHIVE_AFTER_DAYS, MARKER_ACCOUNT_ID, DemoSummary, Row
from portal.seed.pdfs import render_document_pdf
from portal.seed.reference import seed_reference_data

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from portal.storage import DocumentStorage
from portal.seed.demo.builder import DemoBuilder

# --------------------------------------------------------------------------------------------
# Seeding


INSERT_ORDER = (
    "accounts",
    "locations",
    "service_packages",
    "service_package_items",
    "staff_users",
    "contacts",
    "portal_users",
    "access_requests",
    "user_permissions",
    "report_subscriptions",
    "notification_preferences",
    "medical_centers",
    "employees",
    "authorizations",
    "authorization_services",
    "authorization_recipients",
    "authorization_events",
    "visits",
    "documents",
    "support_requests",
    "support_comments",
    "support_request_status_changes",
)


async def seed_demo(
    session: AsyncSession, *, password: str, storage: DocumentStorage, today: date
) -> DemoSummary:
    """Load the demo data set (after the reference data) and commit; return what exists.

    The session is switched to the all-accounts scope: the seed writes every tenant's rows.
    """
    set_scope(session, AccountScope.everything())
    await session.execute(
        sa.text("SELECT set_config(:ids_key, '', true), set_config(:all_key, 'on', true)"),
        {"ids_key": ACCOUNT_IDS_SETTING, "all_key": ALL_ACCOUNTS_SETTING},
    )
    await seed_reference_data(session)
    already_seeded = await session.scalar(
        sa.select(sa.literal(True)).where(col(Account.id) == MARKER_ACCOUNT_ID)
    )
    if not already_seeded:
        await insert_demo_data(session, password=password, storage=storage, today=today)
    summary = await demo_summary(session, today=today)
    await session.commit()
    return summary


async def insert_demo_data(
    session: AsyncSession, *, password: str, storage: DocumentStorage, today: date
) -> None:
    """Insert every demo row that does not exist yet (no commit) and store the PDFs."""
    report_type_ids = await _ids_by_code(session, ReportType)
    service_ids = await _ids_by_code(session, Service)
    plan = DemoBuilder(
        today=today, report_type_ids=report_type_ids, service_ids=service_ids
    ).build()

    # Hash the passwords and render the PDFs in worker threads, side by side.
    hashes, pdfs = await asyncio.gather(
        asyncio.to_thread(lambda: [hash_password(password) for _ in plan.users]),
        asyncio.to_thread(lambda: [render_document_pdf(**render) for render in plan.renders]),
    )
    password_hashes = {
        user_id: digest for (user_id, _), digest in zip(plan.users, hashes, strict=True)
    }
    for table in ("staff_users", "portal_users"):
        for row in plan.rows[table]:
            row["password_hash"] = password_hashes[row["id"]]

    keys = await asyncio.gather(*(storage.put(pdf) for pdf in pdfs))
    for row, render, pdf, key in zip(plan.rows["documents"], plan.renders, pdfs, keys, strict=True):
        row["page_count"] = render["pages"]
        row["size_bytes"] = len(pdf)
        row["sha256"] = key
        row["storage_key"] = key

    for table in INSERT_ORDER:
        await _insert(session, table, plan.rows.get(table, []))
    await continue_request_numbers(session=session)


async def demo_summary(session: AsyncSession, *, today: date) -> DemoSummary:
    archive_before = datetime.combine(
        today - timedelta(days=ARCHIVE_AFTER_DAYS), time(0, 0), tzinfo=UTC
    )

    def count(table: str) -> sa.ScalarSelect[int]:
        return (
            sa.select(sa.func.count())
            .select_from(SQLModel.metadata.tables[table])
            .scalar_subquery()
        )

    archived = (
        sa.select(sa.func.count())
        .select_from(Document)
        .where(col(Document.posted_at) < archive_before)
        .scalar_subquery()
    )
    row = (
        await session.execute(
            sa.select(
                count("accounts"),
                count("portal_users"),
                count("staff_users"),
                count("employees"),
                count("medical_centers"),
                count("authorizations"),
                count("visits"),
                count("documents"),
                archived,
                count("support_requests"),
            )
        )
    ).one()
    return DemoSummary(*(int(value) for value in row))


async def _ids_by_code(
    session: AsyncSession, model: type[ReportType] | type[Service]
) -> dict[str, uuid.UUID]:
    rows = await session.execute(sa.select(col(model.code), col(model.id)))
    return {row[0]: row[1] for row in rows}


async def _insert(session: AsyncSession, table_name: str, rows: Sequence[Row]) -> None:
    if not rows:
        return
    table = SQLModel.metadata.tables[table_name]
    await session.execute(pg_insert(table).on_conflict_do_nothing(), list(rows))
