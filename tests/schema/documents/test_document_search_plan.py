"""The employee-name search uses the name trigram index as the app's role, bound by row-level
security (checked with EXPLAIN on generated data; ``bench/document_search.py`` times it on
120,000 documents)."""

from __future__ import annotations

import uuid

import pytest
from bench.document_search import admin_of, explain, generate, page_sql
from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.principal import Principal, PrincipalKind
from portal.resolvers.documents.search import DocumentFilter


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
