"""one-time tokens, recovery codes, download tickets, document storage class

``one_time_tokens`` (emailed reset and invitation links), ``recovery_codes`` and
``download_tickets`` are not tenant tables: each is looked up by the hash of a secret before a
principal or an account scope is known, only by the code that owns it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "one_time_tokens",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum(
                "PASSWORD_RESET",
                "INVITATION",
                name="one_time_token_purpose",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("staff_id", sa.Uuid(), nullable=True),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "purpose <> 'INVITATION' OR user_id IS NOT NULL",
            name=op.f("ck_one_time_tokens_invitations_are_for_users"),
        ),
        sa.CheckConstraint(
            "(user_id IS NOT NULL AND staff_id IS NULL) OR (staff_id IS NOT NULL AND user_id IS NULL)",
            name=op.f("ck_one_time_tokens_exactly_one_subject"),
        ),
        sa.CheckConstraint(
            "expires_at > created_at", name=op.f("ck_one_time_tokens_expires_after_creation")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_one_time_tokens_staff_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["portal_users.id"],
            name=op.f("fk_one_time_tokens_user_id_portal_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_one_time_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_one_time_tokens_token_hash")),
    )
    op.create_index(
        op.f("ix_one_time_tokens_staff_id"), "one_time_tokens", ["staff_id"], unique=False
    )
    op.create_index(
        op.f("ix_one_time_tokens_user_id"), "one_time_tokens", ["user_id"], unique=False
    )
    op.create_table(
        "recovery_codes",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("staff_id", sa.Uuid(), nullable=True),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(user_id IS NOT NULL AND staff_id IS NULL) OR (staff_id IS NOT NULL AND user_id IS NULL)",
            name=op.f("ck_recovery_codes_exactly_one_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_recovery_codes_staff_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["portal_users.id"],
            name=op.f("fk_recovery_codes_user_id_portal_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_recovery_codes_code_hash")),
    )
    op.create_index(
        op.f("ix_recovery_codes_staff_id"), "recovery_codes", ["staff_id"], unique=False
    )
    op.create_index(op.f("ix_recovery_codes_user_id"), "recovery_codes", ["user_id"], unique=False)
    op.create_table(
        "download_tickets",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("staff_id", sa.Uuid(), nullable=True),
        sa.Column("api_client_id", sa.Uuid(), nullable=True),
        sa.Column("document_ids", sa.ARRAY(sa.Uuid()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "cardinality(document_ids) BETWEEN 1 AND 200",
            name=op.f("ck_download_tickets_document_count_in_range"),
        ),
        sa.CheckConstraint(
            "expires_at > created_at", name=op.f("ck_download_tickets_expires_after_creation")
        ),
        sa.CheckConstraint(
            "num_nonnulls(user_id, staff_id, api_client_id) = 1",
            name=op.f("ck_download_tickets_exactly_one_subject"),
        ),
        sa.ForeignKeyConstraint(
            ["api_client_id"],
            ["api_clients.id"],
            name=op.f("fk_download_tickets_api_client_id_api_clients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_users.id"],
            name=op.f("fk_download_tickets_staff_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["portal_users.id"],
            name=op.f("fk_download_tickets_user_id_portal_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_download_tickets")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_download_tickets_token_hash")),
    )
    op.create_index(
        op.f("ix_download_tickets_api_client_id"),
        "download_tickets",
        ["api_client_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_download_tickets_staff_id"), "download_tickets", ["staff_id"], unique=False
    )
    op.create_index(
        op.f("ix_download_tickets_user_id"), "download_tickets", ["user_id"], unique=False
    )
    op.add_column(
        "documents",
        sa.Column(
            "storage_class",
            sa.Enum(
                "STANDARD",
                "COLD",
                name="storage_class",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            server_default="STANDARD",
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("documents", "storage_class")
    op.drop_index(op.f("ix_download_tickets_user_id"), table_name="download_tickets")
    op.drop_index(op.f("ix_download_tickets_staff_id"), table_name="download_tickets")
    op.drop_index(op.f("ix_download_tickets_api_client_id"), table_name="download_tickets")
    op.drop_table("download_tickets")
    op.drop_index(op.f("ix_recovery_codes_user_id"), table_name="recovery_codes")
    op.drop_index(op.f("ix_recovery_codes_staff_id"), table_name="recovery_codes")
    op.drop_table("recovery_codes")
    op.drop_index(op.f("ix_one_time_tokens_user_id"), table_name="one_time_tokens")
    op.drop_index(op.f("ix_one_time_tokens_staff_id"), table_name="one_time_tokens")
    op.drop_table("one_time_tokens")
