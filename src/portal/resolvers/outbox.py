"""Writing email and webhook deliveries into the outbox, in the caller's transaction.

A change and the messages it causes commit together or not at all; the worker
(``portal.mail.worker``) delivers them afterwards, with retries. Email bodies never carry PHI:
they say that something happened and link to the portal.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import OutboxMessage
from portal.models.enums import OutboxChannel, WebhookEvent

WEBHOOK_TOPICS = frozenset(event.value for event in WebhookEvent)

# An attachment is named by reference and rendered by the mail worker at delivery
# (``portal.mail.attachments``), so no PHI bytes wait in the outbox.
AUTHORIZATION_PDF = "authorization_pdf"


def attachment(kind: str, object_id: uuid.UUID) -> dict[str, str]:
    """A reference to an attachment the mail worker renders when it sends the email."""
    return {"kind": kind, "id": str(object_id)}


def email_payload(
    *, to: str, subject: str, text: str, attachments: Sequence[Mapping[str, str]] = ()
) -> dict[str, Any]:
    payload: dict[str, Any] = {"to": to, "subject": subject, "text": text}
    if attachments:
        payload["attachments"] = [dict(item) for item in attachments]
    return payload


def webhook_payload(topic: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"event": topic, "data": data}


def enqueue_email(
    *,
    session: AsyncSession,
    account_id: uuid.UUID | None,
    topic: str,
    to: str,
    subject: str,
    text: str,
    attachments: Sequence[Mapping[str, str]] = (),
) -> OutboxMessage:
    """Queue one plain-text email; ``topic`` names its kind (``password_reset``, ...).
    ``attachments`` are references (``attachment(...)``), rendered at delivery."""
    message = OutboxMessage(
        account_id=account_id,
        channel=OutboxChannel.EMAIL,
        topic=topic,
        payload=email_payload(to=to, subject=subject, text=text, attachments=attachments),
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
        payload=webhook_payload(topic, data),
    )
    session.add(message)
    return message
