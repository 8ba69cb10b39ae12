"""Prepared merged-PDF downloads: a one-time URL bound to the principal who prepared it.

Not a tenant table: a third-party administrator's download spans its clients' accounts, and the
ticket is looked up by its hash before the request's scope is known. Access to every document is
checked again when the ticket is redeemed, so a retraction in between takes effect at once.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.models.base import fk, timestamp, uuid_pk

MAX_DOCUMENTS_PER_DOWNLOAD = 200


class DownloadTicket(SQLModel, table=True):
    __tablename__ = "download_tickets"
    __table_args__ = (
        sa.CheckConstraint(
            "num_nonnulls(user_id, staff_id, api_client_id) = 1", name="exactly_one_subject"
        ),
        sa.CheckConstraint(
            "authorization_id IS NOT NULL OR "
            f"cardinality(document_ids) BETWEEN 1 AND {MAX_DOCUMENTS_PER_DOWNLOAD}",
            name="document_count_in_range",
        ),
        # The second kind of ticket: one authorization's printable PDF, no documents.
        sa.CheckConstraint(
            "authorization_id IS NULL OR cardinality(document_ids) = 0",
            name="authorization_or_documents",
        ),
        sa.CheckConstraint("expires_at > created_at", name="expires_after_creation"),
    )

    id: uuid.UUID = uuid_pk()
    token_hash: str = Field(max_length=64, unique=True)
    user_id: uuid.UUID | None = fk("portal_users.id", nullable=True, ondelete="CASCADE")
    staff_id: uuid.UUID | None = fk("staff_users.id", nullable=True, ondelete="CASCADE")
    api_client_id: uuid.UUID | None = fk("api_clients.id", nullable=True, ondelete="CASCADE")
    # In the order asked: the merged PDF follows it.
    document_ids: list[uuid.UUID] = Field(sa_type=sa.ARRAY(sa.Uuid))
    # Set for an authorization's printable PDF (then no documents).
    authorization_id: uuid.UUID | None = fk(
        "authorizations.id", nullable=True, ondelete="CASCADE", index=False
    )
    created_at: datetime = timestamp(default_now=True)
    expires_at: datetime = timestamp()
    used_at: datetime | None = timestamp(nullable=True)
