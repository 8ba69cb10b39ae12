"""Checking authorizations before anything is written, set-based for one or for 500.

A ``Draft`` is what a caller asks for; ``check_drafts`` reads everything the drafts name in a
fixed number of statements (employees, locations, accounts, contacts, services, packages,
centers, likely duplicates) and answers, per draft, either a ``Ready`` authorization (every row to
insert) or its user errors with field paths. Nothing here writes."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.principal import Principal, PrincipalKind
from portal.ids import global_id
from portal.models import (
    Employee,
)
from portal.models.enums import CENTER_MODALITIES, Modality, RecipientKind
from portal.resolvers.authorizations.facts import Facts, load_facts
from portal.resolvers.authorizations.recipients import (
    EMAIL,
    MAX_EMAIL,
    check_recipients,
    clean_email,
)
from portal.resolvers.errors import BadUserInput, ErrorCode, NotFound, PortalError

MAX_VALIDITY_DAYS = 365
MAX_SERVICES = 50
MAX_INSTRUCTIONS = 2000
MAX_NAME = 100
MAX_EMPLOYEE_NUMBER = 32
MAX_PHONE = 32
# A little slack for time zones west of UTC: "today" there may still be yesterday here.
BACKDATING_DAYS = 1
NUMBER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True, slots=True)
class NewEmployee:
    first_name: str
    last_name: str
    date_of_birth: date
    location_id: uuid.UUID
    employee_number: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class RecipientDraft:
    email: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Draft:
    """One authorization asked for. ``employee_field`` prefixes the employee's fields in errors
    (``employees.3.`` in a bulk call); the other fields are named as given."""

    modality: Modality
    employee_id: uuid.UUID | None = None
    new_employee: NewEmployee | None = None
    location_id: uuid.UUID | None = None
    service_ids: tuple[uuid.UUID, ...] = ()
    service_package_id: uuid.UUID | None = None
    medical_center_id: uuid.UUID | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    special_instructions: str | None = None
    recipients: tuple[RecipientDraft, ...] = ()
    email_employee: bool = True
    template_id: uuid.UUID | None = None
    employee_field: str = ""


@dataclass(slots=True)
class Ready:
    """Every value of one authorization to insert (ids chosen here, so rows link up)."""

    id: uuid.UUID
    number: str
    account_id: uuid.UUID
    employee_id: uuid.UUID
    location_id: uuid.UUID
    modality: Modality
    medical_center_id: uuid.UUID | None
    valid_from: date
    valid_until: date
    special_instructions: str | None
    service_ids: tuple[uuid.UUID, ...]
    service_package_id: uuid.UUID | None
    template_id: uuid.UUID | None
    # (kind, name, email), the employee first when they receive it.
    recipients: list[tuple[RecipientKind, str | None, str]] = field(default_factory=list)
    new_employee: dict[str, object] | None = None


class InvalidDrafts(Exception):
    """Some drafts are refused: ``errors[i]`` lists draft i's user errors (empty when fine)."""

    def __init__(self, errors: Sequence[Sequence[PortalError]]) -> None:
        super().__init__("invalid authorization input")
        self.errors = [list(row) for row in errors]

    @property
    def flat(self) -> list[PortalError]:
        return [error for row in self.errors for error in row]


def new_number() -> str:
    """A random authorization number, ``AUTH-`` and 8 characters without look-alikes (I, O, 0,
    1): about 10^12 possibilities, so guessing one is hopeless and collisions are negligible
    (the unique constraint stays the last word)."""
    return "AUTH-" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))


def today() -> date:
    return datetime.now(UTC).date()


def _text(
    value: str | None, *, field: str, limit: int, required: bool, errors: list[PortalError]
) -> str | None:
    text = (value or "").strip() or None
    if text is None and required:
        errors.append(BadUserInput("This is required.", field=field))
    elif text is not None and len(text) > limit:
        errors.append(BadUserInput(f"At most {limit} characters.", field=field))
    return text


