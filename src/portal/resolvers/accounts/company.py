"""Company information and locations, changed by a User Admin of the account or by staff.

A location still referenced by employees, authorizations, report subscriptions, visits or
documents never vanishes silently: removing it answers LOCATION_IN_USE with what holds it, unless
``move_to`` names another location of the account, in which case every reference moves there and
the location is deleted in the same transaction (subscriptions already held at the target merge).
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import SQLModel, col

from portal.auth.principal import Principal
from portal.models import (
    Account,
    Authorization,
    Document,
    Employee,
    Location,
    ReportSubscription,
    Visit,
)
from portal.resolvers.accounts.targets import changed, lock_account, target_account_id
from portal.resolvers.accounts.validation import (
    MAX_NAME,
    AddressValue,
    normalize_phone,
    required_text,
)
from portal.resolvers.errors import BadUserInput, ErrorCode, NotFound, PortalError

UNKNOWN_LOCATION = "No location with this id in this account."


@dataclass(frozen=True, slots=True)
class AccountChanges:
    """What to change; None leaves a part as it is (an empty phone or fax clears it)."""

    name: str | None = None
    mailing_address: AddressValue | None = None
    billing_address: AddressValue | None = None
    main_phone: str | None = None
    fax: str | None = None


@dataclass(frozen=True, slots=True)
class LocationValues:
    name: str
    address: AddressValue
    phone: str | None


@dataclass(frozen=True, slots=True)
class LocationUsage:
    """What still refers to a location."""

    employees: int
    authorizations: int
    report_subscriptions: int
    visits: int
    documents: int

    @property
    def total(self) -> int:
        return sum(asdict(self).values())

    def describe(self) -> str:
        labels = {
            "employees": ("employee", "employees"),
            "authorizations": ("authorization", "authorizations"),
            "report_subscriptions": ("report subscription", "report subscriptions"),
            "visits": ("visit", "visits"),
            "documents": ("document", "documents"),
        }
        parts = [
            f"{count} {labels[key][0] if count == 1 else labels[key][1]}"
            for key, count in asdict(self).items()
            if count
        ]
        return ", ".join(parts)


class LocationInUse(PortalError):
    code = ErrorCode.LOCATION_IN_USE

    def __init__(self, usage: LocationUsage) -> None:
        super().__init__(
            f"This location is still used by {usage.describe()}. Pass `moveTo` with another "
            "location of the account to move them there and remove this one.",
            field="id",
        )
        self.usage = usage


def account_snapshot(account: Account) -> dict[str, Any]:
    return {
        "name": account.name,
        "mailingAddress": _address(
            account.mailing_street,
            account.mailing_city,
            account.mailing_state,
            account.mailing_postal_code,
        ),
        "billingAddress": _address(
            account.billing_street,
            account.billing_city,
            account.billing_state,
            account.billing_postal_code,
        ),
        "mainPhone": account.main_phone,
        "fax": account.fax,
    }


def location_snapshot(location: Location) -> dict[str, Any]:
    return {
        "name": location.name,
        "address": _address(location.street, location.city, location.state, location.postal_code),
        "phone": location.phone,
    }


def _address(street: str | None, city: str | None, state: str | None, zip_: str | None) -> Any:
    return {"street": street, "city": city, "state": state, "postalCode": zip_}


async def update_account(
    *,
    session: AsyncSession,
    principal: Principal,
    account_id: uuid.UUID | None,
    changes: AccountChanges,
) -> tuple[Account, dict[str, Any], dict[str, Any]]:
    """Answers the account and the changed values before and after."""
    target = target_account_id(principal, account_id)
    name = (
        required_text(changes.name, field="name", limit=MAX_NAME, what="the company name")
        if changes.name is not None
        else None
    )
    main_phone = normalize_phone(changes.main_phone, field="mainPhone")
    fax = normalize_phone(changes.fax, field="fax")
    account = await lock_account(session, target)
    before = account_snapshot(account)
    if name is not None:
        account.name = name
    if changes.mailing_address is not None:
        address = changes.mailing_address
        account.mailing_street = address.street
        account.mailing_city = address.city
        account.mailing_state = address.state
        account.mailing_postal_code = address.postal_code
    if changes.billing_address is not None:
        address = changes.billing_address
        account.billing_street = address.street
        account.billing_city = address.city
        account.billing_state = address.state
        account.billing_postal_code = address.postal_code
    if changes.main_phone is not None:
        account.main_phone = main_phone
    if changes.fax is not None:
        account.fax = fax
    session.add(account)
    await session.flush()
    old, new = changed(before, account_snapshot(account))
    await session.commit()
    return account, old, new


def location_values(
    *, name: str, address: AddressValue, phone: str | None, field: str = ""
) -> LocationValues:
    prefix = f"{field}." if field else ""
    return LocationValues(
        name=required_text(name, field=f"{prefix}name", limit=MAX_NAME, what="a location name"),
        address=address,
        phone=normalize_phone(phone, field=f"{prefix}phone"),
    )


async def _name_taken(
    session: AsyncSession, account_id: uuid.UUID, name: str, except_id: uuid.UUID | None
) -> bool:
    statement = sa.select(sa.literal(1)).where(
        col(Location.account_id) == account_id,
        sa.func.lower(col(Location.name)) == name.lower(),
    )
    if except_id is not None:
        statement = statement.where(col(Location.id) != except_id)
    return await session.scalar(statement) is not None


async def add_location(
    *,
    session: AsyncSession,
    principal: Principal,
    account_id: uuid.UUID | None,
    values: LocationValues,
) -> Location:
    target = target_account_id(principal, account_id)
    await lock_account(session, target)
    if await _name_taken(session, target, values.name, None):
        raise BadUserInput("The account already has a location with this name.", field="name")
    location = Location(
        account_id=target,
        name=values.name,
        street=values.address.street,
        city=values.address.city,
        state=values.address.state,
        postal_code=values.address.postal_code,
        phone=values.phone,
    )
    session.add(location)
    await session.flush()
    await session.commit()
    return location


async def _own_location(
    session: AsyncSession, principal: Principal, location_id: uuid.UUID, *, field: str = "id"
) -> Location:
    """A location the caller may change, locked after its account (account changes always lock
    the account first): any for staff, else of the caller's account."""
    statement = sa.select(col(Location.account_id)).where(col(Location.id) == location_id)
    if not principal.is_staff:
        statement = statement.where(col(Location.account_id) == principal.account_id)
    account_id = await session.scalar(statement)
    if account_id is None:
        raise NotFound(UNKNOWN_LOCATION, field=field)
    await lock_account(session, account_id)
    location = await session.scalar(
        sa.select(Location).where(col(Location.id) == location_id).with_for_update()
    )
    if location is None:
        raise NotFound(UNKNOWN_LOCATION, field=field)
    return location


