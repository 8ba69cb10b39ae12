"""Writing checked authorizations (set-based: one INSERT per table whatever their number) and
sending them: an outbox event for the medical center's integration (ids only), and an email to
each recipient (no PHI in the body) with the printable PDF attached by reference."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.principal import Principal, PrincipalKind
from portal.ids import global_id
from portal.models import (
    Authorization,
    AuthorizationEvent,
    AuthorizationRecipient,
    AuthorizationService,
    Employee,
    OutboxMessage,
)
from portal.models.base import utcnow
from portal.models.enums import (
    AuthorizationEventKind,
    AuthorizationState,
    OutboxChannel,
    OutboxStatus,
    RecipientKind,
)
from portal.resolvers.authorizations.drafts import Ready
from portal.resolvers.outbox import (
    AUTHORIZATION_PDF,
    attachment,
    email_payload,
    webhook_payload,
)

EMAIL_TOPIC = "authorization"
# Rows per multi-row INSERT: a 500-employee call (1,500 history rows) takes one statement a table.
INSERT_PAGE_ROWS = 5000
EMPLOYEE_SUBJECT = "Your authorization for medical services"
OTHER_SUBJECT = "An authorization for medical services"
EMAIL_TEXT = (
    "Hello,\n\n"
    "An authorization for medical services was issued through the Employer Health Portal. "
    "The printable authorization is attached (PDF): bring it, printed or on a phone, with a "
    "photo ID. The front desk scans the code on it at check-in.\n\n"
    "This email holds no health information; the attachment does. Do not forward it.\n"
)


def actor_columns(principal: Principal) -> dict[str, uuid.UUID | None]:
    user = principal.id if principal.kind is PrincipalKind.USER else None
    client = principal.id if principal.kind is PrincipalKind.API_CLIENT else None
    return {"user": user, "client": client}


@dataclass(frozen=True, slots=True)
class Send:
    """One send of one authorization: to the center's integration and to these recipients."""

    authorization_id: uuid.UUID
    account_id: uuid.UUID
    medical_center_id: uuid.UUID | None
    # (email, recipient kind, first time to this address?)
    recipients: tuple[tuple[str, RecipientKind, bool], ...]


def history_row(
    authorization_id: uuid.UUID,
    account_id: uuid.UUID,
    kind: AuthorizationEventKind,
    at: datetime,
    principal: Principal,
    *,
    recipient_email: str | None = None,
    note: str | None = None,
    previous_valid_until: Any = None,
    new_valid_until: Any = None,
) -> dict[str, Any]:
    actor = actor_columns(principal)
    return {
        "id": uuid.uuid4(),
        "authorization_id": authorization_id,
        "account_id": account_id,
        "kind": kind,
        "previous_valid_until": previous_valid_until,
        "new_valid_until": new_valid_until,
        "actor_user_id": actor["user"],
        "actor_client_id": actor["client"],
        "note": note,
        "recipient_email": recipient_email,
        "created_at": at,
        "updated_at": at,
    }


def _outbox(
    account_id: uuid.UUID, channel: OutboxChannel, topic: str, payload: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "account_id": account_id,
        "channel": channel,
        "topic": topic,
        "payload": payload,
        "status": OutboxStatus.PENDING,
    }


