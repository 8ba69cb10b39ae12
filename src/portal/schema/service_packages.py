"""Service packages (an account's custom bundle of services): ``Account.servicePackages`` and
staff's ``createServicePackage``, ``updateServicePackage``, ``archiveServicePackage``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Self

import strawberry

from portal import models
from portal.auth.principal import ViewerRole
from portal.models.enums import AuditResult
from portal.resolvers import service_packages as package_resolvers
from portal.resolvers.audit import AuditEntry
from portal.resolvers.errors import PortalError
from portal.schema.catalog import Service
from portal.schema.context import Info
from portal.schema.payloads import MutationPayload, UserError
from portal.schema.permissions import ACCOUNT_READ, requires, rule
from portal.schema.relay import PortalNode, decode_global_id

# Packages are set up by the provider's support staff for an account.
MANAGE_PACKAGES = rule(ViewerRole.STAFF)


@strawberry.type(description="An account's custom bundle of services, to authorize in one pick.")
class ServicePackage(PortalNode):
    node_rule = ACCOUNT_READ
    id: strawberry.relay.NodeID[uuid.UUID]
    name: str
    description: str | None
    archived_at: datetime | None = strawberry.field(
        description="Set once archived: no longer offered for new authorizations."
    )

    @classmethod
    def from_row(cls, row: models.ServicePackage) -> Self:
        return cls(
            id=row.id, name=row.name, description=row.description, archived_at=row.archived_at
        )

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        return await info.context.loaders.service_package.load_many(ids)

    @strawberry.field(description="The services of the package, by name.")
    async def services(self, info: Info) -> list[Service]:
        rows = await info.context.loaders.services_by_package.load(self.id)
        return [Service.from_row(row) for row in rows]


@strawberry.input
class CreateServicePackageInput:
    account_id: strawberry.ID
    name: str
    description: str | None = None
    service_ids: list[strawberry.ID]
    idempotency_key: str | None = strawberry.field(
        default=None,
        description="A retry with the same key and input answers the first package (24 hours).",
    )


@strawberry.input
class UpdateServicePackageInput:
    id: strawberry.ID
    name: str | None = strawberry.field(default=None, description="Unchanged when omitted.")
    description: str | None = strawberry.field(
        default=None, description="Unchanged when omitted; an empty string clears it."
    )
    service_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="The whole set, replacing the current one; omit to keep it."
    )


@strawberry.input
class ArchiveServicePackageInput:
    id: strawberry.ID


@strawberry.type
class ServicePackagePayload(MutationPayload):
    service_package: ServicePackage | None


def _service_ids(values: Sequence[strawberry.ID]) -> list[uuid.UUID]:
    if len(values) > package_resolvers.MAX_SERVICES:
        raise PortalError(
            f"A package holds at most {package_resolvers.MAX_SERVICES} services.",
            field="serviceIds",
        )
    return [
        decode_global_id(value, field=f"serviceIds.{index}", expected=Service)
        for index, value in enumerate(values)
    ]


def _audited(info: Info, action: str, package: models.ServicePackage) -> ServicePackagePayload:
    info.context.audit(
        AuditEntry(
            action=action,
            result=AuditResult.ALLOWED,
            account_id=package.account_id,
            object_ids=(str(package.id),),
        )
    )
    return ServicePackagePayload(service_package=ServicePackage.from_row(package), user_errors=[])


def _failed(error: PortalError) -> ServicePackagePayload:
    return ServicePackagePayload(service_package=None, user_errors=[UserError.from_error(error)])


@strawberry.type
class ServicePackageMutations:
    @strawberry.mutation(
        description="Staff: a new service package for an account.",
        extensions=[requires(MANAGE_PACKAGES)],
    )
    async def create_service_package(
        self, info: Info, input: CreateServicePackageInput
    ) -> ServicePackagePayload | None:
        from portal.schema.accounts import Account

        try:
            package = await package_resolvers.create_service_package(
                session=info.context.session,
                principal=info.context.principal,
                account_id=decode_global_id(input.account_id, field="accountId", expected=Account),
                name=input.name,
                description=input.description,
                service_ids=_service_ids(input.service_ids),
                idempotency_key=input.idempotency_key,
                request=input,
            )
        except PortalError as error:
            return _failed(error)
        return _audited(info, "service_package.created", package)

    @strawberry.mutation(
        description="Staff: rename a package, change its description or its services.",
        extensions=[requires(MANAGE_PACKAGES)],
    )
    async def update_service_package(
        self, info: Info, input: UpdateServicePackageInput
    ) -> ServicePackagePayload | None:
        try:
            package = await package_resolvers.update_service_package(
                session=info.context.session,
                package_id=decode_global_id(input.id, field="id", expected=ServicePackage),
                name=input.name,
                description=input.description,
                service_ids=(
                    _service_ids(input.service_ids) if input.service_ids is not None else None
                ),
            )
        except PortalError as error:
            return _failed(error)
        return _audited(info, "service_package.updated", package)

    @strawberry.mutation(
        description="Staff: stop offering a package for new authorizations (existing ones keep "
        "it).",
        extensions=[requires(MANAGE_PACKAGES)],
    )
    async def archive_service_package(
        self, info: Info, input: ArchiveServicePackageInput
    ) -> ServicePackagePayload | None:
        try:
            package = await package_resolvers.archive_service_package(
                session=info.context.session,
                package_id=decode_global_id(input.id, field="id", expected=ServicePackage),
            )
        except PortalError as error:
            return _failed(error)
        return _audited(info, "service_package.archived", package)
