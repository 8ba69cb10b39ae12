"""the principal in one statement: a function per kind of caller that also scopes the transaction

An authenticated request used to spend three round trips before its own reads: the system scope
(``set_config``), the principal's row, and the principal's own scope (``set_config`` again). Each
function below does all three on the server, in an order PL/pgSQL guarantees (not left to a
planner): it sets the system scope, reads the caller's live state, then sets the transaction's
scope to the caller's (exactly ``Principal.scope``: the account family with ``all_accounts``
off for a user or an API client, ``all_accounts`` on for staff and provider systems) or to nothing
when the caller may not go on (unknown, deactivated, revoked, sign-in session ended). Each answers
its row plus the scope as the row-level security policies now read it (``portal_scope_ids()``,
``portal_scope_all()``), so the caller can check it against the principal before relying on it.

The settings are transaction-local (``set_config(..., true)``) like every other scope: a rollback
reverts them. The functions are not SECURITY DEFINER: they run as the caller, under the same
row-level security.

``portal_user_principal_row`` is the user's read alone, under the caller's scope and without
touching it: support's access explanations judge a user through it.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTIONS = {
    # The one place the functions below write the settings the policies read: the account ids
    # sorted and joined by ',' (as the application writes them), and whether all are visible.
    "portal_set_scope(uuid[], boolean)": """
    CREATE FUNCTION portal_set_scope(account_ids uuid[], all_accounts boolean) RETURNS void
    LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM set_config('portal.account_ids',
                           coalesce(array_to_string(ARRAY(
                               SELECT f FROM unnest($1) AS f ORDER BY f), ','), ''),
                           true),
                set_config('portal.all_accounts', CASE WHEN $2 THEN 'on' ELSE 'off' END, true);
    END
    $$
    """,
    "portal_user_principal_row(uuid, uuid)": """
    CREATE FUNCTION portal_user_principal_row(user_id uuid, session_id uuid)
    RETURNS TABLE (
        id uuid, email text, account_id uuid, role text, status text,
        totp_confirmed_at timestamptz, contact_id uuid, contact_active boolean,
        permissions text[], family uuid[], alive boolean
    )
    LANGUAGE sql STABLE AS $$
        -- $1: the user; $2: the sign-in session their token names (NULL: none to check).
        SELECT u.id, u.email::text, u.account_id, u.role::text, u.status::text,
               u.totp_confirmed_at, u.contact_id, c.is_active,
               (SELECT array_agg(p.permission::text) FROM user_permissions AS p
                 WHERE p.user_id = u.id),
               (SELECT array_agg(a.id) FROM accounts AS a
                 WHERE a.id = u.account_id OR a.parent_account_id = u.account_id),
               $2 IS NULL OR EXISTS (
                   SELECT 1 FROM auth_sessions AS s
                    WHERE s.id = $2 AND s.user_id = u.id AND s.revoked_at IS NULL
                      AND s.absolute_expires_at > now())
          FROM portal_users AS u JOIN contacts AS c ON c.id = u.contact_id
         WHERE u.id = $1
    $$
    """,
    "portal_user_principal(uuid, uuid)": """
    CREATE FUNCTION portal_user_principal(user_id uuid, session_id uuid)
    RETURNS TABLE (
        id uuid, email text, account_id uuid, role text, status text,
        totp_confirmed_at timestamptz, contact_id uuid, contact_active boolean,
        permissions text[], family uuid[], alive boolean,
        scope_ids uuid[], scope_all boolean
    )
    LANGUAGE plpgsql AS $$
    DECLARE
        found_user record;
    BEGIN
        -- The caller is not known yet: the system scope.
        PERFORM portal_set_scope('{}', true);
        SELECT * INTO found_user FROM portal_user_principal_row($1, $2);
        IF NOT FOUND THEN
            PERFORM portal_set_scope('{}', false);  -- may not go on: nothing
            RETURN;
        END IF;
        IF found_user.status = 'ACTIVE' AND found_user.contact_active AND found_user.alive THEN
            PERFORM portal_set_scope(found_user.family, false);
        ELSE
            PERFORM portal_set_scope('{}', false);  -- may not go on: nothing
        END IF;
        RETURN QUERY SELECT found_user.id, found_user.email, found_user.account_id,
            found_user.role, found_user.status, found_user.totp_confirmed_at,
            found_user.contact_id, found_user.contact_active, found_user.permissions,
            found_user.family, found_user.alive, portal_scope_ids(), portal_scope_all();
    END
    $$
    """,
    "portal_staff_principal(uuid, uuid)": """
    CREATE FUNCTION portal_staff_principal(staff_id uuid, session_id uuid)
    RETURNS TABLE (
        id uuid, email text, totp_confirmed_at timestamptz, alive boolean,
        scope_ids uuid[], scope_all boolean
    )
    LANGUAGE plpgsql AS $$
    DECLARE
        found_staff record;
    BEGIN
        -- The caller is not known yet: the system scope.
        PERFORM portal_set_scope('{}', true);
        SELECT s.id, s.email::text AS email, s.totp_confirmed_at,
               $2 IS NULL OR EXISTS (
                   SELECT 1 FROM auth_sessions AS a
                    WHERE a.id = $2 AND a.staff_id = s.id AND a.revoked_at IS NULL
                      AND a.absolute_expires_at > now()) AS alive
          INTO found_staff
          FROM staff_users AS s
         WHERE s.id = $1 AND s.is_active;
        IF NOT FOUND THEN
            PERFORM portal_set_scope('{}', false);  -- may not go on: nothing
            RETURN;
        END IF;
        IF found_staff.alive THEN
            PERFORM portal_set_scope('{}', true);
        ELSE
            PERFORM portal_set_scope('{}', false);  -- may not go on: nothing
        END IF;
        RETURN QUERY SELECT found_staff.id, found_staff.email, found_staff.totp_confirmed_at,
            found_staff.alive, portal_scope_ids(), portal_scope_all();
    END
    $$
    """,
    "portal_api_client_principal(uuid)": """
    CREATE FUNCTION portal_api_client_principal(api_client_id uuid)
    RETURNS TABLE (
        id uuid, client_id text, account_id uuid, scopes text[], family uuid[], name text,
        allowed_operations text[], scope_ids uuid[], scope_all boolean
    )
    LANGUAGE plpgsql AS $$
    DECLARE
        found_client record;
    BEGIN
        -- The caller is not known yet: the system scope.
        PERFORM portal_set_scope('{}', true);
        SELECT c.id, c.client_id::text AS client_id, c.account_id,
               c.scopes::text[] AS scopes,
               (SELECT array_agg(a.id) FROM accounts AS a
                 WHERE a.id = c.account_id OR a.parent_account_id = c.account_id) AS family,
               c.name::text AS name, c.allowed_operations::text[] AS allowed_operations
          INTO found_client
          FROM api_clients AS c
         WHERE c.id = $1 AND c.revoked_at IS NULL;
        IF NOT FOUND THEN
            PERFORM portal_set_scope('{}', false);  -- may not go on: nothing
            RETURN;
        END IF;
        PERFORM portal_set_scope(found_client.family, false);
        RETURN QUERY SELECT found_client.id, found_client.client_id, found_client.account_id,
            found_client.scopes, found_client.family, found_client.name,
            found_client.allowed_operations, portal_scope_ids(), portal_scope_all();
    END
    $$
    """,
    "portal_provider_client_principal(uuid)": """
    CREATE FUNCTION portal_provider_client_principal(provider_client_id uuid)
    RETURNS TABLE (
        id uuid, client_id text, scopes text[], name text, scope_ids uuid[], scope_all boolean
    )
    LANGUAGE plpgsql AS $$
    DECLARE
        found_client record;
    BEGIN
        -- The caller is not known yet: the system scope.
        PERFORM portal_set_scope('{}', true);
        SELECT c.id, c.client_id::text AS client_id, c.scopes::text[] AS scopes,
               c.name::text AS name
          INTO found_client
          FROM provider_clients AS c
         WHERE c.id = $1 AND c.revoked_at IS NULL;
        IF NOT FOUND THEN
            PERFORM portal_set_scope('{}', false);  -- may not go on: nothing
            RETURN;
        END IF;
        -- The provider's systems post results for every employer, as staff do.
        PERFORM portal_set_scope('{}', true);
        RETURN QUERY SELECT found_client.id, found_client.client_id, found_client.scopes,
            found_client.name, portal_scope_ids(), portal_scope_all();
    END
    $$
    """,
}


def upgrade() -> None:
    for statement in FUNCTIONS.values():
        op.execute(statement)


def downgrade() -> None:
    for signature in reversed(FUNCTIONS):
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
