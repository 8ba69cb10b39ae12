"""persisted operations: an API client may be limited to an allow-list of operation hashes

``api_clients.allowed_operations`` holds the lowercase hex SHA-256 of each document the client may
run; empty (the default, and every existing client) means no restriction.

Revision ID: 0013
Revises: 0011
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "api_clients",
        sa.Column(
            "allowed_operations",
            sa.ARRAY(sa.String(length=64)),
            server_default=sa.text("'{}'::varchar[]"),
            nullable=False,
        ),
    )


def downgrade() -> None:
    op.drop_column("api_clients", "allowed_operations")
