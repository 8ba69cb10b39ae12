"""Writing email and webhook deliveries into the outbox, in the caller's transaction.

A change and the messages it causes commit together or not at all; the worker
(``portal.mail.worker``) delivers them afterwards, with retries. Email bodies never carry PHI:
they say that something happened and link to the portal.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import OutboxMessage
from portal.models.enums import OutboxChannel, WebhookEvent

WEBHOOK_TOPICS = frozenset(event.value for event in WebhookEvent)


def enqueue_email(
    *,
    session: AsyncSession,
    account_id: uuid.UUID | None,
    topic: str,
    to: str,
    subject: str,
    text: str,
) -> OutboxMessage:
    """Queue one plain-text email; ``topic`` names its kind (``password_reset``, ...)."""
    message = OutboxMessage(
        account_id=account_id,
        channel=OutboxChannel.EMAIL,
        topic=topic,
        payload={"to": to, "subject": subject, "text": text},
    )
    session.add(message)
    return message


def enqueue_webhook_event(
    *, session: AsyncSession, account_id: uuid.UUID, topic: str, data: dict[str, Any]
) -> OutboxMessage:
    """Queue an event for the webhook endpoints that may see the object of ``account_id`` (its
    own, and its third-party administrator's). ``topic`` is one of the catalog
    (``WebhookEvent``); ``data`` names objects by their global ids (``portal.ids.global_id``),
    never by raw row ids, and never holds PHI."""
    if topic not in WEBHOOK_TOPICS:
        raise ValueError(f"{topic!r} is not in the webhook event catalog")
    message = OutboxMessage(
        account_id=account_id,
        channel=OutboxChannel.WEBHOOK,
        topic=topic,
        payload={"event": topic, "data": data},
    )
    session.add(message)
    return message
