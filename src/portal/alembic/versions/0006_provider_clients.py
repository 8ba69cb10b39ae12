"""provider clients: the provider's own systems posting visits and results

``provider_clients`` is not a tenant table: a provider client records visits for any account's
employees (like staff) and is looked up by its client id before any principal exists. The audit
trail names it as its own kind of actor, ``PROVIDER_CLIENT``.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ACTOR_TYPES = ("USER", "STAFF", "API_CLIENT", "ANONYMOUS", "SYSTEM")


def _allow_actor_types(values: Sequence[str], *, check_existing: bool) -> None:
    listed = ", ".join(f"'{value}'" for value in values)
    # The trail is append-only: going back cannot rewrite rows a provider client left, so the
    # narrower check then binds new rows only (NOT VALID).
    suffix = "" if check_existing else " NOT VALID"
    op.execute("ALTER TABLE audit_events DROP CONSTRAINT ck_audit_events_actor_type")
    op.execute(
        "ALTER TABLE audit_events ADD CONSTRAINT ck_audit_events_actor_type "
        f"CHECK (actor_type IN ({listed})){suffix}"
    )


def upgrade() -> None:
    _allow_actor_types((*ACTOR_TYPES, "PROVIDER_CLIENT"), check_existing=True)
    op.create_table(
        "provider_clients",
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("secret_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("scopes", sa.ARRAY(sa.String(length=64)), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("cardinality(scopes) > 0", name=op.f("ck_provider_clients_has_scopes")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_clients")),
        sa.UniqueConstraint("client_id", name=op.f("uq_provider_clients_client_id")),
    )


def downgrade() -> None:
    _allow_actor_types(ACTOR_TYPES, check_existing=False)
    op.drop_table("provider_clients")
