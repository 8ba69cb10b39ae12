"""Shared catalogs: medical centers, services, report types and the public sign-on links."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import MedicalCenter, PortalLink, ReportType, Service
from portal.models.db import AccountScope
from portal.models.enums import ServiceCategory
from portal.resolvers.accounts import escape_like
from portal.resolvers.errors import BadUserInput
from portal.resolvers.loading import RowsById, in_key_order
from portal.resolvers.pagination import Page, PageRequest, SortKey, paginate

_STATES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ"
)
US_STATE_CODES = frozenset(
    f"{_STATES} NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR".split()
)


def normalize_state(state: str | None, *, field: str = "state") -> str | None:
    if state is None:
        return None
    code = state.strip().upper()
    if code not in US_STATE_CODES:
        raise BadUserInput(f"`{state}` is not a US state code (two letters, e.g. TX).", field=field)
    return code


# The catalog is shared by every account: no scope.
MEDICAL_CENTERS_BY_ID = RowsById(
    MedicalCenter, lambda ids, _: [col(MedicalCenter.id) == sa.any_(ids)]
)
REPORT_TYPES_BY_ID = RowsById(ReportType, lambda ids, _: [col(ReportType.id) == sa.any_(ids)])


async def load_medical_centers(
    *, session: AsyncSession, ids: Sequence[uuid.UUID]
) -> list[MedicalCenter | None]:
    return await MEDICAL_CENTERS_BY_ID.scoped(AccountScope.everything()).load(session, ids)


async def load_services(*, session: AsyncSession, ids: Sequence[uuid.UUID]) -> list[Service | None]:
    rows = await session.scalars(sa.select(Service).where(col(Service.id).in_(ids)))
    return in_key_order(ids, rows, lambda service: service.id)


async def load_report_types(
    *, session: AsyncSession, ids: Sequence[uuid.UUID]
) -> list[ReportType | None]:
    return await REPORT_TYPES_BY_ID.scoped(AccountScope.everything()).load(session, ids)


async def list_medical_centers(
    *,
    session: AsyncSession,
    page: PageRequest,
    state: str | None = None,
    search: str | None = None,
    telemedicine: bool | None = None,
) -> Page[MedicalCenter]:
    statement = sa.select(MedicalCenter).where(col(MedicalCenter.is_active).is_(True))
    state_code = normalize_state(state)
    if state_code:
        statement = statement.where(col(MedicalCenter.state) == state_code)
    if search and search.strip():
        pattern = f"%{escape_like(search)}%"
        statement = statement.where(
            sa.or_(
                col(MedicalCenter.name).ilike(pattern, escape="\\"),
                col(MedicalCenter.city).ilike(pattern, escape="\\"),
                col(MedicalCenter.postal_code) == search.strip(),
            )
        )
    if telemedicine is not None:
        statement = statement.where(col(MedicalCenter.telemedicine_capable).is_(telemedicine))
    return await paginate(
        session=session,
        statement=statement,
        keys=[
            SortKey(col(MedicalCenter.state)),
            SortKey(col(MedicalCenter.name)),
            SortKey(col(MedicalCenter.id), python_type=uuid.UUID),
        ],
        request=page,
        convert=lambda center: center,
    )


async def list_services(
    *, session: AsyncSession, page: PageRequest, category: ServiceCategory | None = None
) -> Page[Service]:
    statement = sa.select(Service).where(col(Service.is_active).is_(True))
    if category is not None:
        statement = statement.where(col(Service.category) == category)
    return await paginate(
        session=session,
        statement=statement,
        keys=[SortKey(col(Service.name)), SortKey(col(Service.id), python_type=uuid.UUID)],
        request=page,
        convert=lambda service: service,
    )


async def list_report_types(
    *, session: AsyncSession, category: ServiceCategory | None = None
) -> list[ReportType]:
    statement = sa.select(ReportType).order_by(
        col(ReportType.category), col(ReportType.sort_order), col(ReportType.name)
    )
    if category is not None:
        statement = statement.where(col(ReportType.category) == category)
    return list(await session.scalars(statement))


async def list_sign_on_links(*, session: AsyncSession) -> list[PortalLink]:
    statement = (
        sa.select(PortalLink)
        .where(
            col(PortalLink.published_at).is_not(None), col(PortalLink.published_at) <= sa.func.now()
        )
        .order_by(col(PortalLink.sort_order), col(PortalLink.label))
    )
    return list(await session.scalars(statement))
