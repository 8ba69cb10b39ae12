"""Employee-name document search on 100,000+ documents: the plan and the time.

Run: ``PORTAL_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
.venv/bin/python -m bench.document_search [--documents 120000] [--runs 30]``.
It creates a scratch database on that server, migrates it, generates the data with
``INSERT ... SELECT generate_series`` (seconds, not minutes), prints ``EXPLAIN (ANALYZE, BUFFERS)``
of the search a User Admin runs, its timings, and drops the database. A benchmark, not a test."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from portal.auth.principal import Principal, PrincipalKind
from portal.embedded import database_url, drop_database, ensure_database
from portal.migrations import upgrade_async
from portal.models.db import AccountScope, create_engine, set_scope
from portal.models.enums import Role
from portal.resolvers.documents.search import DOCUMENT_ORDER, DocumentFilter, search_statement
from portal.seed.reference import seed_reference_data

FIRST_NAMES = [
    *[
        "James",
        "Mary",
        "Robert",
        "Patricia",
        "John",
        "Jennifer",
        "Michael",
        "Linda",
        "David",
        "Elizabeth",
        "William",
    ],
    *[
        "Barbara",
        "Richard",
        "Susan",
        "Joseph",
        "Jessica",
        "Thomas",
        "Sarah",
        "Charles",
        "Karen",
        "Alice",
        "Bob",
    ],
]
LAST_NAMES = [
    *[
        "Smith",
        "Johnson",
        "Williams",
        "Brown",
        "Jones",
        "Garcia",
        "Miller",
        "Davis",
        "Rodriguez",
        "Martinez",
    ],
    *[
        "Hernandez",
        "Lopez",
        "Gonzalez",
        "Wilson",
        "Anderson",
        "Thomas",
        "Taylor",
        "Moore",
        "Jackson",
        "Martin",
    ],
    *[
        "Lee",
        "Perez",
        "Thompson",
        "White",
        "Harris",
        "Sanchez",
        "Clark",
        "Ramirez",
        "Lewis",
        "Robinson",
        "Walker",
    ],
    *[
        "Young",
        "Allen",
        "King",
        "Wright",
        "Scott",
        "Torres",
        "Nguyen",
        "Hill",
        "Flores",
        "Green",
        "Adams",
        "Nelson",
    ],
]


# The app's dialect, to print statements as literal SQL (its constructor is untyped upstream).
_DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]


def _text_array(values: list[str]) -> str:
    return "ARRAY[" + ",".join(f"'{value}'" for value in values) + "]"


# Around the visits and documents inserts of a trusted load: their rows are consistent by
# construction, so their foreign-key triggers (about nine index probes a document) are skipped.
# Only a superuser may; the employees' trigram triggers are not affected (they run before).
_TRUSTED_ON = "SET LOCAL session_replication_role = replica"
_TRUSTED_OFF = "SET LOCAL session_replication_role = origin"


async def generate(
    connection: AsyncConnection,
    *,
    accounts: int,
    employees: int,
    documents: int,
    trusted: bool = False,
) -> uuid.UUID:
    """Accounts (two locations each), employees, one visit per document; returns the first
    account's id. Runs inside the caller's transaction. ``trusted`` (a superuser's connection)
    skips the foreign-key checks of the visits and documents it inserts, which are consistent by
    construction (about half the time at 150,000 documents on a shared 2-CPU machine)."""
    tag = uuid.uuid4().hex[:8]
    statements = [
        f"""INSERT INTO medical_centers (code, name, street, city, state, postal_code, phone, hours)
            SELECT 'BC' || g || '{tag[:4]}', 'Bench Center ' || g, '1 Rd', 'Austin',
                   (ARRAY['TX','AZ','IL','CO','CA'])[1 + g % 5], '73301', '555-0100', '7-6'
            FROM generate_series(1, 10) g""",
        f"""INSERT INTO accounts (name, account_number)
            SELECT 'Bench Account ' || g, 'B{tag}-' || g FROM generate_series(1, {accounts}) g""",
        f"""INSERT INTO locations (account_id, name, street, city, state, postal_code)
            SELECT a.id, 'Site ' || s, '1 St', 'Austin', 'TX', '73301'
            FROM accounts a CROSS JOIN generate_series(1, 2) s
            WHERE a.account_number LIKE 'B{tag}-%'""",
        f"""WITH locs AS (
              SELECT id, account_id, (row_number() OVER (ORDER BY id)) - 1 AS n FROM locations
              WHERE account_id IN (SELECT id FROM accounts WHERE account_number LIKE 'B{tag}-%'))
            INSERT INTO employees (account_id, location_id, first_name, last_name, date_of_birth,
                                   employee_number)
            SELECT locs.account_id, locs.id,
                   ({_text_array(FIRST_NAMES)})[1 + g % {len(FIRST_NAMES)}],
                   ({_text_array(LAST_NAMES)})[1 + (g / {len(FIRST_NAMES)}) % {len(LAST_NAMES)}]
                     || CASE WHEN g % 3 = 0 THEN '' ELSE chr(97 + g % 26) || chr(97 + g % 23) END,
                   DATE '1955-01-01' + (g % 18000), 'N' || g
            FROM generate_series(0, {employees - 1}) g
            JOIN locs ON locs.n = g % {accounts * 2}""",
        *([_TRUSTED_ON] if trusted else []),
        f"""WITH emps AS (
              SELECT id, account_id, location_id, (row_number() OVER (ORDER BY id)) - 1 AS n
              FROM employees WHERE employee_number LIKE 'N%'
                AND account_id IN (SELECT id FROM accounts WHERE account_number LIKE 'B{tag}-%'))
            INSERT INTO visits (account_id, employee_id, location_id, medical_center_id,
                                visited_at, visit_type, status, checked_out_at, claim_number)
            SELECT e.account_id, e.id, e.location_id,
                   (ARRAY(SELECT id FROM medical_centers ORDER BY code))[1 + g % 10],
                   now() - (g % 400) * interval '1 day',
                   CASE WHEN g % 4 = 0 THEN 'INJURY' ELSE 'NON_INJURY' END, 'COMPLETE',
                   now() - (g % 400) * interval '1 day' + interval '2 hours',
                   CASE WHEN g % 4 = 0 THEN 'CLM-' || g END
            FROM generate_series(0, {documents - 1}) g
            JOIN emps e ON e.n = g % {employees}""",
        f"""INSERT INTO documents (account_id, visit_id, employee_id, location_id, report_type_id,
                                   name, posted_at, page_count, size_bytes, sha256, storage_key)
            SELECT v.account_id, v.id, v.employee_id, v.location_id,
                   (ARRAY(SELECT id FROM report_types ORDER BY code))[1 + (hashtext(v.id::text)
                     & 7)],
                   'Result ' || row_number() OVER (), v.visited_at + interval '1 day', 1, 1000,
                   md5(v.id::text) || md5(v.id::text || 'x'), md5(v.id::text) || md5(v.id::text)
            FROM visits v
            WHERE v.account_id IN (SELECT id FROM accounts WHERE account_number LIKE 'B{tag}-%')""",
        *([_TRUSTED_OFF] if trusted else []),
        "ANALYZE medical_centers",
        "ANALYZE accounts",
        "ANALYZE locations",
        "ANALYZE employees",
        "ANALYZE employee_name_trigrams",
        "ANALYZE visits",
        "ANALYZE documents",
    ]
    for statement in statements:
        await connection.execute(sa.text(statement))
    first = await connection.scalar(
        sa.text(f"SELECT id FROM accounts WHERE account_number = 'B{tag}-1'")
    )
    assert isinstance(first, uuid.UUID)
    return first


def admin_of(account_id: uuid.UUID) -> Principal:
    return Principal(
        kind=PrincipalKind.USER,
        id=uuid.uuid4(),
        account_id=account_id,
        account_ids=frozenset({account_id}),
        user_role=Role.USER_ADMIN,
    )


def page_sql(principal: Principal, filters: DocumentFilter, *, size: int = 20) -> str:
    """The first page of the search as literal SQL (for EXPLAIN)."""
    statement = (
        search_statement(principal, filters)
        .order_by(*[key.column.desc() for key in DOCUMENT_ORDER])
        .limit(size + 1)
    )
    return str(statement.compile(dialect=_DIALECT, compile_kwargs={"literal_binds": True}))


async def explain(connection: AsyncConnection, sql: str, *, analyze: bool = True) -> str:
    options = "ANALYZE, BUFFERS" if analyze else "COSTS OFF"
    rows = await connection.execute(sa.text(f"EXPLAIN ({options}) {sql}"))
    return "\n".join(str(row[0]) for row in rows)


async def main(*, documents: int, employees: int, accounts: int, runs: int) -> None:
    admin = os.environ.get("PORTAL_TEST_DATABASE_URL") or os.environ.get("PORTAL_DATABASE_URL")
    if not admin:
        raise SystemExit("set PORTAL_TEST_DATABASE_URL to an admin URL of a PostgreSQL server")
    name = f"portal_bench_{uuid.uuid4().hex[:8]}"
    await ensure_database(admin, name)
    url = database_url(admin, name)
    try:
        await upgrade_async(url)
        engine = create_engine(url, pool_size=1, max_overflow=0)
        async with AsyncSession(engine) as session:
            set_scope(session, AccountScope.everything())
            await seed_reference_data(session)
            await session.commit()
        started = time.perf_counter()
        async with engine.begin() as connection:
            account_id = await generate(
                connection, accounts=accounts, employees=employees, documents=documents
            )
        generated = time.perf_counter() - started
        async with engine.connect() as connection:
            total = await connection.scalar(sa.text("SELECT count(*) FROM documents"))
            print(f"generated {total} documents, {employees} employees in {generated:.1f} s")
            principal = admin_of(account_id)
            for query in ("smith", "mary john", "zzqx"):
                filters = DocumentFilter(employee_name=query)
                sql = page_sql(principal, filters)
                print(f"\n=== employeeName={query!r} (User Admin of one of {accounts} accounts)")
                print(await explain(connection, sql))
                timings: list[float] = []
                for _ in range(runs):
                    began = time.perf_counter()
                    await connection.execute(sa.text(sql))
                    timings.append((time.perf_counter() - began) * 1000)
                timings.sort()
                rls = await time_under_row_level_security(
                    connection, sql, account_id=account_id, runs=runs
                )
                print(
                    "as a role bound by row-level security: "
                    f"median={statistics.median(rls):.2f} ms "
                    f"p95={rls[int(len(rls) * 0.95) - 1]:.2f} ms"
                )
                count_sql = f"SELECT count(*) FROM ({search_statement_sql(principal, filters)}) s"
                began = time.perf_counter()
                matches = await connection.scalar(sa.text(count_sql))
                counted = (time.perf_counter() - began) * 1000
                print(
                    f"first page: n={runs} median={statistics.median(timings):.2f} ms "
                    f"p95={timings[int(len(timings) * 0.95) - 1]:.2f} ms; "
                    f"totalCount={matches} in {counted:.2f} ms"
                )
        await engine.dispose()
    finally:
        await drop_database(admin, name)


async def time_under_row_level_security(
    connection: AsyncConnection, sql: str, *, account_id: uuid.UUID, runs: int
) -> list[float]:
    """The same query as a plain role, the way the app runs it: the policies apply, and the
    planner may use only LEAKPROOF operators as index conditions ahead of them (text equality on
    the name trigrams is; LIKE is not)."""
    role = f"portal_bench_reader_{uuid.uuid4().hex[:8]}"
    await connection.commit()
    await connection.execute(sa.text(f"CREATE ROLE {role}"))
    await connection.execute(sa.text(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"))
    timings: list[float] = []
    try:
        await connection.execute(sa.text(f"SET LOCAL ROLE {role}"))
        await connection.execute(
            sa.text("SELECT set_config('portal.account_ids', :ids, true)"),
            {"ids": str(account_id)},
        )
        print(await explain(connection, sql))
        for _ in range(runs):
            began = time.perf_counter()
            await connection.execute(sa.text(sql))
            timings.append((time.perf_counter() - began) * 1000)
    finally:
        await connection.execute(sa.text("RESET ROLE"))
        await connection.execute(sa.text(f"DROP OWNED BY {role}"))
        await connection.execute(sa.text(f"DROP ROLE {role}"))
        await connection.commit()
    timings.sort()
    return timings


def search_statement_sql(principal: Principal, filters: DocumentFilter) -> Any:
    return search_statement(principal, filters).compile(
        dialect=_DIALECT, compile_kwargs={"literal_binds": True}
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--documents", type=int, default=120_000)
    parser.add_argument("--employees", type=int, default=40_000)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--runs", type=int, default=30)
    arguments = parser.parse_args()
    asyncio.run(
        main(
            documents=arguments.documents,
            employees=arguments.employees,
            accounts=arguments.accounts,
            runs=arguments.runs,
        )
    )