def _new_employee(
    draft: Draft,
    facts: Facts,
    errors: list[PortalError],
    seen: dict[tuple[uuid.UUID, str], int],
    seen_people: dict[tuple[uuid.UUID, str, str, date], int],
    index: int,
) -> Employee | None:
    given = draft.new_employee
    assert given is not None
    prefix = f"{draft.employee_field}newEmployee."
    before = len(errors)
    first = _text(
        given.first_name, field=prefix + "firstName", limit=MAX_NAME, required=True, errors=errors
    )
    last = _text(
        given.last_name, field=prefix + "lastName", limit=MAX_NAME, required=True, errors=errors
    )
    number = _text(
        given.employee_number,
        field=prefix + "employeeNumber",
        limit=MAX_EMPLOYEE_NUMBER,
        required=True,
        errors=errors,
    )
    email = clean_email(given.email)
    if email is not None and (len(email) > MAX_EMAIL or not EMAIL.match(email)):
        errors.append(BadUserInput("This is not an email address.", field=prefix + "email"))
    phone = _text(
        given.phone, field=prefix + "phone", limit=MAX_PHONE, required=False, errors=errors
    )
    if email is None and phone is None:
        errors.append(
            BadUserInput(
                "Give the employee's email or phone, to send the authorization.",
                field=prefix + "email",
            )
        )
    if not date(1900, 1, 2) <= given.date_of_birth <= today():
        errors.append(
            BadUserInput("This date of birth is not plausible.", field=prefix + "dateOfBirth")
        )
    location = facts.locations.get(given.location_id)
    if location is None:
        errors.append(NotFound("No location of yours has this id.", field=prefix + "locationId"))
        return None
    if len(errors) > before or first is None or last is None or number is None:
        return None
    account_id = location.account_id
    duplicate = facts.duplicates_by_number.get((account_id, number))
    person = (account_id, first.lower(), last.lower(), given.date_of_birth)
    duplicate = duplicate or facts.duplicates_by_person.get(person)
    if duplicate is not None:
        errors.append(
            PortalError(
                "This employee looks like one you already have (same employee number, or same "
                f"name and date of birth): {global_id('Employee', duplicate)}. Authorize that "
                "one by its id.",
                code=ErrorCode.DUPLICATE_EMPLOYEE,
                field=prefix
                + (
                    "employeeNumber"
                    if (account_id, number) in facts.duplicates_by_number
                    else "dateOfBirth"
                ),
            )
        )
        return None
    earlier = seen.get((account_id, number), seen_people.get(person))
    if earlier is not None:
        errors.append(
            PortalError(
                f"The same new employee is given twice (also at row {earlier}).",
                code=ErrorCode.DUPLICATE_EMPLOYEE,
                field=prefix + "employeeNumber",
            )
        )
        return None
    seen[(account_id, number)] = index
    seen_people[person] = index
    return Employee(
        id=uuid.uuid4(),
        account_id=account_id,
        location_id=location.id,
        first_name=first,
        last_name=last,
        date_of_birth=given.date_of_birth,
        employee_number=number,
        email=email,
        phone=phone,
    )


def _insert_values(employee: Employee) -> dict[str, object]:
    """The new employee's row, for the one INSERT of every new employee."""
    return {
        "id": employee.id,
        "account_id": employee.account_id,
        "location_id": employee.location_id,
        "first_name": employee.first_name,
        "last_name": employee.last_name,
        "date_of_birth": employee.date_of_birth,
        "employee_number": employee.employee_number,
        "email": employee.email,
        "phone": employee.phone,
    }


