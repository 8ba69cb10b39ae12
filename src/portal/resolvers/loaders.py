"""Batch loaders, built once per request and scoped to the request's principal."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import Account, Contact, Location, MedicalCenter, ReportType, Service
from portal.models.db import AccountScope
from portal.resolvers import accounts, catalog
from portal.resolvers.accounts import ContactAccess
from portal.resolvers.loading import BatchLoader


class Loaders:
    def __init__(self, *, session: AsyncSession, scope: AccountScope) -> None:
        self.account: BatchLoader[uuid.UUID, Account | None] = BatchLoader(
            lambda ids: accounts.load_accounts(session=session, scope=scope, ids=ids)
        )
        self.location: BatchLoader[uuid.UUID, Location | None] = BatchLoader(
            lambda ids: accounts.load_locations(session=session, scope=scope, ids=ids)
        )
        self.contact: BatchLoader[uuid.UUID, Contact | None] = BatchLoader(
            lambda ids: accounts.load_contacts(session=session, scope=scope, ids=ids)
        )
        self.contact_access: BatchLoader[uuid.UUID, ContactAccess | None] = BatchLoader(
            lambda ids: accounts.load_contact_access(session=session, scope=scope, contact_ids=ids)
        )
        self.medical_center: BatchLoader[uuid.UUID, MedicalCenter | None] = BatchLoader(
            lambda ids: catalog.load_medical_centers(session=session, ids=ids)
        )
        self.service: BatchLoader[uuid.UUID, Service | None] = BatchLoader(
            lambda ids: catalog.load_services(session=session, ids=ids)
        )
        self.report_type: BatchLoader[uuid.UUID, ReportType | None] = BatchLoader(
            lambda ids: catalog.load_report_types(session=session, ids=ids)
        )
