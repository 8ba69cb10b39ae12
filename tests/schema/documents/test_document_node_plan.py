"""One document by id (``node(id:)``) is planned once per connection: PostgreSQL keeps the
generic plan of its statement instead of planning every read anew. Bound as an array, the id made
the generic plan look ten times costlier than the custom ones (an array parameter is estimated at
ten elements), and every read cost 0.6 ms of planning for 0.07 ms of reading."""

from __future__ import annotations

import sqlalchemy as sa
from bench.document_search import admin_of, generate
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models.db import rescope
from portal.resolvers.documents.records import visible_documents_by_id

# Every prepared statement about documents on the connection, with its plans so far (earlier
# tests may have left some on the same connection: the reads are told apart by what they add).
PLANS = sa.text(
    "SELECT name, generic_plans, custom_plans FROM pg_prepared_statements "
    "WHERE statement LIKE '%FROM documents%'"
)


async def _plans(db: AsyncSession) -> dict[str, tuple[int, int]]:
    return {row.name: (row.generic_plans, row.custom_plans) for row in await db.execute(PLANS)}


async def test_one_document_by_id_reuses_its_generic_plan(db: AsyncSession) -> None:
    # given 2,400 documents over 2 accounts, analysed, and a User Admin of one of them
    connection = await db.connection()
    account_id = await generate(connection, accounts=2, employees=500, documents=2_400)
    principal = admin_of(account_id)
    await rescope(db, principal.scope)
    document_id = await db.scalar(
        sa.text("SELECT id FROM documents WHERE account_id = :a LIMIT 1"), {"a": account_id}
    )

    # when that document is read by id twelve times on one connection
    before = await _plans(db)
    for _ in range(12):
        rows = (await db.execute(*visible_documents_by_id(principal, [document_id]))).all()
        assert [row.id for row in rows] == [document_id]

    # then its statement was planned with the values at most for the first five reads (how
    # PostgreSQL learns a statement's cost) and its generic plan served the others
    added = [
        (generic - before.get(name, (0, 0))[0], custom - before.get(name, (0, 0))[1])
        for name, (generic, custom) in (await _plans(db)).items()
    ]
    generic, custom = max(added, key=sum)
    assert generic + custom == 12
    assert custom <= 5
    assert generic >= 7
