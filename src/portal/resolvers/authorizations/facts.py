"""What a set of authorization drafts names, read in a fixed number of statements whatever the
number of drafts: employees, locations, accounts, contacts, services, packages, centers and the
account's likely duplicates of new employees."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal
from portal.models import (
    Account,
    Contact,
    Employee,
    Location,
    MedicalCenter,
    Service,
    ServicePackage,
    ServicePackageItem,
)
from portal.resolvers.loading import equals_any

if TYPE_CHECKING:
    from portal.resolvers.authorizations.drafts import Draft


@dataclass
class Facts:
    """What the drafts name, read in a fixed number of statements."""

    employees: dict[uuid.UUID, Employee]
    locations: dict[uuid.UUID, Location]
    accounts: dict[uuid.UUID, Account]
    contact_emails: dict[uuid.UUID, set[str]]
    services: dict[uuid.UUID, bool]
    packages: dict[uuid.UUID, ServicePackage]
    package_items: dict[uuid.UUID, list[uuid.UUID]]
    centers: dict[uuid.UUID, MedicalCenter]
    duplicates_by_number: dict[tuple[uuid.UUID, str], uuid.UUID]
    duplicates_by_person: dict[tuple[uuid.UUID, str, str, date], uuid.UUID]


async def load_facts(session: AsyncSession, principal: Principal, drafts: Sequence[Draft]) -> Facts:
    scope = principal.scope
    employee_ids = {d.employee_id for d in drafts if d.employee_id is not None}
    employees = {
        e.id: e
        for e in await session.scalars(
            sa.select(Employee).where(
                equals_any(col(Employee.id), employee_ids), scope.filter(col(Employee.account_id))
            )
        )
    }
    location_ids = {d.location_id for d in drafts if d.location_id is not None}
    location_ids |= {d.new_employee.location_id for d in drafts if d.new_employee is not None}
    locations = {
        row.id: row
        for row in await session.scalars(
            sa.select(Location).where(
                equals_any(col(Location.id), location_ids), scope.filter(col(Location.account_id))
            )
        )
    }
    account_ids = {e.account_id for e in employees.values()} | {
        loc.account_id for loc in locations.values()
    }
    accounts = {
        row.id: row
        for row in await session.scalars(
            sa.select(Account).where(
                equals_any(col(Account.id), account_ids), scope.filter(col(Account.id))
            )
        )
    }
    contact_emails: dict[uuid.UUID, set[str]] = {}
    for account_id, email in await session.execute(
        sa.select(col(Contact.account_id), sa.func.lower(col(Contact.work_email))).where(
            equals_any(col(Contact.account_id), account_ids), col(Contact.is_active).is_(True)
        )
    ):
        contact_emails.setdefault(account_id, set()).add(email)
    package_ids = {d.service_package_id for d in drafts if d.service_package_id is not None}
    packages = {
        row.id: row
        for row in await session.scalars(
            sa.select(ServicePackage).where(
                equals_any(col(ServicePackage.id), package_ids),
                scope.filter(col(ServicePackage.account_id)),
            )
        )
    }
    package_items: dict[uuid.UUID, list[uuid.UUID]] = {}
    for package_id, service_id in await session.execute(
        sa.select(col(ServicePackageItem.package_id), col(ServicePackageItem.service_id)).where(
            equals_any(col(ServicePackageItem.package_id), packages)
        )
    ):
        package_items.setdefault(package_id, []).append(service_id)
    service_ids = {s for d in drafts for s in d.service_ids} | {
        s for items in package_items.values() for s in items
    }
    found = await session.execute(
        sa.select(col(Service.id), col(Service.is_active)).where(
            equals_any(col(Service.id), service_ids)
        )
    )
    services: dict[uuid.UUID, bool] = {row[0]: row[1] for row in found}
    center_ids = {d.medical_center_id for d in drafts if d.medical_center_id is not None}
    centers = {
        row.id: row
        for row in await session.scalars(
            sa.select(MedicalCenter).where(equals_any(col(MedicalCenter.id), center_ids))
        )
    }
    by_number: dict[tuple[uuid.UUID, str], uuid.UUID] = {}
    by_person: dict[tuple[uuid.UUID, str, str, date], uuid.UUID] = {}
    new = [d.new_employee for d in drafts if d.new_employee is not None]
    if new:
        numbers = {n.employee_number.strip() for n in new}
        births = {n.date_of_birth for n in new}
        rows = await session.execute(
            sa.select(
                col(Employee.id),
                col(Employee.account_id),
                col(Employee.employee_number),
                sa.func.lower(col(Employee.first_name)),
                sa.func.lower(col(Employee.last_name)),
                col(Employee.date_of_birth),
            ).where(
                equals_any(col(Employee.account_id), account_ids),
                sa.or_(
                    col(Employee.employee_number).in_(numbers),
                    col(Employee.date_of_birth).in_(births),
                ),
            )
        )
        for employee_id, account_id, number, first, last, born in rows:
            by_number[(account_id, number)] = employee_id
            by_person[(account_id, first.strip(), last.strip(), born)] = employee_id
    return Facts(
        employees=employees,
        locations=locations,
        accounts=accounts,
        contact_emails=contact_emails,
        services=services,
        packages=packages,
        package_items=package_items,
        centers=centers,
        duplicates_by_number=by_number,
        duplicates_by_person=by_person,
    )