async def update_location(
    *,
    session: AsyncSession,
    principal: Principal,
    location_id: uuid.UUID,
    name: str | None,
    address: AddressValue | None,
    phone: str | None,
) -> tuple[Location, dict[str, Any], dict[str, Any]]:
    new_name = (
        required_text(name, field="name", limit=MAX_NAME, what="a location name")
        if name is not None
        else None
    )
    new_phone = normalize_phone(phone, field="phone")
    location = await _own_location(session, principal, location_id)
    before = location_snapshot(location)
    if new_name is not None:
        if await _name_taken(session, location.account_id, new_name, location.id):
            raise BadUserInput("The account already has a location with this name.", field="name")
        location.name = new_name
    if address is not None:
        location.street = address.street
        location.city = address.city
        location.state = address.state
        location.postal_code = address.postal_code
    if phone is not None:
        location.phone = new_phone
    session.add(location)
    await session.flush()
    old, new = changed(before, location_snapshot(location))
    await session.commit()
    return location, old, new


async def location_usage(session: AsyncSession, location_id: uuid.UUID) -> LocationUsage:
    def count(column: Any) -> sa.ScalarSelect[int]:
        return sa.select(sa.func.count()).where(column == location_id).scalar_subquery()

    row = (
        await session.execute(
            sa.select(
                count(col(Employee.location_id)),
                count(col(Authorization.location_id)),
                count(col(ReportSubscription.location_id)),
                count(col(Visit.location_id)),
                count(col(Document.location_id)),
            )
        )
    ).one()
    return LocationUsage(*(int(value) for value in row))


async def remove_location(
    *,
    session: AsyncSession,
    principal: Principal,
    location_id: uuid.UUID,
    move_to: uuid.UUID | None,
) -> tuple[Location, LocationUsage, Location | None]:
    """Delete the location; with ``move_to`` first move everything that refers to it there.
    Answers the removed location, what was moved, and the location it moved to."""
    location = await _own_location(session, principal, location_id)
    usage = await location_usage(session, location.id)
    target: Location | None = None
    if move_to is not None:
        if move_to == location.id:
            raise BadUserInput("Move to another location than the one removed.", field="moveTo")
        target = await session.scalar(
            sa.select(Location).where(
                col(Location.id) == move_to, col(Location.account_id) == location.account_id
            )
        )
        if target is None:
            raise NotFound(UNKNOWN_LOCATION, field="moveTo")
    if usage.total and target is None:
        raise LocationInUse(usage)
    if target is not None and usage.total:
        await _move_references(session, location, target)
    await session.execute(
        sa.delete(Location)
        .where(col(Location.id) == location.id)
        .execution_options(synchronize_session=False)
    )
    await session.commit()
    return location, usage, target


async def _move_references(session: AsyncSession, source: Location, target: Location) -> None:
    for model in (Employee, Authorization, Visit, Document):
        column = col(model.location_id)
        await session.execute(
            sa.update(model)
            .where(column == source.id)
            .values(location_id=target.id)
            .execution_options(synchronize_session=False)
        )
    # A (report type) pair the contact already holds at the target merges with it.
    subscriptions = SQLModel.metadata.tables["report_subscriptions"]
    moved = sa.select(
        subscriptions.c.account_id,
        subscriptions.c.contact_id,
        subscriptions.c.report_type_id,
        sa.literal(target.id, sa.Uuid).label("location_id"),
    ).where(subscriptions.c.location_id == source.id)
    await session.execute(
        pg_insert(subscriptions)
        .from_select(["account_id", "contact_id", "report_type_id", "location_id"], moved)
        .on_conflict_do_nothing(index_elements=["contact_id", "report_type_id", "location_id"])
    )
    await session.execute(sa.delete(subscriptions).where(subscriptions.c.location_id == source.id))
