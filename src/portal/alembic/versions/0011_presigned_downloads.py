"""presigned downloads: ticket kind, preparer's sign-in session, claim lease

``download_tickets`` gain the kind of download they are for (``object_ids`` generalises
``document_ids``), the sign-in session of the one who prepared them (the URL dies with it), and a
claim lease, so a ticket is spent only once its PDF has been delivered.

Revision ID: 0011
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.alter_column("download_tickets", "document_ids", new_column_name="object_ids")
    op.execute(
        "ALTER TABLE download_tickets RENAME CONSTRAINT "
        "ck_download_tickets_document_count_in_range TO ck_download_tickets_object_count_in_range"
    )
    op.add_column(
        "download_tickets",
        sa.Column(
            "kind",
            sqlmodel.sql.sqltypes.AutoString(length=32),
            server_default="DOCUMENTS",
            nullable=False,
        ),
    )
    op.add_column("download_tickets", sa.Column("session_id", sa.Uuid(), nullable=True))
    op.add_column("download_tickets", sa.Column("claim_id", sa.Uuid(), nullable=True))
    op.add_column(
        "download_tickets",
        sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_foreign_key(
        op.f("fk_download_tickets_session_id_auth_sessions"),
        "download_tickets",
        "auth_sessions",
        ["session_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index(
        op.f("ix_download_tickets_session_id"), "download_tickets", ["session_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_download_tickets_session_id"), table_name="download_tickets")
    op.drop_constraint(
        op.f("fk_download_tickets_session_id_auth_sessions"), "download_tickets", type_="foreignkey"
    )
    op.drop_column("download_tickets", "claimed_until")
    op.drop_column("download_tickets", "claim_id")
    op.drop_column("download_tickets", "session_id")
    op.drop_column("download_tickets", "kind")
    op.execute(
        "ALTER TABLE download_tickets RENAME CONSTRAINT "
        "ck_download_tickets_object_count_in_range TO ck_download_tickets_document_count_in_range"
    )
    op.alter_column("download_tickets", "object_ids", new_column_name="document_ids")
