"""employee-name trigram index that row-level security lets the planner use

Under RLS PostgreSQL evaluates the tenant policy before any user condition whose function is not
LEAKPROOF. LIKE (``textlike``) and every pg_trgm operator are not, so for the app's role the GIN
index ``ix_employees_account_id_full_name_trgm`` can never serve a name search: the planner reads
the whole tenant's employees and filters. Marking ``textlike`` LEAKPROOF would need a superuser
and would weaken a built-in for every table; instead each employee's name is split into its
three-character pieces in ``employee_name_trigrams`` (itself a tenant table under the same policy),
whose btree is searched with text equality, which is LEAKPROOF.

Statement-level triggers with transition tables keep the pieces in step with ``employees`` on
every insert, rename and delete (one statement per bulk change, not one per row). There is no
foreign key: a bulk load of employees would pay one key check per piece, a dozen per employee.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every distinct three-character piece of a name that holds no space (query words never do).
TRIGRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION portal_name_trigrams(name text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT piece ORDER BY piece), '{}')
    FROM (SELECT substr(name, position, 3) AS piece
          FROM generate_series(1, length(name) - 2) AS position) AS pieces
    WHERE strpos(piece, ' ') = 0
$$
"""

INSERT_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION employee_name_trigrams_after_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO employee_name_trigrams (trigram, account_id, employee_id)
    SELECT piece, inserted.account_id, inserted.id
    FROM inserted CROSS JOIN LATERAL unnest(portal_name_trigrams(inserted.full_name)) AS piece;
    RETURN NULL;
END
$$
"""

# A rename (or a move to another account) replaces the employee's pieces; other updates (contact
# details) leave them alone.
UPDATE_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION employee_name_trigrams_after_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM employee_name_trigrams
    USING after JOIN before ON before.id = after.id
    WHERE employee_name_trigrams.employee_id = after.id
      AND (after.full_name IS DISTINCT FROM before.full_name
           OR after.account_id IS DISTINCT FROM before.account_id);
    INSERT INTO employee_name_trigrams (trigram, account_id, employee_id)
    SELECT piece, after.account_id, after.id
    FROM after JOIN before ON before.id = after.id
    CROSS JOIN LATERAL unnest(portal_name_trigrams(after.full_name)) AS piece
    WHERE after.full_name IS DISTINCT FROM before.full_name
       OR after.account_id IS DISTINCT FROM before.account_id;
    RETURN NULL;
END
$$
"""

DELETE_TRIGGER_FUNCTION = """
CREATE OR REPLACE FUNCTION employee_name_trigrams_after_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM employee_name_trigrams WHERE employee_id IN (SELECT id FROM removed);
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "employee_name_trigrams",
        sa.Column("trigram", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("employee_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint(
            "trigram", "account_id", "employee_id", name=op.f("pk_employee_name_trigrams")
        ),
    )
    op.create_index(
        "ix_employee_name_trigrams_employee_id",
        "employee_name_trigrams",
        ["employee_id"],
        unique=False,
    )
    for statement in (
        "ALTER TABLE employee_name_trigrams ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE employee_name_trigrams FORCE ROW LEVEL SECURITY",
        "CREATE POLICY tenant_scope ON employee_name_trigrams "
        "USING (portal_scope_allows(account_id)) WITH CHECK (portal_scope_allows(account_id))",
        TRIGRAMS_FUNCTION,
        INSERT_TRIGGER_FUNCTION,
        UPDATE_TRIGGER_FUNCTION,
        DELETE_TRIGGER_FUNCTION,
        "CREATE TRIGGER employee_name_trigrams_on_insert AFTER INSERT ON employees "
        "REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT "
        "EXECUTE FUNCTION employee_name_trigrams_after_insert()",
        "CREATE TRIGGER employee_name_trigrams_on_update AFTER UPDATE ON employees "
        "REFERENCING OLD TABLE AS before NEW TABLE AS after FOR EACH STATEMENT "
        "EXECUTE FUNCTION employee_name_trigrams_after_update()",
        "CREATE TRIGGER employee_name_trigrams_on_delete AFTER DELETE ON employees "
        "REFERENCING OLD TABLE AS removed FOR EACH STATEMENT "
        "EXECUTE FUNCTION employee_name_trigrams_after_delete()",
        # Existing employees, in every account (a migration is system work).
        "SELECT set_config('portal.all_accounts', 'on', true)",
        "INSERT INTO employee_name_trigrams (trigram, account_id, employee_id) "
        "SELECT piece, employees.account_id, employees.id FROM employees "
        "CROSS JOIN LATERAL unnest(portal_name_trigrams(employees.full_name)) AS piece",
        "SELECT set_config('portal.all_accounts', 'off', true)",
        "ANALYZE employee_name_trigrams",
    ):
        op.execute(statement)


def downgrade() -> None:
    for statement in (
        "DROP TRIGGER IF EXISTS employee_name_trigrams_on_delete ON employees",
        "DROP TRIGGER IF EXISTS employee_name_trigrams_on_update ON employees",
        "DROP TRIGGER IF EXISTS employee_name_trigrams_on_insert ON employees",
        "DROP FUNCTION IF EXISTS employee_name_trigrams_after_delete()",
        "DROP FUNCTION IF EXISTS employee_name_trigrams_after_update()",
        "DROP FUNCTION IF EXISTS employee_name_trigrams_after_insert()",
        "DROP FUNCTION IF EXISTS portal_name_trigrams(text)",
    ):
        op.execute(statement)
    op.drop_index("ix_employee_name_trigrams_employee_id", table_name="employee_name_trigrams")
    op.drop_table("employee_name_trigrams")
