"""Webhooks: endpoints, the event catalog, the delivery log, and the mutations managing them.

Who may manage them (docs/design-decisions.md, "Who may do what"): User Admins, and API clients
holding `webhooks:manage`."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Any, Self, cast

import strawberry
from strawberry.scalars import JSON

from portal import models
from portal.auth.principal import ViewerRole
from portal.models.enums import AuditResult, WebhookDeliveryStatus, WebhookDisabledReason
from portal.models.enums import WebhookEvent as EventName
from portal.resolvers.audit import AuditEntry
from portal.resolvers.errors import PortalError
from portal.resolvers.webhooks import deliveries as delivery_resolvers
from portal.resolvers.webhooks import endpoints as endpoint_resolvers
from portal.schema.context import Info
from portal.schema.payloads import MutationPayload, UserError
from portal.schema.permissions import requires, rule
from portal.schema.relay import (
    Connection,
    PortalNode,
    decode_global_id,
    global_id,
    page_request,
    to_connection,
)
from portal.webhooks.addresses import redacted_url

MANAGE_WEBHOOKS = rule(ViewerRole.USER_ADMIN, scope="webhooks:manage")


@strawberry.enum(
    name="WebhookEvent",
    description=(
        "The webhook event catalog. The body's `type` is the event's dotted name (shown first in "
        "each description); `data` holds the global ids of the objects (fetch them with "
        "`node(id:)`), never personal or health information."
    ),
)
class WebhookEvent(Enum):
    DOCUMENT_POSTED = strawberry.enum_value(
        EventName.DOCUMENT_POSTED.value,
        description="`document.posted`: a result or report was posted for a visit. Data: "
        "`documentId`, `visitId`, `reportType` (code), `postedAt`.",
    )
    DOCUMENT_RETRACTED = strawberry.enum_value(
        EventName.DOCUMENT_RETRACTED.value,
        description="`document.retracted`: a document was withdrawn as received in error; "
        "the receiver must purge its copy. Data: `documentId`, `retractedAt`.",
    )
    AUTHORIZATION_CREATED = strawberry.enum_value(
        EventName.AUTHORIZATION_CREATED.value,
        description="`authorization.created`: an authorization of services was created. "
        "Data: `authorizationId`.",
    )
    AUTHORIZATION_SENT = strawberry.enum_value(
        EventName.AUTHORIZATION_SENT.value,
        description="`authorization.sent`: an authorization was sent to the medical center and "
        "its recipients. Data: `authorizationId`.",
    )
    AUTHORIZATION_EXPIRED = strawberry.enum_value(
        EventName.AUTHORIZATION_EXPIRED.value,
        description="`authorization.expired`: an active authorization passed its end date "
        "unused (once per end date). Data: `authorizationId`, `validUntil`.",
    )
    VISIT_STATUS_CHANGED = strawberry.enum_value(
        EventName.VISIT_STATUS_CHANGED.value,
        description="`visit.status_changed`: a visit moved on (checked out, results pending, "
        "complete). Data: `visitId`, `from`, `to`.",
    )
    SUPPORT_REQUEST_STATUS_CHANGED = strawberry.enum_value(
        EventName.SUPPORT_REQUEST_STATUS_CHANGED.value,
        description="`support_request.status_changed`: a support request's status changed. "
        "Data: `supportRequestId`, `from`, `to`.",
    )

    @classmethod
    def of(cls, name: str) -> WebhookEvent | None:
        """The member whose dotted name is ``name`` (None for ``webhook.test``)."""
        found = cls._value2member_map_.get(name)
        return cast("WebhookEvent | None", found)

    def to_model(self) -> EventName:
        return EventName(cast("str", self.value))


strawberry_delivery_status = strawberry.enum(
    WebhookDeliveryStatus,
    name="WebhookDeliveryStatus",
    description="PENDING (waiting or retrying), DELIVERED (a 2xx answer) or FAILED (no more "
    "attempts; resend it with `resendWebhookDelivery`).",
)
strawberry_disabled_reason = strawberry.enum(
    WebhookDisabledReason,
    name="WebhookDisabledReason",
    description="MANUAL (turned off with `updateWebhook`) or FAILING (every attempt failed for "
    "a day; the account's User Admins were emailed).",
)


@strawberry.type(description="One POST of a delivery and what came back.")
class WebhookAttempt:
    attempted_at: datetime
    status_code: int | None = strawberry.field(description="The HTTP status; null if none came.")
    latency_ms: int | None
    error: str | None = strawberry.field(description="Why the attempt failed, if it did.")
    response_excerpt: str | None = strawberry.field(
        description="The start of the response body (at most 1 KB is kept)."
    )

    @classmethod
    def from_row(cls, row: models.WebhookAttempt) -> Self:
        return cls(
            attempted_at=row.attempted_at,
            status_code=row.status_code,
            latency_ms=row.latency_ms,
            error=row.error,
            response_excerpt=row.response_excerpt,
        )


@strawberry.type(description="One event for one webhook endpoint, and its attempts.")
class WebhookDelivery(PortalNode):
    node_rule = MANAGE_WEBHOOKS
    id: strawberry.relay.NodeID[uuid.UUID]
    event_id: str = strawberry.field(
        description="The event's id, sent as `webhook-id` (the same on every retry and resend)."
    )
    event_type: str = strawberry.field(
        description="The body's `type`: an event of the catalog, or `webhook.test`."
    )
    event: WebhookEvent | None = strawberry.field(description="Null for a test event.")
    test: bool = strawberry.field(description="Sent by `sendTestWebhook`.")
    status: WebhookDeliveryStatus
    attempt_count: int
    next_attempt_at: datetime | None = strawberry.field(
        description="When it is tried next (PENDING only)."
    )
    delivered_at: datetime | None
    last_error: str | None
    created_at: datetime
    payload: JSON = strawberry.field(description="The JSON body, as sent.")

    @classmethod
    def from_row(cls, row: models.WebhookDelivery) -> Self:
        return cls(
            id=row.id,
            event_id=row.event_id,
            event_type=row.event_type,
            event=WebhookEvent.of(row.event_type),
            test=row.test,
            status=row.status,
            attempt_count=row.attempts,
            next_attempt_at=(
                row.next_attempt_at if row.status is WebhookDeliveryStatus.PENDING else None
            ),
            delivered_at=row.delivered_at,
            last_error=row.last_error,
            created_at=row.created_at,
            payload=cast("JSON", row.payload),
        )

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        return await delivery_resolvers.load_deliveries(
            session=info.context.session, scope=info.context.scope, ids=ids
        )

    @strawberry.field(description="Every attempt, oldest first.")
    async def attempts(self, info: Info) -> list[WebhookAttempt]:
        rows = await info.context.loaders.webhook_attempts.load(self.id)
        return [WebhookAttempt.from_row(row) for row in rows]


@strawberry.input(description="Narrow the delivery log; both criteria are optional.")
class WebhookDeliveryFilter:
    status: WebhookDeliveryStatus | None = None
    event: WebhookEvent | None = None


@strawberry.type(
    description="An endpoint receiving the account's events (its secret is never "
    "shown again after `createWebhook` or `rotateWebhookSecret`)."
)
class Webhook(PortalNode):
    node_rule = MANAGE_WEBHOOKS
    id: strawberry.relay.NodeID[uuid.UUID]
    url: str
    description: str | None
    events: list[WebhookEvent]
    enabled: bool
    disabled_reason: WebhookDisabledReason | None
    disabled_at: datetime | None
    failing_since: datetime | None = strawberry.field(
        description="The first failed attempt of the current run of failures."
    )
    previous_secret_expires_at: datetime | None = strawberry.field(
        description="Until then the secret replaced by the last rotation signs too."
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: models.WebhookEndpoint) -> Self:
        return cls(
            id=row.id,
            url=row.url,
            description=row.description,
            events=[event for event in map(WebhookEvent.of, row.events) if event is not None],
            enabled=row.enabled,
            disabled_reason=row.disabled_reason,
            disabled_at=row.disabled_at,
            failing_since=row.failing_since,
            previous_secret_expires_at=row.previous_secret_expires_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        return await endpoint_resolvers.load_webhooks(
            session=info.context.session, scope=info.context.scope, ids=ids
        )

    @strawberry.field(description="The delivery log, newest first.")
    async def deliveries(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        filter: WebhookDeliveryFilter | None = None,
    ) -> Connection[WebhookDelivery]:
        given = filter or WebhookDeliveryFilter()
        page = await delivery_resolvers.list_deliveries(
            session=info.context.session,
            scope=info.context.scope,
            webhook_id=self.id,
            page=page_request(first, after, last, before),
            filter=delivery_resolvers.DeliveryFilter(
                status=given.status,
                event=given.event.to_model() if given.event is not None else None,
            ),
        )
        return to_connection(page, WebhookDelivery.from_row)


@strawberry.input
class CreateWebhookInput:
    url: str = strawberry.field(description="https:// (at most 2048 characters).")
    events: list[WebhookEvent]
    description: str | None = None


@strawberry.input(description="Only the fields given change.")
class UpdateWebhookInput:
    id: strawberry.ID
    url: str | None = None
    events: list[WebhookEvent] | None = None
    description: str | None = None
    enabled: bool | None = strawberry.field(
        default=None,
        description="false stops deliveries (waiting events are kept); true resumes them.",
    )


@strawberry.input
class WebhookIdInput:
    id: strawberry.ID


@strawberry.input
class SendTestWebhookInput:
    webhook_id: strawberry.ID


@strawberry.type
class CreateWebhookPayload(MutationPayload):
    webhook: Webhook | None
    secret: str | None = strawberry.field(
        description="The `whsec_` signing secret, shown only in this answer: store it now."
    )


@strawberry.type
class UpdateWebhookPayload(MutationPayload):
    webhook: Webhook | None


@strawberry.type
class RotateWebhookSecretPayload(MutationPayload):
    webhook: Webhook | None
    secret: str | None = strawberry.field(
        description="The new `whsec_` secret, shown only in this answer. Until "
        "`webhook.previousSecretExpiresAt` every event carries a signature with each secret."
    )


@strawberry.type
class DeleteWebhookPayload(MutationPayload):
    deleted_webhook_id: strawberry.ID | None


@strawberry.type
class WebhookDeliveryPayload(MutationPayload):
    delivery: WebhookDelivery | None


def _errors(error: PortalError) -> list[UserError]:
    return [UserError.from_error(error)]


def _audit(info: Info, action: str, row: models.WebhookEndpoint, **details: Any) -> None:
    info.context.audit(
        AuditEntry(
            action=action,
            result=AuditResult.ALLOWED,
            account_id=row.account_id,
            object_ids=(str(row.id),),
            details=details,
        )
    )


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        description="Register an endpoint for your account's events; answers its signing "
        "secret once.",
        extensions=[requires(MANAGE_WEBHOOKS)],
    )
    async def create_webhook(
        self, info: Info, input: CreateWebhookInput
    ) -> CreateWebhookPayload | None:
        try:
            created = await endpoint_resolvers.create_webhook(
                session=info.context.session,
                principal=info.context.principal,
                settings=info.context.settings,
                url=input.url,
                events=[event.to_model() for event in input.events],
                description=input.description,
            )
        except PortalError as error:
            return CreateWebhookPayload(webhook=None, secret=None, user_errors=_errors(error))
        _audit(
            info,
            "webhook.created",
            created.row,
            url=redacted_url(created.row.url),
            events=created.row.events,
        )
        return CreateWebhookPayload(
            webhook=Webhook.from_row(created.row), secret=created.secret, user_errors=[]
        )

    @strawberry.mutation(
        description="Change an endpoint's URL, events, description, or turn it off and on.",
        extensions=[requires(MANAGE_WEBHOOKS)],
    )
    async def update_webhook(
        self, info: Info, input: UpdateWebhookInput
    ) -> UpdateWebhookPayload | None:
        try:
            row, changed = await endpoint_resolvers.update_webhook(
                session=info.context.session,
                principal=info.context.principal,
                settings=info.context.settings,
                webhook_id=decode_global_id(input.id, expected=Webhook),
                url=input.url,
                events=[e.to_model() for e in input.events] if input.events is not None else None,
                description=input.description,
                enabled=input.enabled,
            )
        except PortalError as error:
            return UpdateWebhookPayload(webhook=None, user_errors=_errors(error))
        if changed:
            _audit(
                info,
                "webhook.updated",
                row,
                changed=changed,
                url=redacted_url(row.url),
                events=row.events,
            )
        return UpdateWebhookPayload(webhook=Webhook.from_row(row), user_errors=[])

    @strawberry.mutation(
        description="Replace the signing secret; the old one keeps signing beside the new one "
        "for a grace period (24 hours by default). Answers the new secret once.",
        extensions=[requires(MANAGE_WEBHOOKS)],
    )
    async def rotate_webhook_secret(
        self, info: Info, input: WebhookIdInput
    ) -> RotateWebhookSecretPayload | None:
        try:
            rotated = await endpoint_resolvers.rotate_secret(
                session=info.context.session,
                principal=info.context.principal,
                settings=info.context.settings,
                webhook_id=decode_global_id(input.id, expected=Webhook),
            )
        except PortalError as error:
            return RotateWebhookSecretPayload(webhook=None, secret=None, user_errors=_errors(error))
        _audit(
            info,
            "webhook.secret_rotated",
            rotated.row,
            previousSecretExpiresAt=(
                rotated.row.previous_secret_expires_at.isoformat()
                if rotated.row.previous_secret_expires_at
                else None
            ),
        )
        return RotateWebhookSecretPayload(
            webhook=Webhook.from_row(rotated.row), secret=rotated.secret, user_errors=[]
        )

    @strawberry.mutation(
        description="Delete an endpoint and its delivery log; events waiting for it are dropped.",
        extensions=[requires(MANAGE_WEBHOOKS)],
    )
    async def delete_webhook(
        self, info: Info, input: WebhookIdInput
    ) -> DeleteWebhookPayload | None:
        try:
            row = await endpoint_resolvers.delete_webhook(
                session=info.context.session,
                principal=info.context.principal,
                webhook_id=decode_global_id(input.id, expected=Webhook),
            )
        except PortalError as error:
            return DeleteWebhookPayload(deleted_webhook_id=None, user_errors=_errors(error))
        _audit(info, "webhook.deleted", row, url=redacted_url(row.url))
        return DeleteWebhookPayload(deleted_webhook_id=global_id(Webhook, row.id), user_errors=[])

    @strawberry.mutation(
        description="Send a delivery's event again (same `webhook-id`), after the events "
        "already waiting for that endpoint.",
        extensions=[requires(MANAGE_WEBHOOKS)],
    )
    async def resend_webhook_delivery(
        self, info: Info, input: WebhookIdInput
    ) -> WebhookDeliveryPayload | None:
        try:
            delivery = await delivery_resolvers.resend_delivery(
                session=info.context.session,
                principal=info.context.principal,
                delivery_id=decode_global_id(input.id, expected=WebhookDelivery),
            )
        except PortalError as error:
            return WebhookDeliveryPayload(delivery=None, user_errors=_errors(error))
        info.context.audit(
            AuditEntry(
                action="webhook.delivery_resent",
                result=AuditResult.ALLOWED,
                account_id=delivery.account_id,
                object_ids=(str(delivery.endpoint_id), str(delivery.id)),
                details={"eventId": delivery.event_id, "eventType": delivery.event_type},
            )
        )
        return WebhookDeliveryPayload(delivery=WebhookDelivery.from_row(delivery), user_errors=[])

    @strawberry.mutation(
        description="Send a `webhook.test` event to an endpoint now (once, outside the order of "
        "real events, even when it is disabled); its delivery shows the outcome.",
        extensions=[requires(MANAGE_WEBHOOKS)],
    )
    async def send_test_webhook(
        self, info: Info, input: SendTestWebhookInput
    ) -> WebhookDeliveryPayload | None:
        try:
            delivery = await delivery_resolvers.send_test(
                session=info.context.session,
                principal=info.context.principal,
                webhook_id=decode_global_id(input.webhook_id, field="webhookId", expected=Webhook),
            )
        except PortalError as error:
            return WebhookDeliveryPayload(delivery=None, user_errors=_errors(error))
        info.context.audit(
            AuditEntry(
                action="webhook.test_sent",
                result=AuditResult.ALLOWED,
                account_id=delivery.account_id,
                object_ids=(str(delivery.endpoint_id), str(delivery.id)),
                details={"eventId": delivery.event_id},
            )
        )
        return WebhookDeliveryPayload(delivery=WebhookDelivery.from_row(delivery), user_errors=[])
