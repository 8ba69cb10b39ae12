"""The provider's own systems as OAuth2 clients (``portal create-provider-client``): they post
visits and results for every employer through the same GraphQL API staff use, holding only the
``ingestion:write`` scope. The secret is shown once and stored as an argon2id hash."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.passwords import hash_password
from portal.auth.scopes import INGESTION_SCOPE, PROVIDER_SCOPES
from portal.ids import parse_global_id
from portal.models import ProviderClient
from portal.models.base import utcnow
from portal.resolvers.api_clients import MAX_NAME_LENGTH
from portal.resolvers.display_text import check_display_text
from portal.resolvers.errors import BadUserInput, NotFound

CLIENT_ID_PREFIX = "ehp-provider-"


@dataclass(frozen=True, slots=True)
class CreatedProviderClient:
    row: ProviderClient
    client_secret: str


async def create_provider_client(
    *, session: AsyncSession, name: str, scopes: Sequence[str] = (INGESTION_SCOPE,)
) -> CreatedProviderClient:
    clean_name = name.strip()
    if not clean_name or len(clean_name) > MAX_NAME_LENGTH:
        raise BadUserInput(f"Give a name of 1 to {MAX_NAME_LENGTH} characters.", field="name")
    check_display_text(clean_name, field="name", what="A name")
    wanted = frozenset(scope.strip() for scope in scopes)
    unknown = sorted(wanted - PROVIDER_SCOPES)
    if not wanted or unknown:
        raise BadUserInput(
            f"A provider client holds scopes among: {', '.join(sorted(PROVIDER_SCOPES))}.",
            field="scopes",
        )
    secret = secrets.token_urlsafe(32)
    row = ProviderClient(
        client_id=CLIENT_ID_PREFIX + secrets.token_hex(12),
        secret_hash=hash_password(secret),
        name=clean_name,
        scopes=sorted(wanted),
    )
    session.add(row)
    await session.commit()
    return CreatedProviderClient(row=row, client_secret=secret)


async def revoke_provider_client(*, session: AsyncSession, client_id: str) -> ProviderClient:
    """Revoke by public client id, or by its id (global, as the CLI and the audit trail show
    it, or a raw UUID); its tokens stop working at their next request."""
    given = client_id.strip()
    condition = col(ProviderClient.client_id) == given
    row_id = _row_id(given)
    if row_id is not None:
        condition = sa.or_(condition, col(ProviderClient.id) == row_id)
    row = await session.scalar(sa.select(ProviderClient).where(condition).with_for_update())
    if row is None:
        raise NotFound("No provider client has this client id.", field="clientId")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.add(row)
    await session.commit()
    return row


def _row_id(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except ValueError:
        pass
    try:
        return parse_global_id(text, expected_type="ProviderClient")[1]
    except ValueError:
        return None
