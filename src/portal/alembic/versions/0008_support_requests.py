"""support requests: numbering, internal notes, status history, resolution

- ``support_request_numbers``: the sequence request numbers (``SR-000123``) are drawn from; it
  starts after the highest number already stored, so existing (demo) requests keep theirs;
- ``support_comments.internal``: staff notes employers never see;
- ``support_requests.visit_status``, ``resolved_at``, ``resolution``: the visit's status when a
  missing-results request was opened, when the request was last resolved (the requester may
  reopen it for 14 days), and what the requester is told of the outcome;
- ``support_request_status_changes``: every change of status, with who and when (a tenant
  table: row-level security like every other);
- indexes on ``support_requests.document_id`` and ``visit_id`` (``Document.supportRequests``,
  ``Visit.supportRequests``).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("NEW", "IN_PROGRESS", "RESOLVED", "CLOSED")
VISIT_STATUSES = ("CHECKED_IN", "CHECKED_OUT", "RESULTS_PENDING", "COMPLETE")


def _enum(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.execute("CREATE SEQUENCE support_request_numbers")
    op.execute(
        "SELECT setval('support_request_numbers', "
        "coalesce((SELECT max(substring(number FROM '[0-9]+$')::bigint) "
        "FROM support_requests), 0) + 1, false)"
    )
    op.add_column(
        "support_comments",
        sa.Column("internal", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "support_requests",
        sa.Column("visit_status", _enum(VISIT_STATUSES, "visit_status"), nullable=True),
    )
    op.add_column(
        "support_requests", sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "support_requests",
        sa.Column("resolution", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    )
    for column in ("document_id", "visit_id"):
        op.create_index(
            op.f(f"ix_support_requests_{column}"), "support_requests", [column], unique=False
        )
    op.create_table(
        "support_request_status_changes",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("support_request_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("from_status", _enum(STATUSES, "from_status"), nullable=True),
        sa.Column("to_status", _enum(STATUSES, "to_status"), nullable=False),
        sa.Column("changed_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("changed_by_staff_id", sa.Uuid(), nullable=True),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "changed_by_user_id IS NULL OR changed_by_staff_id IS NULL",
            name=op.f("ck_support_request_status_changes_one_actor"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_support_request_status_changes_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_staff_id"],
            ["staff_users.id"],
            name=op.f("fk_support_request_status_changes_changed_by_staff_id_staff_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["changed_by_user_id"],
            ["portal_users.id"],
            name=op.f("fk_support_request_status_changes_changed_by_user_id_portal_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["support_request_id"],
            ["support_requests.id"],
            name=op.f("fk_support_request_status_changes_support_request_id_support_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_support_request_status_changes")),
    )
    op.create_index(
        op.f("ix_support_request_status_changes_support_request_id"),
        "support_request_status_changes",
        ["support_request_id"],
        unique=False,
    )
    for statement in (
        "ALTER TABLE support_request_status_changes ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE support_request_status_changes FORCE ROW LEVEL SECURITY",
        "CREATE POLICY tenant_scope ON support_request_status_changes "
        "USING (portal_scope_allows(account_id)) WITH CHECK (portal_scope_allows(account_id))",
    ):
        op.execute(statement)


def downgrade() -> None:
    op.drop_index(
        op.f("ix_support_request_status_changes_support_request_id"),
        table_name="support_request_status_changes",
    )
    op.drop_table("support_request_status_changes")
    for column in ("document_id", "visit_id"):
        op.drop_index(op.f(f"ix_support_requests_{column}"), table_name="support_requests")
    op.drop_column("support_requests", "resolution")
    op.drop_column("support_requests", "resolved_at")
    op.drop_column("support_requests", "visit_status")
    op.drop_column("support_comments", "internal")
    op.execute("DROP SEQUENCE support_request_numbers")
