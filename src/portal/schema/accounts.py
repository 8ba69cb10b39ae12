"""Accounts, employer clients, locations and contacts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry

from portal import models
from portal.models.enums import Role, UserStatus
from portal.resolvers import accounts as account_resolvers
from portal.resolvers import api_clients as client_resolvers
from portal.resolvers import users as user_resolvers
from portal.schema import users as users_schema
from portal.schema.api_clients import MANAGE_API_CLIENTS, ApiClient
from portal.schema.context import Info
from portal.schema.permissions import ACCOUNT_READ, requires
from portal.schema.relay import (
    Connection,
    PortalNode,
    decode_global_id,
    page_request,
    to_connection,
)
from portal.schema.users import USERS_READ, PortalUser

if TYPE_CHECKING:
    from portal.schema.service_packages import ServicePackage

# Declared in portal.schema.users, which this module imports before its own types exist.
strawberry_role = users_schema.strawberry_role
strawberry_user_status = users_schema.strawberry_user_status


@strawberry.type(description="A postal address.")
class Address:
    street: str | None
    city: str | None
    state: str | None
    postal_code: str | None


@strawberry.type(description="A company location.")
class Location(PortalNode):
    node_rule = ACCOUNT_READ
    id: strawberry.relay.NodeID[uuid.UUID]
    name: str
    address: Address
    state: str = strawberry.field(description="Two-letter US state code.")
    phone: str | None

    @classmethod
    def from_row(cls, row: models.Location) -> Self:
        return cls(
            id=row.id,
            name=row.name,
            address=Address(
                street=row.street, city=row.city, state=row.state, postal_code=row.postal_code
            ),
            state=row.state,
            phone=row.phone,
        )

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        return await info.context.loaders.location.load_many(ids)


@strawberry.type(description="A contact's portal login: role and status.")
class PortalAccess:
    role: Role
    status: UserStatus
    last_login_at: datetime | None


@strawberry.type(description="A person at an account.")
class Contact(PortalNode):
    node_rule = ACCOUNT_READ
    id: strawberry.relay.NodeID[uuid.UUID]
    first_name: str
    last_name: str
    work_email: str
    phone: str | None
    title: str | None
    is_active: bool

    @classmethod
    def from_row(cls, row: models.Contact) -> Self:
        return cls(
            id=row.id,
            first_name=row.first_name,
            last_name=row.last_name,
            work_email=row.work_email,
            phone=row.phone,
            title=row.title,
            is_active=row.is_active,
        )

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        return await info.context.loaders.contact.load_many(ids)

    @strawberry.field(description="The contact's portal login, if they have one.")
    async def portal_access(self, info: Info) -> PortalAccess | None:
        access = await info.context.loaders.contact_access.load(self.id)
        if access is None:
            return None
        return PortalAccess(
            role=access.role, status=access.status, last_login_at=access.last_login_at
        )

    @strawberry.field(description="The contact's portal role, if they have a login.")
    async def role(self, info: Info) -> Role | None:
        access = await info.context.loaders.contact_access.load(self.id)
        return access.role if access else None


@strawberry.type(description="An employer company (or a third-party administrator).")
class Account(PortalNode):
    node_rule = ACCOUNT_READ
    id: strawberry.relay.NodeID[uuid.UUID]
    name: str
    account_number: str
    is_third_party_administrator: bool
    mailing_address: Address
    billing_address: Address
    main_phone: str | None
    fax: str | None
    retention_days: int = strawberry.field(
        description="Days after posting before results are archived out of employer views."
    )
    authorization_validity_days: int = strawberry.field(
        description="How long a new authorization is valid when no end date is given."
    )
    email_domains: list[str] = strawberry.field(
        description="The account's own email domains: authorizations may be emailed to "
        "addresses there, to the employee and to the account's contacts, nowhere else."
    )
    parent_account_id: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_row(cls, row: models.Account) -> Self:
        return cls(
            id=row.id,
            name=row.name,
            account_number=row.account_number,
            is_third_party_administrator=row.is_third_party_administrator,
            mailing_address=Address(
                street=row.mailing_street,
                city=row.mailing_city,
                state=row.mailing_state,
                postal_code=row.mailing_postal_code,
            ),
            billing_address=Address(
                street=row.billing_street,
                city=row.billing_city,
                state=row.billing_state,
                postal_code=row.billing_postal_code,
            ),
            main_phone=row.main_phone,
            fax=row.fax,
            retention_days=row.retention_days,
            authorization_validity_days=row.authorization_validity_days,
            email_domains=list(row.email_domains),
            parent_account_id=row.parent_account_id,
        )

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        return await info.context.loaders.account.load_many(ids)

    @strawberry.field(description="The third-party administrator this account is a client of.")
    async def parent_account(self, info: Info) -> Account | None:
        if self.parent_account_id is None:
            return None
        row = await info.context.loaders.account.load(self.parent_account_id)
        return Account.from_row(row) if row else None

    @strawberry.field(
        description="The account's service packages (custom bundles of services), active first."
    )
    async def service_packages(
        self, info: Info
    ) -> list[Annotated[ServicePackage, strawberry.lazy("portal.schema.service_packages")]]:
        from portal.schema.service_packages import ServicePackage

        rows = await info.context.loaders.service_packages_by_account.load(self.id)
        return [ServicePackage.from_row(row) for row in rows]

    @strawberry.field(description="The account's locations, by name.")
    async def locations(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        state: str | None = None,
    ) -> Connection[Location]:
        page = await account_resolvers.list_locations(
            session=info.context.session,
            scope=info.context.scope,
            account_id=self.id,
            page=page_request(first, after, last, before),
            state=state,
        )
        return to_connection(page, Location.from_row)

    @strawberry.field(description="The account's contacts, by last name.")
    async def contacts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        include_inactive: bool = False,
    ) -> Connection[Contact]:
        page = await account_resolvers.list_contacts(
            session=info.context.session,
            scope=info.context.scope,
            account_id=self.id,
            page=page_request(first, after, last, before),
            include_inactive=include_inactive,
        )
        return to_connection(page, Contact.from_row)

    @strawberry.field(
        description="Employer clients administered by this account (third-party administrators)."
    )
    async def employer_clients(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Account]:
        page = await account_resolvers.list_employer_clients(
            session=info.context.session,
            scope=info.context.scope,
            account_id=self.id,
            page=page_request(first, after, last, before),
        )
        return to_connection(page, Account.from_row)

    @strawberry.field(
        description="The account's portal logins with status and permissions, by email "
        "(User Admins and staff).",
        extensions=[requires(USERS_READ)],
    )
    async def users(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        status: UserStatus | None = None,
    ) -> Connection[PortalUser] | None:
        page = await user_resolvers.list_users(
            session=info.context.session,
            scope=info.context.scope,
            account_id=self.id,
            page=page_request(first, after, last, before),
            status=status,
        )
        return to_connection(page, PortalUser.from_row)

    @strawberry.field(
        description="The account's API clients, by name (User Admins only; never a secret).",
        extensions=[requires(MANAGE_API_CLIENTS)],
    )
    async def api_clients(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        include_revoked: bool = False,
    ) -> Connection[ApiClient] | None:
        page = await client_resolvers.list_clients(
            session=info.context.session,
            scope=info.context.scope,
            account_id=self.id,
            page=page_request(first, after, last, before),
            include_revoked=include_revoked,
        )
        return to_connection(page, ApiClient.from_row)


@strawberry.type
class AccountQueries:
    @strawberry.field(
        description=(
            "An account: yours when `id` is omitted; with `id`, one you may see (a third-party "
            "administrator's clients, any for staff). Unknown and foreign ids both answer null."
        ),
        extensions=[requires(ACCOUNT_READ)],
    )
    async def account(self, info: Info, id: strawberry.ID | None = None) -> Account | None:
        if id is None:
            account_id = info.context.principal.account_id
            if account_id is None:
                return None
        else:
            account_id = decode_global_id(id, expected=Account)
        row = await info.context.loaders.account.load(account_id)
        return Account.from_row(row) if row else None

    @strawberry.field(
        description="Accounts you may see: all for staff, else yours and your employer clients.",
        extensions=[requires(ACCOUNT_READ)],
    )
    async def accounts(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        search: str | None = None,
    ) -> Connection[Account]:
        page = await account_resolvers.list_accounts(
            session=info.context.session,
            scope=info.context.scope,
            page=page_request(first, after, last, before),
            search=search,
        )
        return to_connection(page, Account.from_row)
