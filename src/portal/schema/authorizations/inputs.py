"""Inputs of the authorization mutations, and their mapping to the resolvers' drafts (ids
decoded, list lengths bounded before any work)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

import strawberry

from portal.models.enums import Modality
from portal.resolvers.authorizations.drafts import MAX_SERVICES, Draft, NewEmployee, RecipientDraft
from portal.resolvers.authorizations.recipients import MAX_RECIPIENTS
from portal.resolvers.errors import BadUserInput
from portal.schema.accounts import Location
from portal.schema.authorizations.types import strawberry_modality
from portal.schema.catalog import MedicalCenter, Service
from portal.schema.employees import Employee
from portal.schema.relay import decode_global_id
from portal.schema.service_packages import ServicePackage

# The GraphQL enum is declared with the type, before any input refers to it.
MODALITY = strawberry_modality


@strawberry.input(description="A new employee, created with the authorization.")
class NewEmployeeInput:
    first_name: str
    last_name: str
    date_of_birth: date
    location_id: strawberry.ID
    employee_number: str
    email: str | None = strawberry.field(
        default=None, description="The employee's email or phone is required."
    )
    phone: str | None = None


@strawberry.input(
    description="Someone to email the authorization to: the employee, one of your account's "
    "contacts, or an address at your company's own email domains."
)
class RecipientInput:
    email: str
    name: str | None = None


@strawberry.input
class CreateAuthorizationInput:
    employee_id: strawberry.ID | None = strawberry.field(
        default=None, description="An existing employee; or give `newEmployee`."
    )
    new_employee: NewEmployeeInput | None = strawberry.field(
        default=None,
        description="A new employee, created in the same transaction; a likely duplicate (same "
        "employee number, or same name and date of birth) is DUPLICATE_EMPLOYEE.",
    )
    location_id: strawberry.ID | None = strawberry.field(
        default=None, description="Defaults to the employee's location."
    )
    service_ids: list[strawberry.ID] = strawberry.field(
        default_factory=list, description="Services from the catalog (at most 50)."
    )
    service_package_id: strawberry.ID | None = strawberry.field(
        default=None, description="One of your account's service packages: its services."
    )
    modality: Modality
    medical_center_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Required for IN_CENTER and CENTER_TELEMEDICINE (telemedicine-capable); "
        "refused for TELEMEDICINE and TELEREHAB.",
    )
    valid_from: date | None = strawberry.field(default=None, description="Defaults to today.")
    valid_until: date | None = strawberry.field(
        default=None,
        description="Defaults to your account's validity (`Account.authorizationValidityDays`); "
        "at most 365 days after the start.",
    )
    special_instructions: str | None = strawberry.field(
        default=None, description="For the medical center (at most 2000 characters)."
    )
    recipients: list[RecipientInput] = strawberry.field(
        default_factory=list, description="Besides the employee (at most 20)."
    )
    email_employee: bool = strawberry.field(
        default=True, description="Email the employee too, when they have an email address."
    )
    send: bool = strawberry.field(
        default=True, description="Send it now: to the center, and by email to the recipients."
    )
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="A key of your choosing: a retry with the same key and input answers the "
        "first result and writes nothing (kept 24 hours).",
    )


def bounded(values: Sequence[object], *, limit: int, field: str) -> None:
    if len(values) > limit:
        raise BadUserInput(f"At most {limit} items.", field=field)


def decode_optional(value: strawberry.ID | None, *, field: str, expected: type) -> uuid.UUID | None:
    return decode_global_id(value, field=field, expected=expected) if value else None


def new_employee(given: NewEmployeeInput | None, *, prefix: str = "") -> NewEmployee | None:
    if given is None:
        return None
    return NewEmployee(
        first_name=given.first_name,
        last_name=given.last_name,
        date_of_birth=given.date_of_birth,
        location_id=decode_global_id(
            given.location_id, field=f"{prefix}newEmployee.locationId", expected=Location
        ),
        employee_number=given.employee_number,
        email=given.email,
        phone=given.phone,
    )


def recipients(given: Sequence[RecipientInput]) -> tuple[RecipientDraft, ...]:
    bounded(given, limit=MAX_RECIPIENTS, field="recipients")
    return tuple(RecipientDraft(email=r.email, name=r.name) for r in given)


def to_draft(given: CreateAuthorizationInput) -> Draft:
    bounded(given.service_ids, limit=MAX_SERVICES, field="serviceIds")
    return Draft(
        modality=given.modality,
        employee_id=decode_optional(given.employee_id, field="employeeId", expected=Employee),
        new_employee=new_employee(given.new_employee),
        location_id=decode_optional(given.location_id, field="locationId", expected=Location),
        service_ids=tuple(
            decode_global_id(value, field=f"serviceIds.{index}", expected=Service)
            for index, value in enumerate(given.service_ids)
        ),
        service_package_id=decode_optional(
            given.service_package_id, field="servicePackageId", expected=ServicePackage
        ),
        medical_center_id=decode_optional(
            given.medical_center_id, field="medicalCenterId", expected=MedicalCenter
        ),
        valid_from=given.valid_from,
        valid_until=given.valid_until,
        special_instructions=given.special_instructions,
        recipients=recipients(given.recipients),
        email_employee=given.email_employee,
    )


@strawberry.input
class SendAuthorizationInput:
    id: strawberry.ID
    recipients: list[RecipientInput] | None = strawberry.field(
        default=None,
        description="Who to email (added to its recipients); omitted: everyone it was sent to "
        "before. The center always receives it again.",
    )
    idempotency_key: str | None = None


@strawberry.input
class PrepareAuthorizationDownloadInput:
    id: strawberry.ID


@strawberry.input
class ExtendAuthorizationInput:
    id: strawberry.ID
    valid_until: date = strawberry.field(description="Later than the current end.")
    note: str | None = None
    send: bool = strawberry.field(
        default=False, description="Send it again to the center and its recipients."
    )


@strawberry.input
class CancelAuthorizationInput:
    id: strawberry.ID
    reason: str | None = None


@strawberry.input
class DeleteAuthorizationInput:
    id: strawberry.ID


@strawberry.input(description="One employee of a bulk call: an existing one, or a new one.")
class TemplateEmployeeInput:
    employee_id: strawberry.ID | None = None
    new_employee: NewEmployeeInput | None = None


@strawberry.input
class CreateAuthorizationsFromTemplateInput:
    template_id: strawberry.ID = strawberry.field(
        description="An authorization whose services, modality, center and instructions each "
        "new one copies."
    )
    employees: list[TemplateEmployeeInput] = strawberry.field(
        description="At most 500; each gets its own authorization at its own location."
    )
    valid_from: date | None = None
    valid_until: date | None = None
    send: bool = True
    dry_run: bool = strawberry.field(
        default=False, description="Check every row and answer per-row errors; write nothing."
    )
    idempotency_key: str | None = None
