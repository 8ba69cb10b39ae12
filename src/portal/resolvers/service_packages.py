"""Service packages: an account's custom bundle of catalog services, managed by staff and
chosen by the account's people when they authorize services."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.principal import Principal
from portal.models import Account, Service, ServicePackage, ServicePackageItem
from portal.models.base import utcnow
from portal.models.db import AccountScope
from portal.resolvers.errors import BadUserInput, NotFound, PortalError
from portal.resolvers.idempotency import Replay, claim_key, record_result
from portal.resolvers.loading import equals_any, in_key_order

MAX_NAME = 200
MAX_DESCRIPTION = 1000
MAX_SERVICES = 50
UNKNOWN_PACKAGE = "No service package has this id."


async def load_service_packages(
    *, session: AsyncSession, scope: AccountScope, ids: Sequence[uuid.UUID]
) -> list[ServicePackage | None]:
    rows = await session.scalars(
        sa.select(ServicePackage).where(
            equals_any(col(ServicePackage.id), ids), scope.filter(col(ServicePackage.account_id))
        )
    )
    return in_key_order(ids, rows, lambda package: package.id)


async def load_services_by_package(
    *, session: AsyncSession, scope: AccountScope, package_ids: Sequence[uuid.UUID]
) -> list[list[Service]]:
    rows = await session.execute(
        sa.select(col(ServicePackageItem.package_id), Service)
        .join(Service, col(Service.id) == col(ServicePackageItem.service_id))
        .where(
            equals_any(col(ServicePackageItem.package_id), package_ids),
            scope.filter(col(ServicePackageItem.account_id)),
        )
        .order_by(col(Service.name), col(Service.id))
    )
    by_package: dict[uuid.UUID, list[Service]] = {}
    for package_id, service in rows:
        by_package.setdefault(package_id, []).append(service)
    return [by_package.get(i, []) for i in package_ids]


async def load_packages_by_account(
    *, session: AsyncSession, scope: AccountScope, account_ids: Sequence[uuid.UUID]
) -> list[list[ServicePackage]]:
    """Each account's packages, active first, then by name."""
    rows = await session.scalars(
        sa.select(ServicePackage)
        .where(
            equals_any(col(ServicePackage.account_id), account_ids),
            scope.filter(col(ServicePackage.account_id)),
        )
        .order_by(col(ServicePackage.archived_at).desc().nulls_first(), col(ServicePackage.name))
    )
    by_account: dict[uuid.UUID, list[ServicePackage]] = {}
    for package in rows:
        by_account.setdefault(package.account_id, []).append(package)
    return [by_account.get(i, []) for i in account_ids]


def _name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise BadUserInput("Give the package a name.", field="name")
    if len(cleaned) > MAX_NAME:
        raise BadUserInput(f"A name has at most {MAX_NAME} characters.", field="name")
    return cleaned


def _description(description: str | None) -> str | None:
    cleaned = (description or "").strip() or None
    if cleaned is not None and len(cleaned) > MAX_DESCRIPTION:
        raise BadUserInput(
            f"A description has at most {MAX_DESCRIPTION} characters.", field="description"
        )
    return cleaned


async def _services(session: AsyncSession, service_ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    wanted = list(dict.fromkeys(service_ids))
    if not wanted:
        raise BadUserInput("A package holds at least one service.", field="serviceIds")
    if len(wanted) > MAX_SERVICES:
        raise BadUserInput(f"A package holds at most {MAX_SERVICES} services.", field="serviceIds")
    found = set(
        (
            await session.scalars(
                sa.select(col(Service.id)).where(
                    equals_any(col(Service.id), wanted), col(Service.is_active).is_(True)
                )
            )
        ).all()
    )
    for index, service_id in enumerate(service_ids):
        if service_id not in found:
            raise NotFound("No active service has this id.", field=f"serviceIds.{index}")
    return wanted


async def _replace_items(
    session: AsyncSession, package: ServicePackage, service_ids: Sequence[uuid.UUID]
) -> None:
    await session.execute(
        sa.delete(ServicePackageItem).where(col(ServicePackageItem.package_id) == package.id)
    )
    session.add_all(
        ServicePackageItem(package_id=package.id, service_id=i, account_id=package.account_id)
        for i in service_ids
    )


async def _flush_unique_name(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as error:
        await session.rollback()
        raise BadUserInput(
            "This account already has a package with this name.", field="name"
        ) from (error)


async def create_service_package(
    *,
    session: AsyncSession,
    principal: Principal,
    account_id: uuid.UUID,
    name: str,
    description: str | None,
    service_ids: Sequence[uuid.UUID],
    idempotency_key: str | None = None,
    request: Any = None,
) -> ServicePackage:
    """Staff: a new package for the account (any account: staff see every one). With an
    idempotency key, a retry answers the package the first call made."""
    try:
        claim = None
        if idempotency_key is not None:
            outcome = await claim_key(
                session=session,
                principal=principal,
                operation="createServicePackage",
                key=idempotency_key,
                request=request,
            )
            if isinstance(outcome, Replay):
                await session.rollback()
                made = await session.get(
                    ServicePackage, uuid.UUID(outcome.result["servicePackageId"])
                )
                if made is None:  # removed since: the key's answer no longer exists
                    raise NotFound(UNKNOWN_PACKAGE, field="idempotencyKey")
                return made
            claim = outcome
        cleaned = _name(name)
        text = _description(description)
        account = await session.scalar(
            sa.select(col(Account.id)).where(col(Account.id) == account_id)
        )
        if account is None:
            raise NotFound("No account has this id.", field="accountId")
        services = await _services(session, service_ids)
        package = ServicePackage(account_id=account_id, name=cleaned, description=text)
        session.add(package)
        await _flush_unique_name(session)
        await _replace_items(session, package, services)
        await session.flush()
        if claim is not None:
            await record_result(
                session=session, claim=claim, result={"servicePackageId": str(package.id)}
            )
        await session.commit()
    except PortalError:
        await session.rollback()
        raise
    return package


async def update_service_package(
    *,
    session: AsyncSession,
    package_id: uuid.UUID,
    name: str | None,
    description: str | None,
    service_ids: Sequence[uuid.UUID] | None,
) -> ServicePackage:
    package = await session.scalar(
        sa.select(ServicePackage).where(col(ServicePackage.id) == package_id).with_for_update()
    )
    if package is None:
        raise NotFound(UNKNOWN_PACKAGE, field="id")
    if name is not None:
        package.name = _name(name)
    if description is not None:
        package.description = _description(description)
    services = await _services(session, service_ids) if service_ids is not None else None
    package.updated_at = utcnow()
    session.add(package)
    await _flush_unique_name(session)
    if services is not None:
        await _replace_items(session, package, services)
        await session.flush()
    await session.commit()
    return package


async def archive_service_package(
    *, session: AsyncSession, package_id: uuid.UUID
) -> ServicePackage:
    """No longer offered for new authorizations; existing ones keep showing it."""
    package = await session.scalar(
        sa.select(ServicePackage).where(col(ServicePackage.id) == package_id).with_for_update()
    )
    if package is None:
        raise NotFound(UNKNOWN_PACKAGE, field="id")
    if package.archived_at is None:
        package.archived_at = utcnow()
        package.updated_at = package.archived_at
        session.add(package)
        await session.flush()
    await session.commit()
    return package