def send_rows(
    sends: Iterable[Send], principal: Principal, at: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The history rows (one per recipient, one for the center) and outbox rows of ``sends``."""
    events: list[dict[str, Any]] = []
    outbox: list[dict[str, Any]] = []
    for send in sends:
        events.append(
            history_row(
                send.authorization_id,
                send.account_id,
                AuthorizationEventKind.SENT,
                at,
                principal,
                note="Sent electronically to the medical center."
                if send.medical_center_id
                else "Sent electronically to the provider.",
            )
        )
        outbox.append(
            _outbox(
                send.account_id,
                OutboxChannel.WEBHOOK,
                "authorization.sent",
                webhook_payload(
                    "authorization.sent",
                    {
                        "authorizationId": global_id("Authorization", send.authorization_id),
                        "medicalCenterId": (
                            global_id("MedicalCenter", send.medical_center_id)
                            if send.medical_center_id
                            else None
                        ),
                    },
                ),
            )
        )
        for email, recipient_kind, first_time in send.recipients:
            kind = AuthorizationEventKind.SENT if first_time else AuthorizationEventKind.RESENT
            events.append(
                history_row(
                    send.authorization_id,
                    send.account_id,
                    kind,
                    at,
                    principal,
                    recipient_email=email,
                )
            )
            outbox.append(
                _outbox(
                    send.account_id,
                    OutboxChannel.EMAIL,
                    EMAIL_TOPIC,
                    email_payload(
                        to=email,
                        subject=subject_for(recipient_kind),
                        text=EMAIL_TEXT,
                        attachments=[attachment(AUTHORIZATION_PDF, send.authorization_id)],
                    ),
                )
            )
    return events, outbox


async def insert_rows(session: AsyncSession, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` as one multi-row ``INSERT ... VALUES (...), (...)`` (SQLAlchemy's
    "insertmanyvalues", chosen by asking for RETURNING; split only past the driver's bind
    parameter limit), on the model's table: not a round trip per row, and not the ORM's bulk
    insert, which splits rows by the columns they leave null. Nothing when there are none."""
    if rows:
        table = model.__table__
        key = next(iter(table.primary_key.columns))
        await session.execute(
            sa.insert(table)
            .returning(key)
            .execution_options(insertmanyvalues_page_size=INSERT_PAGE_ROWS),
            list(rows),
        )


async def insert_authorizations(
    *, session: AsyncSession, principal: Principal, ready: Sequence[Ready], send: bool
) -> None:
    """Insert checked authorizations with their new employees, services, recipients, history
    and messages: a fixed number of statements whatever their number."""
    now = utcnow()
    sent_at = now + timedelta(microseconds=1) if send else None
    actor = actor_columns(principal)
    await insert_rows(
        session, Employee, [r.new_employee for r in ready if r.new_employee is not None]
    )
    await insert_rows(
        session,
        Authorization,
        [
            {
                "id": r.id,
                "account_id": r.account_id,
                "number": r.number,
                "employee_id": r.employee_id,
                "location_id": r.location_id,
                "modality": r.modality,
                "medical_center_id": r.medical_center_id,
                "valid_from": r.valid_from,
                "valid_until": r.valid_until,
                "special_instructions": r.special_instructions,
                "state": AuthorizationState.ACTIVE,
                "created_by_user_id": actor["user"],
                "created_by_client_id": actor["client"],
                "template_id": r.template_id,
                "service_package_id": r.service_package_id,
                "sent_at": sent_at,
                "created_at": now,
                "updated_at": now,
            }
            for r in ready
        ],
    )
    await insert_rows(
        session,
        AuthorizationService,
        [
            {"authorization_id": r.id, "service_id": s, "account_id": r.account_id}
            for r in ready
            for s in r.service_ids
        ],
    )
    await insert_rows(
        session,
        AuthorizationRecipient,
        [
            {
                "id": uuid.uuid4(),
                "authorization_id": r.id,
                "account_id": r.account_id,
                "kind": kind,
                "name": name,
                "email": email,
                "sent_at": sent_at,
            }
            for r in ready
            for kind, name, email in r.recipients
        ],
    )
    events = [
        history_row(r.id, r.account_id, AuthorizationEventKind.CREATED, now, principal)
        for r in ready
    ]
    outbox = [
        _outbox(
            r.account_id,
            OutboxChannel.WEBHOOK,
            "authorization.created",
            webhook_payload(
                "authorization.created",
                {
                    "authorizationId": global_id("Authorization", r.id),
                    "employeeId": global_id("Employee", r.employee_id),
                    "locationId": global_id("Location", r.location_id),
                },
            ),
        )
        for r in ready
    ]
    if send and sent_at is not None:
        sent_events, sent_outbox = send_rows(
            (
                Send(
                    authorization_id=r.id,
                    account_id=r.account_id,
                    medical_center_id=r.medical_center_id,
                    recipients=tuple((email, kind, True) for kind, _, email in r.recipients),
                )
                for r in ready
            ),
            principal,
            sent_at,
        )
        events += sent_events
        outbox += sent_outbox
    await insert_rows(session, AuthorizationEvent, events)
    await insert_rows(session, OutboxMessage, outbox)


def subject_for(kind: RecipientKind) -> str:
    return EMPLOYEE_SUBJECT if kind is RecipientKind.EMPLOYEE else OTHER_SUBJECT
