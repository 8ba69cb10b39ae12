"""row-level security policies the planner can use: the scope read once per query

The tenant policies called ``portal_scope_allows(account_id)``, which PostgreSQL evaluated for
every row: two ``current_setting`` calls, a ``string_to_array`` and a cast per row, and a filter
the planner could not weigh. Every such policy now reads the scope through two init-plans,
evaluated once per query:

    (SELECT portal_scope_all()) OR account_id = ANY ((SELECT portal_scope_ids())::uuid[])

The rows admitted are exactly the same. Later migrations write tenant policies in this form
(a test fails on any policy that still calls ``portal_scope_allows``).

Revision ID: 0015
Revises: 0013
Create Date: 2026-11-30
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = [
    """
    CREATE OR REPLACE FUNCTION portal_scope_ids() RETURNS uuid[]
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT coalesce(
            string_to_array(nullif(current_setting('portal.account_ids', true), ''), ',')::uuid[],
            '{}'::uuid[]
        )
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION portal_scope_all() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
        SELECT coalesce(current_setting('portal.all_accounts', true), 'off') = 'on'
    $$
    """,
]

_OLD = re.compile(r"portal_scope_allows\((\w+)\)")
# How PostgreSQL prints the new form back (pg_policies deparses the stored expression).
_NEW = re.compile(
    r"\(\( SELECT portal_scope_all\(\) AS portal_scope_all\) OR \((\w+) = ANY "
    r"\(\( SELECT portal_scope_ids\(\) AS portal_scope_ids\)::uuid\[\]\)\)\)"
)


def _init_plan_form(match: re.Match[str]) -> str:
    column = match.group(1)
    return f"((SELECT portal_scope_all()) OR {column} = ANY ((SELECT portal_scope_ids())::uuid[]))"


def _rewrite(pattern: re.Pattern[str], replace: object) -> None:
    bind = op.get_bind()
    policies = bind.execute(
        sa.text(
            "SELECT tablename, policyname, qual, with_check FROM pg_policies "
            "WHERE schemaname = current_schema()"
        )
    ).all()
    for table, name, qual, with_check in policies:
        clauses = []
        if qual and pattern.search(qual):
            clauses.append(f"USING ({pattern.sub(replace, qual)})")  # type: ignore[arg-type]
        if with_check and pattern.search(with_check):
            clauses.append(f"WITH CHECK ({pattern.sub(replace, with_check)})")  # type: ignore[arg-type]
        if clauses:
            op.execute(f'ALTER POLICY "{name}" ON "{table}" ' + " ".join(clauses))


def upgrade() -> None:
    for statement in FUNCTIONS:
        op.execute(statement)
    _rewrite(_OLD, _init_plan_form)


def downgrade() -> None:
    _rewrite(_NEW, lambda match: f"portal_scope_allows({match.group(1)})")
    op.execute("DROP FUNCTION IF EXISTS portal_scope_all()")
    op.execute("DROP FUNCTION IF EXISTS portal_scope_ids()")
