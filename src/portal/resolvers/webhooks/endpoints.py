"""Webhook endpoints of an account: register (the secret answered once), list, change, rotate
the secret with a grace period, delete.

Endpoints belong to the caller's account; a third-party administrator also manages its employer
clients' endpoints (the request's account scope). An API client subscribes only to events about
objects its scopes let it read."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal, PrincipalKind
from portal.models import WebhookEndpoint
from portal.models.base import utcnow
from portal.models.db import AccountScope
from portal.models.enums import WebhookDisabledReason, WebhookEvent
from portal.models.webhooks import MAX_URL_LENGTH
from portal.resolvers.display_text import check_display_text
from portal.resolvers.errors import BadUserInput, ErrorCode, Forbidden, NotFound, PortalError
from portal.resolvers.pagination import Page, PageRequest, SortKey, paginate
from portal.settings import Settings
from portal.webhooks.addresses import UnsafeUrl, safe_addresses
from portal.webhooks.signing import new_secret

MAX_DESCRIPTION_LENGTH = 500
MAX_ENDPOINTS_PER_ACCOUNT = 20
MAX_EVENTS_LISTED = 20
UNKNOWN_WEBHOOK = "No webhook has this id."

# The scope an API client needs to hear of each event's object (support requests: none).
EVENT_SCOPES: dict[WebhookEvent, str | None] = {
    WebhookEvent.DOCUMENT_POSTED: "documents:read",
    WebhookEvent.DOCUMENT_RETRACTED: "documents:read",
    WebhookEvent.AUTHORIZATION_CREATED: "authorizations:read",
    WebhookEvent.AUTHORIZATION_SENT: "authorizations:read",
    WebhookEvent.AUTHORIZATION_EXPIRED: "authorizations:read",
    WebhookEvent.VISIT_STATUS_CHANGED: "visits:read",
    WebhookEvent.SUPPORT_REQUEST_STATUS_CHANGED: None,
}


@dataclass(frozen=True, slots=True)
class EndpointWithSecret:
    row: WebhookEndpoint
    secret: str


async def checked_url(url: str, *, settings: Settings) -> str:
    """The URL, trimmed, if webhooks may be sent there (scheme, form and every address)."""
    cleaned = url.strip()
    if not cleaned or len(cleaned) > MAX_URL_LENGTH:
        raise BadUserInput(f"Give a URL of 1 to {MAX_URL_LENGTH} characters.", field="url")
    try:
        await safe_addresses(
            cleaned,
            allow_http=settings.webhook_http_allowed,
            allowed_networks=settings.webhook_allowed_networks,
        )
    except UnsafeUrl as refused:
        raise PortalError(str(refused), code=ErrorCode.UNSAFE_URL, field="url") from refused
    return cleaned


def checked_events(principal: Principal, events: Sequence[WebhookEvent]) -> list[str]:
    if not events:
        raise BadUserInput("Subscribe to at least one event.", field="events")
    if len(events) > MAX_EVENTS_LISTED:
        raise BadUserInput(f"List at most {MAX_EVENTS_LISTED} events.", field="events")
    chosen = sorted({WebhookEvent(event) for event in events}, key=list(WebhookEvent).index)
    if principal.kind is PrincipalKind.API_CLIENT:
        unreadable = [
            event.value
            for event in chosen
            if EVENT_SCOPES[event] is None or EVENT_SCOPES[event] not in principal.scopes
        ]
        if unreadable:
            raise Forbidden(
                "This API client may not read the objects of: " + ", ".join(unreadable) + ".",
                field="events",
            )
    return [event.value for event in chosen]


def checked_description(description: str | None) -> str | None:
    if description is None:
        return None
    cleaned = description.strip()
    if len(cleaned) > MAX_DESCRIPTION_LENGTH:
        raise BadUserInput(
            f"A description has at most {MAX_DESCRIPTION_LENGTH} characters.", field="description"
        )
    check_display_text(cleaned, field="description", what="A description", allow_line_breaks=True)
    return cleaned or None


async def create_webhook(
    *,
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    url: str,
    events: Sequence[WebhookEvent],
    description: str | None,
) -> EndpointWithSecret:
    account_id = principal.account_id
    if account_id is None:
        raise Forbidden("Only a User Admin or an API client of an account registers webhooks.")
    clean_description = checked_description(description)
    chosen = checked_events(principal, events)
    clean_url = await checked_url(url, settings=settings)
    # Serialise creations per account so the limit holds under concurrency.
    await session.execute(
        sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(str(account_id), 0)))
    )
    count = await session.scalar(
        sa.select(sa.func.count()).where(col(WebhookEndpoint.account_id) == account_id)
    )
    if (count or 0) >= MAX_ENDPOINTS_PER_ACCOUNT:
        raise PortalError(
            f"An account has at most {MAX_ENDPOINTS_PER_ACCOUNT} webhooks; delete one first.",
            code=ErrorCode.LIMIT_REACHED,
        )
    secret = new_secret()
    row = WebhookEndpoint(
        account_id=account_id,
        url=clean_url,
        description=clean_description,
        events=chosen,
        secret=secret,
        created_by_user_id=principal.id if principal.kind is PrincipalKind.USER else None,
        created_by_client_id=principal.id if principal.kind is PrincipalKind.API_CLIENT else None,
    )
    session.add(row)
    await session.commit()
    return EndpointWithSecret(row=row, secret=secret)


async def locked_webhook(
    *, session: AsyncSession, scope: AccountScope, webhook_id: uuid.UUID, field: str = "id"
) -> WebhookEndpoint:
    row = await session.scalar(
        sa.select(WebhookEndpoint)
        .where(col(WebhookEndpoint.id) == webhook_id, scope.filter(col(WebhookEndpoint.account_id)))
        .with_for_update()
    )
    if row is None:
        raise NotFound(UNKNOWN_WEBHOOK, field=field)
    return row


async def update_webhook(
    *,
    session: AsyncSession,
    principal: Principal,
    settings: Settings,
    webhook_id: uuid.UUID,
    url: str | None = None,
    events: Sequence[WebhookEvent] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> tuple[WebhookEndpoint, list[str]]:
    """Change what is given; answers the row and the names of the fields that changed."""
    clean_description = checked_description(description)
    chosen = checked_events(principal, events) if events is not None else None
    clean_url = await checked_url(url, settings=settings) if url is not None else None
    row = await locked_webhook(session=session, scope=principal.scope, webhook_id=webhook_id)
    changed: list[str] = []
    if clean_url is not None and clean_url != row.url:
        row.url = clean_url
        row.failing_since = None  # a new destination starts with a clean record
        changed.append("url")
    if chosen is not None and chosen != list(row.events):
        row.events = chosen
        changed.append("events")
    if description is not None and clean_description != row.description:
        row.description = clean_description
        changed.append("description")
    if enabled is not None and enabled != row.enabled:
        row.enabled = enabled
        row.disabled_reason = None if enabled else WebhookDisabledReason.MANUAL
        row.disabled_at = None if enabled else utcnow()
        row.failing_since = None
        changed.append("enabled")
    if changed:
        row.updated_at = utcnow()
        session.add(row)
    await session.commit()
    return row, changed


async def rotate_secret(
    *, session: AsyncSession, principal: Principal, settings: Settings, webhook_id: uuid.UUID
) -> EndpointWithSecret:
    """A new secret signs from now on; the current one keeps signing too for the grace period
    (a rotation inside a grace period ends the older one's at once)."""
    row = await locked_webhook(session=session, scope=principal.scope, webhook_id=webhook_id)
    now = utcnow()
    secret = new_secret()
    if settings.webhook_secret_grace_seconds > 0:
        row.previous_secret = row.secret
        row.previous_secret_expires_at = now + timedelta(
            seconds=settings.webhook_secret_grace_seconds
        )
    else:
        row.previous_secret = None
        row.previous_secret_expires_at = None
    row.secret = secret
    row.updated_at = now
    session.add(row)
    await session.commit()
    return EndpointWithSecret(row=row, secret=secret)


async def delete_webhook(
    *, session: AsyncSession, principal: Principal, webhook_id: uuid.UUID
) -> WebhookEndpoint:
    """Delete the endpoint with its delivery log; events waiting for it are dropped."""
    row = await locked_webhook(session=session, scope=principal.scope, webhook_id=webhook_id)
    await session.delete(row)
    await session.commit()
    return row


async def load_webhooks(
    *, session: AsyncSession, scope: AccountScope, ids: Sequence[uuid.UUID]
) -> list[WebhookEndpoint | None]:
    rows = await session.scalars(
        sa.select(WebhookEndpoint).where(
            col(WebhookEndpoint.id).in_(ids), scope.filter(col(WebhookEndpoint.account_id))
        )
    )
    by_id = {row.id: row for row in rows}
    return [by_id.get(i) for i in ids]


async def list_webhooks(
    *, session: AsyncSession, scope: AccountScope, account_id: uuid.UUID, page: PageRequest
) -> Page[WebhookEndpoint]:
    statement = sa.select(WebhookEndpoint).where(
        col(WebhookEndpoint.account_id) == account_id,
        scope.filter(col(WebhookEndpoint.account_id)),
    )
    return await paginate(
        session=session,
        statement=statement,
        keys=[
            SortKey(col(WebhookEndpoint.created_at), python_type=type(utcnow())),
            SortKey(col(WebhookEndpoint.id), python_type=uuid.UUID),
        ],
        request=page,
        convert=lambda row: row,
    )
