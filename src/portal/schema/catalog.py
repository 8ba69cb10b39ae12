"""Medical centers, services, report types and the public sign-on links."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, Self

import strawberry

from portal import models
from portal.models.enums import ServiceCategory
from portal.resolvers import catalog as catalog_resolvers
from portal.schema.accounts import Address
from portal.schema.context import Info
from portal.schema.permissions import SIGNED_IN, requires
from portal.schema.related import plain_target
from portal.schema.relay import Connection, PortalNode, page_request, to_connection

strawberry_service_category = strawberry.enum(
    ServiceCategory, name="ServiceCategory", description="Injury care or non-injury services."
)


@strawberry.type(description="A medical center where employees are seen.")
class MedicalCenter(PortalNode):
    node_rule = SIGNED_IN
    id: strawberry.relay.NodeID[uuid.UUID]
    code: str
    name: str
    address: Address
    state: str
    phone: str
    hours: str
    telemedicine_capable: bool

    @classmethod
    def from_row(cls, row: models.MedicalCenter) -> Self:
        return cls(
            id=row.id,
            code=row.code,
            name=row.name,
            address=Address(
                street=row.street, city=row.city, state=row.state, postal_code=row.postal_code
            ),
            state=row.state,
            phone=row.phone,
            hours=row.hours,
            telemedicine_capable=row.telemedicine_capable,
        )

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        return await info.context.loaders.medical_center.load_many(ids)


MEDICAL_CENTER = plain_target(lambda loaders: loaders.medical_center, MedicalCenter)


@strawberry.type(description="A service that can be authorized.")
class Service(PortalNode):
    node_rule = SIGNED_IN
    id: strawberry.relay.NodeID[uuid.UUID]
    code: str
    name: str
    category: ServiceCategory
    description: str | None

    @classmethod
    def from_row(cls, row: models.Service) -> Self:
        return cls(
            id=row.id,
            code=row.code,
            name=row.name,
            category=row.category,
            description=row.description,
        )

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        return await info.context.loaders.service.load_many(ids)


@strawberry.type(description="A kind of result or report (e.g. MEC DOT card, audiogram results).")
class ReportType(PortalNode):
    node_rule = SIGNED_IN
    id: strawberry.relay.NodeID[uuid.UUID]
    code: str
    name: str
    category: ServiceCategory

    @classmethod
    def from_row(cls, row: models.ReportType) -> Self:
        return cls(id=row.id, code=row.code, name=row.name, category=row.category)

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        return await info.context.loaders.report_type.load_many(ids)


REPORT_TYPE = plain_target(lambda loaders: loaders.report_type, ReportType)


@strawberry.type(
    description="A link shown on the sign-on page, such as the drug-screen results portal."
)
class SignOnLink:
    label: str
    url: str
    description: str | None

    @classmethod
    def from_row(cls, row: models.PortalLink) -> Self:
        return cls(label=row.label, url=row.url, description=row.description)


@strawberry.type
class CatalogQueries:
    @strawberry.field(
        description="Medical centers, filtered by state, a name/city/ZIP search, or telemedicine.",
        extensions=[requires(SIGNED_IN)],
    )
    async def medical_centers(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        state: str | None = None,
        search: str | None = None,
        telemedicine: bool | None = None,
    ) -> Connection[MedicalCenter] | None:
        page = await catalog_resolvers.list_medical_centers(
            session=info.context.session,
            page=page_request(first, after, last, before),
            state=state,
            search=search,
            telemedicine=telemedicine,
        )
        return to_connection(page, MedicalCenter.from_row)

    @strawberry.field(description="The service catalog.", extensions=[requires(SIGNED_IN)])
    async def services(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        category: ServiceCategory | None = None,
    ) -> Connection[Service] | None:
        page = await catalog_resolvers.list_services(
            session=info.context.session,
            page=page_request(first, after, last, before),
            category=category,
        )
        return to_connection(page, Service.from_row)

    @strawberry.field(
        description="Every report type, by category.", extensions=[requires(SIGNED_IN)]
    )
    async def report_types(
        self, info: Info, category: ServiceCategory | None = None
    ) -> list[ReportType] | None:
        rows = await catalog_resolvers.list_report_types(
            session=info.context.session, category=category
        )
        return [ReportType.from_row(row) for row in rows]

    @strawberry.field(description="Links for the sign-on page. No sign-in needed.")
    async def sign_on_links(self, info: Info) -> list[SignOnLink]:
        rows = await catalog_resolvers.list_sign_on_links(session=info.context.session)
        return [SignOnLink.from_row(row) for row in rows]
