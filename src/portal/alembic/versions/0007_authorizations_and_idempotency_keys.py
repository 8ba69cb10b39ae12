"""authorizations and idempotency keys

Authorizations: per-recipient send history (``authorization_events.recipient_email`` and the
``RESENT`` kind), each account's default validity and own email domains (where an authorization,
which is PHI, may be emailed) and archived service packages. (An authorization's printable PDF
is a download ticket of kind ``AUTHORIZATION``: see migration 0011.)

``idempotency_keys``: a client-chosen key per principal and operation, the hash of the input and
the first answer, for 24 hours. Its unique index is what makes two concurrent calls with one key
wait for each other. Row-level security as on every tenant table: a user's or API client's keys
carry their account; staff keys carry none and are visible to system scope only.

Revision ID: 0007
Revises: 0010
Create Date: 2026-11-30 06:58:21.243258
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# New tenant tables and the column naming their account (the policy of migration 0002).
TENANT_TABLES: dict[str, str] = {"idempotency_keys": "account_id"}

EVENT_KINDS = ("CREATED", "SENT", "EXTENDED", "CANCELLED", "USED", "DELETED")


def _event_kinds(kinds: Sequence[str]) -> None:
    listed = ", ".join(f"'{kind}'" for kind in kinds)
    op.execute(
        "ALTER TABLE authorization_events DROP CONSTRAINT ck_authorization_events_authorization_event_kind"
    )
    op.execute(
        "ALTER TABLE authorization_events ADD CONSTRAINT "
        f"ck_authorization_events_authorization_event_kind CHECK (kind IN ({listed}))"
    )


RLS_ON = [
    statement
    for table, column in TENANT_TABLES.items()
    for statement in (
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_scope ON {table} USING (portal_scope_allows({column})) "
        f"WITH CHECK (portal_scope_allows({column}))",
    )
]
RLS_OFF = [
    statement
    for table in TENANT_TABLES
    for statement in (
        f"DROP POLICY IF EXISTS tenant_scope ON {table}",
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
    )
]


def upgrade() -> None:
    op.create_table(
        "idempotency_keys",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("principal_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("principal_id", sa.Uuid(), nullable=False),
        sa.Column("operation", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("request_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("result", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "expires_at > created_at", name=op.f("ck_idempotency_keys_expires_after_creation")
        ),
        sa.CheckConstraint(
            "length(key) BETWEEN 1 AND 200", name=op.f("ck_idempotency_keys_key_length")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_idempotency_keys_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotency_keys")),
        sa.UniqueConstraint(
            "principal_kind",
            "principal_id",
            "operation",
            "key",
            name="uq_idempotency_keys_principal_operation_key",
        ),
    )
    op.create_index(
        "ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"], unique=False
    )
    for statement in RLS_ON:
        op.execute(statement)
    op.add_column(
        "accounts",
        sa.Column("authorization_validity_days", sa.Integer(), server_default="30", nullable=False),
    )
    op.create_check_constraint(
        op.f("ck_accounts_authorization_validity_range"),
        "accounts",
        "authorization_validity_days BETWEEN 1 AND 365",
    )
    op.add_column(
        "accounts",
        sa.Column(
            "email_domains",
            sa.ARRAY(sa.String(length=253)),
            server_default=sa.text("'{}'::varchar[]"),
            nullable=False,
        ),
    )
    op.add_column(
        "authorization_events",
        sa.Column("recipient_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    )
    _event_kinds((*EVENT_KINDS, "RESENT"))
    op.add_column(
        "service_packages", sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("service_packages", "archived_at")
    op.execute("DELETE FROM authorization_events WHERE kind = 'RESENT'")
    _event_kinds(EVENT_KINDS)
    op.drop_column("authorization_events", "recipient_email")
    op.drop_column("accounts", "email_domains")
    op.drop_constraint(op.f("ck_accounts_authorization_validity_range"), "accounts", type_="check")
    op.drop_column("accounts", "authorization_validity_days")
    for statement in RLS_OFF:
        op.execute(statement)
    op.drop_index("ix_idempotency_keys_expires_at", table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
