"""account administration: pending login emails, email-change links, access request decisions

- ``portal_users.pending_email``: a new login email waiting for its owner to confirm it from the
  link sent to that address (the old address gets a notice);
- ``one_time_tokens.purpose`` gains ``EMAIL_CHANGE`` (for users only);
- ``access_requests.decision_note``: why a User Admin declined (or a remark on the approval).

Revision ID: 0009
Revises: 0006
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0009"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PURPOSES = ("PASSWORD_RESET", "INVITATION")


def _allow_purposes(values: Sequence[str]) -> None:
    listed = ", ".join(f"'{value}'" for value in values)
    op.execute(
        "ALTER TABLE one_time_tokens DROP CONSTRAINT ck_one_time_tokens_one_time_token_purpose"
    )
    op.execute(
        "ALTER TABLE one_time_tokens ADD CONSTRAINT ck_one_time_tokens_one_time_token_purpose "
        f"CHECK (purpose IN ({listed}))"
    )


def upgrade() -> None:
    op.add_column(
        "portal_users",
        sa.Column("pending_email", sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    )
    op.create_check_constraint(
        op.f("ck_portal_users_pending_email_format"),
        "portal_users",
        "pending_email ~ '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$'",
    )
    _allow_purposes((*PURPOSES, "EMAIL_CHANGE"))
    op.create_check_constraint(
        op.f("ck_one_time_tokens_email_changes_are_for_users"),
        "one_time_tokens",
        "purpose <> 'EMAIL_CHANGE' OR user_id IS NOT NULL",
    )
    op.add_column(
        "access_requests",
        sa.Column("decision_note", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("access_requests", "decision_note")
    op.drop_constraint(
        op.f("ck_one_time_tokens_email_changes_are_for_users"), "one_time_tokens", type_="check"
    )
    op.execute("DELETE FROM one_time_tokens WHERE purpose = 'EMAIL_CHANGE'")
    _allow_purposes(PURPOSES)
    op.drop_constraint(op.f("ck_portal_users_pending_email_format"), "portal_users", type_="check")
    op.drop_column("portal_users", "pending_email")
