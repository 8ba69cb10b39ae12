"""Prepared downloads: a presigned one-time URL bound to the principal (and sign-in session) who
prepared it.

Not a tenant table: a third-party administrator's download spans its clients' accounts, and the
ticket is looked up by its hash before the request's scope is known. Access to every object is
checked again when the ticket is redeemed, so a retraction in between takes effect at once.

A redemption first *claims* the ticket for a short, renewed lease (``claim_id``,
``claimed_until``): a second request meanwhile is told the download is in progress. The ticket is
spent (``used_at``) only once its PDF has been delivered; a redemption that dies (a kill, a
dropped client) leaves it claimable again when its lease runs out, or at once when released.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from portal.models.base import fk, timestamp, uuid_pk

MAX_DOCUMENTS_PER_DOWNLOAD = 200
MAX_TICKET_KIND_LENGTH = 32


class DownloadTicket(SQLModel, table=True):
    __tablename__ = "download_tickets"
    __table_args__ = (
        sa.CheckConstraint(
            "num_nonnulls(user_id, staff_id, api_client_id) = 1", name="exactly_one_subject"
        ),
        sa.CheckConstraint(
            f"cardinality(object_ids) BETWEEN 1 AND {MAX_DOCUMENTS_PER_DOWNLOAD}",
            name="object_count_in_range",
        ),
        sa.CheckConstraint("expires_at > created_at", name="expires_after_creation"),
    )

    id: uuid.UUID = uuid_pk()
    token_hash: str = Field(max_length=64, unique=True)
    user_id: uuid.UUID | None = fk("portal_users.id", nullable=True, ondelete="CASCADE")
    staff_id: uuid.UUID | None = fk("staff_users.id", nullable=True, ondelete="CASCADE")
    api_client_id: uuid.UUID | None = fk("api_clients.id", nullable=True, ondelete="CASCADE")
    # What the ticket downloads (``TicketKind``: DOCUMENTS, ...); ``object_ids`` are read by kind.
    kind: str = Field(
        max_length=MAX_TICKET_KIND_LENGTH,
        default="DOCUMENTS",
        sa_column_kwargs={"server_default": "DOCUMENTS"},
    )
    # The sign-in session of the preparer (None for API clients and `portal token` tokens): the
    # URL dies with it.
    session_id: uuid.UUID | None = fk("auth_sessions.id", nullable=True, ondelete="CASCADE")
    # In the order asked: the merged PDF follows it.
    object_ids: list[uuid.UUID] = Field(sa_type=sa.ARRAY(sa.Uuid))
    created_at: datetime = timestamp(default_now=True)
    expires_at: datetime = timestamp()
    claim_id: uuid.UUID | None = Field(default=None, nullable=True)
    claimed_until: datetime | None = timestamp(nullable=True)
    used_at: datetime | None = timestamp(nullable=True)