def _check_one(
    draft: Draft,
    facts: Facts,
    errors: list[PortalError],
    seen: dict[tuple[uuid.UUID, str], int],
    seen_people: dict[tuple[uuid.UUID, str, str, date], int],
    index: int,
) -> Ready | None:
    # The employee: an existing one, or a new one created with the authorization.
    employee_row: dict[str, object] | None = None
    if (draft.employee_id is None) == (draft.new_employee is None):
        errors.append(
            BadUserInput(
                "Give either an existing employee's id or a new employee.",
                field=f"{draft.employee_field}employeeId",
            )
        )
        return None
    if draft.employee_id is not None:
        employee = facts.employees.get(draft.employee_id)
        if employee is None:
            errors.append(
                NotFound(
                    "No employee of yours has this id.", field=f"{draft.employee_field}employeeId"
                )
            )
            return None
    else:
        made = _new_employee(draft, facts, errors, seen, seen_people, index)
        if made is None:
            return None
        employee = made
        employee_row = _insert_values(made)
    employee_id, account_id, home = employee.id, employee.account_id, employee.location_id
    employee_email = clean_email(employee.email)
    employee_name = f"{employee.first_name} {employee.last_name}"
    account = facts.accounts[account_id]

    location_id = draft.location_id or home
    location = facts.locations.get(location_id) if draft.location_id else None
    if draft.location_id is not None and (location is None or location.account_id != account_id):
        errors.append(
            NotFound("No location of this employee's account has this id.", field="locationId")
        )

    # Services: from the catalog and/or one of the account's packages.
    services: list[uuid.UUID] = []
    if len(draft.service_ids) > MAX_SERVICES:
        errors.append(BadUserInput(f"At most {MAX_SERVICES} services.", field="serviceIds"))
    for position, service_id in enumerate(draft.service_ids):
        if not facts.services.get(service_id, False):
            errors.append(
                NotFound("No active service has this id.", field=f"serviceIds.{position}")
            )
        services.append(service_id)
    package_id = draft.service_package_id
    if package_id is not None:
        package = facts.packages.get(package_id)
        if package is None or package.account_id != account_id:
            errors.append(
                NotFound(
                    "No service package of this account has this id.", field="servicePackageId"
                )
            )
        elif package.archived_at is not None:
            errors.append(
                BadUserInput("This service package is archived.", field="servicePackageId")
            )
        else:
            services.extend(
                s for s in facts.package_items.get(package_id, []) if facts.services.get(s)
            )
    services = list(dict.fromkeys(services))
    if not services and not any(
        e.field and e.field.startswith(("serviceIds", "servicePackageId")) for e in errors
    ):
        errors.append(
            BadUserInput("Choose at least one service or a service package.", field="serviceIds")
        )

    # Where: a center for the center modalities (active; telemedicine-capable for
    # CENTER_TELEMEDICINE), none for telemedicine and telerehab.
    center_id = draft.medical_center_id
    if draft.modality in CENTER_MODALITIES:
        center = facts.centers.get(center_id) if center_id else None
        if center_id is None:
            errors.append(
                BadUserInput(
                    "Choose the medical center for this modality.", field="medicalCenterId"
                )
            )
        elif center is None:
            errors.append(NotFound("No medical center has this id.", field="medicalCenterId"))
        elif not center.is_active:
            errors.append(BadUserInput("This medical center is closed.", field="medicalCenterId"))
        elif draft.modality is Modality.CENTER_TELEMEDICINE and not center.telemedicine_capable:
            errors.append(
                BadUserInput(
                    "This medical center does not offer telemedicine.", field="medicalCenterId"
                )
            )
    elif center_id is not None:
        errors.append(
            BadUserInput(
                f"A {draft.modality.value} authorization has no medical center.",
                field="medicalCenterId",
            )
        )

    # When: from today (or the given day) for the account's default validity, at most a year.
    valid_from = draft.valid_from or today()
    if valid_from < today() - timedelta(days=BACKDATING_DAYS):
        errors.append(BadUserInput("An authorization cannot start in the past.", field="validFrom"))
    valid_until = draft.valid_until or valid_from + timedelta(
        days=account.authorization_validity_days
    )
    if valid_until < valid_from:
        errors.append(BadUserInput("The end is before the start.", field="validUntil"))
    elif (valid_until - valid_from).days > MAX_VALIDITY_DAYS:
        errors.append(
            BadUserInput(
                f"An authorization is valid for at most {MAX_VALIDITY_DAYS} days.",
                field="validUntil",
            )
        )
    instructions = _text(
        draft.special_instructions,
        field="specialInstructions",
        limit=MAX_INSTRUCTIONS,
        required=False,
        errors=errors,
    )

    recipients = check_recipients(
        draft.recipients,
        account=account,
        contact_emails=facts.contact_emails.get(account_id, set()),
        employee_email=employee_email,
        employee_name=employee_name,
        include_employee=draft.email_employee,
        errors=errors,
    )
    if errors:
        return None
    return Ready(
        id=uuid.uuid4(),
        number=new_number(),
        account_id=account_id,
        employee_id=employee_id,
        location_id=location_id,
        modality=draft.modality,
        medical_center_id=center_id if draft.modality in CENTER_MODALITIES else None,
        valid_from=valid_from,
        valid_until=valid_until,
        special_instructions=instructions,
        service_ids=tuple(services),
        service_package_id=package_id,
        template_id=draft.template_id,
        recipients=recipients,
        new_employee=employee_row,
    )


async def check_drafts(
    *, session: AsyncSession, principal: Principal, drafts: Sequence[Draft]
) -> list[Ready | list[PortalError]]:
    """Per draft, the authorization ready to insert or its user errors (nothing written)."""
    if principal.kind not in (PrincipalKind.USER, PrincipalKind.API_CLIENT):
        raise ValueError("only an account's people and HR systems create authorizations")
    facts = await load_facts(session, principal, drafts)
    seen: dict[tuple[uuid.UUID, str], int] = {}
    seen_people: dict[tuple[uuid.UUID, str, str, date], int] = {}
    answers: list[Ready | list[PortalError]] = []
    for index, draft in enumerate(drafts):
        errors: list[PortalError] = []
        ready = _check_one(draft, facts, errors, seen, seen_people, index)
        answers.append(ready if ready is not None and not errors else errors)
    return answers
