"""Accounts, employer clients, locations and contacts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry

from portal import models
from portal.auth.principal import Principal, PrincipalKind, ViewerRole
from portal.models.enums import AccessRequestStatus, Permission, Role, UserStatus
from portal.resolvers import accounts as account_resolvers
from portal.resolvers import api_clients as client_resolvers
from portal.resolvers import users as user_resolvers
from portal.resolvers.accounts import access_requests as access_request_resolvers
from portal.resolvers.webhooks import endpoints as webhook_resolvers
from portal.schema import users as users_schema
from portal.schema.api_clients import MANAGE_API_CLIENTS, ApiClient
from portal.schema.context import Info
from portal.schema.permissions import ACCOUNT_READ, requires, rule
from portal.schema.related import Related, plain_target, related
from portal.schema.relay import (
    Connection,
    PortalNode,
    decode_global_id,
    page_request,
    to_connection,
)
from portal.schema.users import USERS_READ, PortalUser, ReportSubscription

if TYPE_CHECKING:
    from portal.schema.accounts.access_requests import AccessRequest
from portal.schema.webhooks import MANAGE_WEBHOOKS, Webhook

if TYPE_CHECKING:
    from portal.schema.service_packages import ServicePackage

# Declared in portal.schema.users, which this module imports before its own types exist.
strawberry_role = users_schema.strawberry_role
strawberry_user_status = users_schema.strawberry_user_status
strawberry_access_request_status = strawberry.enum(
    AccessRequestStatus, name="AccessRequestStatus", description="Where an access request stands."
)

# Who receives what: User Admins and staff for every contact, anyone for their own contact.
CONTACT_PREFERENCES_READ = rule(
    ViewerRole.USER_ADMIN, ViewerRole.STAFF, own_record_roles=(ViewerRole.BASIC,)
)
# Minimum necessary: when a colleague last signed in is for User Admins, staff and users granted
# VIEW_VISIT_ACTIVITY (anyone sees their own); not for other Basic users nor API clients.
LAST_SIGN_IN_READ = rule(
    ViewerRole.USER_ADMIN,
    ViewerRole.STAFF,
    permission=Permission.VIEW_VISIT_ACTIVITY,
    own_record_roles=(ViewerRole.BASIC,),
)
# Access requests: the account's User Admins decide them; staff ask and follow them.
ACCESS_REQUESTS_READ = rule(ViewerRole.USER_ADMIN, ViewerRole.STAFF)

LazyAccessRequest = Annotated[
    "AccessRequest", strawberry.lazy("portal.schema.accounts.access_requests")
]


async def account_of(info: Info, account_id: uuid.UUID) -> Account | None:
    """The account a tenant object belongs to, as the caller may see it."""
    row = await info.context.loaders.account.load(account_id)
    return Account.from_row(row) if row else None


# The account of a tenant object (``Account`` is declared below the types that use it).
ACCOUNT: Related[models.Account, Account] = Related(
    loader=lambda loaders: loaders.account,
    build=lambda _info, row: Account.from_row(row),
)  # Account has no related fields of its own: nothing below it is loaded ahead


def account_field() -> Any:
    """``account { id name }`` on every tenant object: which of the caller's accounts it is of
    (a third-party administrator and staff see several). Needs the right to read accounts.
    Declare it as ``account: Account | None = account_field()`` (``account_id`` holds the id)."""
    return related(
        ACCOUNT,
        key="account_id",
        description="The account this belongs to (a third-party administrator and staff see "
        "several accounts).",
        extensions=[requires(ACCOUNT_READ)],
    )


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
    account_id: strawberry.Private[uuid.UUID]

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
            account_id=row.account_id,
        )

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        return await info.context.loaders.location.load_many(ids)

    account: Account | None = account_field()


LOCATION = plain_target(lambda loaders: loaders.location, Location)


@strawberry.type(description="A contact's portal login: role and status.")
class PortalAccess:
    role: Role
    status: UserStatus
    last_login_at: datetime | None = strawberry.field(
        description="When this login last signed in.", extensions=[requires(LAST_SIGN_IN_READ)]
    )
    contact_id: strawberry.Private[uuid.UUID]

    def belongs_to(self, principal: Principal) -> bool:
        return principal.kind is PrincipalKind.USER and principal.contact_id == self.contact_id


@strawberry.type(description="What a contact is notified of.")
class NotificationPreferences:
    email_on_new_results: bool = strawberry.field(
        description="Email when new results post (no results in the email, only a link)."
    )


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
    account_id: strawberry.Private[uuid.UUID]

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
            account_id=row.account_id,
        )

    def belongs_to(self, principal: Principal) -> bool:
        return principal.kind is PrincipalKind.USER and principal.contact_id == self.id

    account: Account | None = account_field()

    @strawberry.field(
        description="The (report type, location) pairs whose results this contact receives and "
        "sees. User Admins and staff read every contact's; anyone else only their own (another "
        "contact's answers null with FORBIDDEN).",
        extensions=[requires(CONTACT_PREFERENCES_READ)],
    )
    async def report_subscriptions(self, info: Info) -> list[ReportSubscription] | None:
        rows = await info.context.loaders.subscriptions_by_contact.load(self.id)
        return [
            ReportSubscription(report_type_id=row.report_type_id, location_id=row.location_id)
            for row in rows
        ]

    @strawberry.field(
        description="Whether this contact is emailed when new results post. Readable like "
        "`reportSubscriptions`.",
        extensions=[requires(CONTACT_PREFERENCES_READ)],
    )
    async def notification_preferences(self, info: Info) -> NotificationPreferences | None:
        found = await info.context.loaders.notification_settings.load(self.id)
        return NotificationPreferences(email_on_new_results=found.email_on_new_results)

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        return await info.context.loaders.contact.load_many(ids)

    @strawberry.field(description="The contact's portal login, if they have one.")
    async def portal_access(self, info: Info) -> PortalAccess | None:
        access = await info.context.loaders.contact_access.load(self.id)
        if access is None:
            return None
        return PortalAccess(
            role=access.role,
            status=access.status,
            last_login_at=access.last_login_at,
            contact_id=self.id,
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
        description="Support's requests to enable contacts' portal access, newest first (the "
        "account's User Admins approve or decline them; staff follow them).",
        extensions=[requires(ACCESS_REQUESTS_READ)],
    )
    async def access_requests(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        status: AccessRequestStatus | None = None,
    ) -> Connection[LazyAccessRequest] | None:
        from portal.schema.accounts.access_requests import AccessRequest

        page = await access_request_resolvers.list_access_requests(
            session=info.context.session,
            scope=info.context.scope,
            account_id=self.id,
            page=page_request(first, after, last, before),
            status=status,
        )
        return to_connection(page, AccessRequest.from_row)

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

    @strawberry.field(
        description="The account's webhook endpoints, oldest first (User Admins and API clients "
        "with `webhooks:manage`; never a secret).",
        extensions=[requires(MANAGE_WEBHOOKS)],
    )
    async def webhooks(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Webhook] | None:
        page = await webhook_resolvers.list_webhooks(
            session=info.context.session,
            scope=info.context.scope,
            account_id=self.id,
            page=page_request(first, after, last, before),
        )
        return to_connection(page, Webhook.from_row)


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
    ) -> Connection[Account] | None:
        page = await account_resolvers.list_accounts(
            session=info.context.session,
            scope=info.context.scope,
            page=page_request(first, after, last, before),
            search=search,
        )
        return to_connection(page, Account.from_row)
