"""The employee-name search uses the name trigram index as the app's role, bound by row-level
security, and a page with its total finds the matches once (checked with EXPLAIN on generated
data; ``bench/document_search.py`` times it on 120,000 documents)."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from bench.document_search import admin_of, explain, generate, page_sql
from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.principal import Principal, PrincipalKind
from portal.models.db import rescope
from portal.resolvers.documents.search import DocumentFilter, search_documents, search_statement
from portal.resolvers.pagination import PageRequest


@pytest.mark.parametrize("caller", ["user_admin", "staff"])
async def test_the_employee_name_search_plan_uses_the_trigram_index(
    db: AsyncSession, caller: str
) -> None:
    # given 2,400 documents of 2,000 employees over 2 accounts, analysed
    connection = await db.connection()
    account_id = await generate(connection, accounts=2, employees=2_000, documents=2_400)
    principal = (
        admin_of(account_id)
        if caller == "user_admin"
        else Principal(kind=PrincipalKind.STAFF, id=uuid.uuid4())
    )

    # when the first page of an employee-name search is planned (as the test's role, which
    # row-level security binds like the app's)
    sql = page_sql(principal, DocumentFilter(employee_name="smith"))
    plan = await explain(connection, sql, analyze=False)

    # then the employees are found through the name trigrams' btree by piece (and, for a
    # tenant, by account): LEAKPROOF conditions the planner may apply ahead of the policies
    assert "Bitmap Index Scan on pk_employee_name_trigrams" in plan, plan
    pieces = "trigram = ANY ('{ith,mit,smi}'::text[])"
    expected = f"Index Cond: (({pieces}) AND (account_id = " if caller == "user_admin" else pieces
    assert expected in plan, plan


async def test_a_counted_search_page_finds_the_matches_once(db: AsyncSession) -> None:
    # given 6,000 documents of 2,000 employees over 2 accounts, analysed, and a User Admin of one
    # (which employees get which visits follows their random ids: three documents each keep the
    # Smiths' visible documents well above one page of five)
    connection = await db.connection()
    account_id = await generate(connection, accounts=2, employees=2_000, documents=6_000)
    principal = admin_of(account_id)
    await rescope(db, principal.scope)
    sent: list[tuple[str, Any]] = []

    def capture(*arguments: Any) -> None:
        sent.append((arguments[2], arguments[3]))  # the statement and its parameters

    # when the first page of an employee-name search is read with its total, as the schema does
    # when totalCount is asked for
    sa.event.listen(connection.sync_connection, "before_cursor_execute", capture)
    try:
        page = await search_documents(
            session=db,
            principal=principal,
            page=PageRequest(first=5),
            filters=DocumentFilter(employee_name="smith"),
            count_with_page=True,
        )
    finally:
        sa.event.remove(connection.sync_connection, "before_cursor_execute", capture)
    total = await page.count()

    # then one statement answered both, and its total is the number of matching documents
    assert len(sent) == 1
    statement, parameters = sent[0]
    matching = await db.scalar(
        sa.select(sa.func.count()).select_from(
            search_statement(principal, DocumentFilter(employee_name="smith")).subquery()
        )
    )
    assert matching is not None
    assert total == matching > len(page.items) == 5

    # and its plan looks the name up once (the matches are a CTE the page's records and the
    # total both read) and reads the visits of the page only, not of every match to count them
    rows = await connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)
    plan = "\n".join(str(row[0]) for row in rows)
    assert "CTE matching" in plan, plan
    assert len(re.findall(r"Scan (?:using|on) pk_employee_name_trigrams", plan)) == 1, plan
    assert len(re.findall(r"Scan (?:using|on) \w+ on visits|Scan on visits", plan)) == 1, plan
