"""The ``Authorization`` type and what hangs from it: services, recipients, history, creator."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry

from portal import models
from portal.auth.principal import ViewerRole
from portal.models.enums import (
    AuthorizationEventKind,
    AuthorizationStatus,
    Modality,
    RecipientKind,
)
from portal.resolvers.authorizations.records import ActorName, AuthorizationRecord
from portal.schema.accounts import LOCATION, Account, Location, account_field
from portal.schema.catalog import MEDICAL_CENTER, MedicalCenter, Service
from portal.schema.context import Info
from portal.schema.employees import AUTHORIZATIONS_READ, EMPLOYEE, VISITS_READ, Employee
from portal.schema.permissions import requires, rule
from portal.schema.reads import PhiNode
from portal.schema.related import related
from portal.schema.service_packages import ServicePackage

if TYPE_CHECKING:
    from portal.schema.visits import Visit

strawberry_authorization_status = strawberry.enum(
    AuthorizationStatus,
    name="AuthorizationStatus",
    description="Derived when read: CANCELLED once cancelled, USED once a visit used it, EXPIRED "
    "after its last valid day, otherwise ACTIVE.",
)
strawberry_modality = strawberry.enum(
    Modality,
    name="Modality",
    description="How the employee is seen: at a center, by telemedicine at a center, by "
    "telemedicine, or by telerehab.",
)
strawberry_event_kind = strawberry.enum(
    AuthorizationEventKind,
    name="AuthorizationEventKind",
    description="What happened to an authorization.",
)
strawberry_recipient_kind = strawberry.enum(
    RecipientKind, name="RecipientKind", description="The employee, or another named person."
)


@strawberry.enum(description="Who acted: a portal user or an HR system's API client.")
class AuthorizationActorKind(StrEnum):
    USER = "USER"
    API_CLIENT = "API_CLIENT"


# See authorizations (AUTHORIZATIONS_READ, declared with the employees): a User Admin all of the
# account's (a third-party administrator its clients'), a Basic user only their own (filtered in
# SQL), staff all, and HR systems holding `authorizations:read`.
# Create, send, extend, cancel: the account's people (a Basic user on their own) and HR systems
# holding `authorizations:write`; not staff.
AUTHORIZATIONS_WRITE = rule(ViewerRole.USER_ADMIN, ViewerRole.BASIC, scope="authorizations:write")
# Delete: User Admins only.
AUTHORIZATIONS_DELETE = rule(ViewerRole.USER_ADMIN)


@strawberry.type(description="Who created or changed an authorization.")
class AuthorizationActor:
    kind: AuthorizationActorKind
    name: str | None = strawberry.field(
        description="The person's name or the API client's name (null once removed)."
    )
    email: str | None


async def actor_of(
    info: Info, user_id: uuid.UUID | None, client_id: uuid.UUID | None
) -> AuthorizationActor | None:
    loaders = info.context.loaders
    found: ActorName | None
    if user_id is not None:
        found = await loaders.user_name.load(user_id)
        return AuthorizationActor(
            kind=AuthorizationActorKind.USER,
            name=found.name if found else None,
            email=found.email if found else None,
        )
    if client_id is not None:
        found = await loaders.api_client_name.load(client_id)
        return AuthorizationActor(
            kind=AuthorizationActorKind.API_CLIENT,
            name=found.name if found else None,
            email=None,
        )
    return None


@strawberry.type(description="Someone the authorization is emailed to.")
class AuthorizationRecipient:
    kind: RecipientKind
    name: str | None
    email: str
    sent_at: datetime | None = strawberry.field(description="When it was last emailed to them.")

    @classmethod
    def from_row(cls, row: models.AuthorizationRecipient) -> Self:
        return cls(kind=row.kind, name=row.name, email=row.email, sent_at=row.sent_at)


@strawberry.type(description="One entry of an authorization's history.")
class AuthorizationHistoryEntry:
    kind: AuthorizationEventKind
    at: datetime
    previous_valid_until: date | None = strawberry.field(
        description="EXTENDED: the end date before."
    )
    new_valid_until: date | None = strawberry.field(description="EXTENDED: the new end date.")
    recipient_email: str | None = strawberry.field(
        description="SENT / RESENT: the address emailed; null for the electronic delivery to "
        "the medical center."
    )
    note: str | None
    actor_user_id: strawberry.Private[uuid.UUID | None]
    actor_client_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_row(cls, row: models.AuthorizationEvent) -> Self:
        return cls(
            kind=row.kind,
            at=row.created_at,
            previous_valid_until=row.previous_valid_until,
            new_valid_until=row.new_valid_until,
            recipient_email=row.recipient_email,
            note=row.note,
            actor_user_id=row.actor_user_id,
            actor_client_id=row.actor_client_id,
        )

    @strawberry.field(description="Who did it (null for the system, e.g. a check-in).")
    async def actor(self, info: Info) -> AuthorizationActor | None:
        return await actor_of(info, self.actor_user_id, self.actor_client_id)


@strawberry.type(description="An authorization of medical services for one employee.")
class Authorization(PhiNode):
    node_rule = AUTHORIZATIONS_READ
    phi_read_action = "authorizations.read"
    id: strawberry.relay.NodeID[uuid.UUID]
    number: str = strawberry.field(
        description="The number the front desk scans (the QR code on the printed authorization)."
    )
    status: AuthorizationStatus
    modality: Modality
    valid_from: date
    valid_until: date = strawberry.field(description="The last day it may be used.")
    special_instructions: str | None = strawberry.field(description="For the medical center.")
    created_at: datetime
    sent_at: datetime | None = strawberry.field(description="When it was last sent.")
    cancelled_at: datetime | None
    employee_id: strawberry.Private[uuid.UUID]
    location_id: strawberry.Private[uuid.UUID]
    medical_center_id: strawberry.Private[uuid.UUID | None]
    service_package_id: strawberry.Private[uuid.UUID | None]
    template_id: strawberry.Private[uuid.UUID | None]
    created_by_user_id: strawberry.Private[uuid.UUID | None]
    created_by_client_id: strawberry.Private[uuid.UUID | None]
    account_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: AuthorizationRecord) -> Self:
        return cls(
            id=row.id,
            number=row.number,
            status=row.status,
            modality=row.modality,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            special_instructions=row.special_instructions,
            created_at=row.created_at,
            sent_at=row.sent_at,
            cancelled_at=row.cancelled_at,
            employee_id=row.employee_id,
            location_id=row.location_id,
            medical_center_id=row.medical_center_id,
            service_package_id=row.service_package_id,
            template_id=row.template_id,
            created_by_user_id=row.created_by_user_id,
            created_by_client_id=row.created_by_client_id,
            account_id=row.account_id,
        )

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        return cls.audited(info, await info.context.loaders.authorization.load_many(ids))

    account: Account | None = account_field()

    employee: Employee | None = related(
        EMPLOYEE, key="employee_id", description="The employee authorized."
    )
    location: Location | None = related(
        LOCATION, key="location_id", description="The employee's location it is for."
    )
    medical_center: MedicalCenter | None = related(
        MEDICAL_CENTER,
        key="medical_center_id",
        description="Where to go (null for telemedicine and telerehab).",
    )

    @strawberry.field(description="The services authorized, by name.")
    async def services(self, info: Info) -> list[Service]:
        rows = await info.context.loaders.authorization_services.load(self.id)
        return [Service.from_row(row) for row in rows]

    @strawberry.field(description="The service package it was made with, if any.")
    async def service_package(self, info: Info) -> ServicePackage | None:
        if self.service_package_id is None:
            return None
        row = await info.context.loaders.service_package.load(self.service_package_id)
        return ServicePackage.from_row(row) if row else None

    @strawberry.field(description="Who it is emailed to, with when each was last sent.")
    async def recipients(self, info: Info) -> list[AuthorizationRecipient]:
        rows = await info.context.loaders.authorization_recipients.load(self.id)
        return [AuthorizationRecipient.from_row(row) for row in rows]

    @strawberry.field(description="Who created it: a portal user or an HR system.")
    async def created_by(self, info: Info) -> AuthorizationActor | None:
        return await actor_of(info, self.created_by_user_id, self.created_by_client_id)

    @strawberry.field(
        description="The authorization it was made from (createAuthorizationsFromTemplate), "
        "when you may see that one."
    )
    async def template(self, info: Info) -> Authorization | None:
        if self.template_id is None:
            return None
        row = await info.context.loaders.authorization.load(self.template_id)
        return Authorization.read(info, row) if row else None

    @strawberry.field(description="The visit that used it.", extensions=[requires(VISITS_READ)])
    async def visit(
        self, info: Info
    ) -> Annotated[Visit, strawberry.lazy("portal.schema.visits")] | None:
        from portal.schema.visits import Visit

        row = await info.context.loaders.visit_by_authorization.load(self.id)
        return Visit.read(info, row) if row else None

    @strawberry.field(
        description="Created, sent and re-sent (per recipient), extended (old and new end "
        "dates), used, cancelled: oldest first."
    )
    async def history(self, info: Info) -> list[AuthorizationHistoryEntry]:
        rows = await info.context.loaders.authorization_events.load(self.id)
        return [AuthorizationHistoryEntry.from_row(row) for row in rows]
