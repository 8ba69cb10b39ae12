"""row-level security on tenant tables; append-only audit trail

Every tenant table gets a policy that admits only rows whose account is in the transaction's
``portal.account_ids`` (or every row when ``portal.all_accounts`` is on: staff and system work).
FORCE makes the policies bind the tables' owner too, so an application connecting as the owner
still cannot read past them; only a superuser or a BYPASSRLS role can.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCOPE_FUNCTION = """
CREATE OR REPLACE FUNCTION portal_scope_allows(account uuid) RETURNS boolean
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce(current_setting('portal.all_accounts', true), 'off') = 'on'
        OR account = ANY (
            string_to_array(nullif(current_setting('portal.account_ids', true), ''), ',')::uuid[]
        )
$$
"""

# Tables whose rows belong to one account, and the column naming it.
TENANT_TABLES: dict[str, str] = {
    "accounts": "id",
    "locations": "account_id",
    "contacts": "account_id",
    "portal_users": "account_id",
    "user_permissions": "account_id",
    "report_subscriptions": "account_id",
    "notification_preferences": "account_id",
    "access_requests": "account_id",
    "api_clients": "account_id",
    "employees": "account_id",
    "service_packages": "account_id",
    "service_package_items": "account_id",
    "authorizations": "account_id",
    "authorization_services": "account_id",
    "authorization_recipients": "account_id",
    "authorization_events": "account_id",
    "visits": "account_id",
    "documents": "account_id",
    "support_requests": "account_id",
    "support_comments": "account_id",
}

# Written by anyone (a failed anonymous login is audited too), read only within scope.
APPEND_ANYWHERE_TABLES: dict[str, str] = {
    "audit_events": "account_id",
    "outbox_messages": "account_id",
}


def enable_statements() -> list[str]:
    statements = [SCOPE_FUNCTION]
    for table, column in TENANT_TABLES.items():
        statements += [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY tenant_scope ON {table} USING (portal_scope_allows({column})) "
            f"WITH CHECK (portal_scope_allows({column}))",
        ]
    for table, column in APPEND_ANYWHERE_TABLES.items():
        statements += [
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
            f"CREATE POLICY tenant_read ON {table} FOR SELECT USING (portal_scope_allows({column}))",
            f"CREATE POLICY anyone_appends ON {table} FOR INSERT WITH CHECK (true)",
        ]
    # The outbox worker (system scope) updates delivery state; nobody else does.
    statements.append(
        "CREATE POLICY system_updates ON outbox_messages FOR UPDATE "
        "USING (current_setting('portal.all_accounts', true) = 'on')"
    )
    statements.append(
        "CREATE POLICY system_deletes ON outbox_messages FOR DELETE "
        "USING (current_setting('portal.all_accounts', true) = 'on')"
    )
    # The audit trail is append-only, for the owner too.
    statements += [
        """
        CREATE OR REPLACE FUNCTION audit_events_are_append_only() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
        END
        $$
        """,
        "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
        "ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_are_append_only()",
    ]
    return statements


def disable_statements() -> list[str]:
    statements = [
        "DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events",
        "DROP FUNCTION IF EXISTS audit_events_are_append_only()",
        "DROP POLICY IF EXISTS system_updates ON outbox_messages",
        "DROP POLICY IF EXISTS system_deletes ON outbox_messages",
    ]
    for table in APPEND_ANYWHERE_TABLES:
        statements += [
            f"DROP POLICY IF EXISTS tenant_read ON {table}",
            f"DROP POLICY IF EXISTS anyone_appends ON {table}",
            f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
        ]
    for table in TENANT_TABLES:
        statements += [
            f"DROP POLICY IF EXISTS tenant_scope ON {table}",
            f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
        ]
    statements.append("DROP FUNCTION IF EXISTS portal_scope_allows(uuid)")
    return statements


def upgrade() -> None:
    for statement in enable_statements():
        op.execute(statement)


def downgrade() -> None:
    for statement in disable_statements():
        op.execute(statement)
