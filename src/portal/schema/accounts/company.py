"""Company information and locations: ``updateAccount``, ``addLocation``, ``updateLocation``,
``removeLocation`` (User Admins of the account, and staff)."""

from __future__ import annotations

import uuid

import strawberry

from portal.auth.principal import ViewerRole
from portal.resolvers.accounts import company
from portal.resolvers.errors import PortalError
from portal.schema.accounts.common import AddressInput, address_or_none, audit_change
from portal.schema.accounts.types import Account, Location
from portal.schema.context import Info
from portal.schema.payloads import MutationPayload, UserError
from portal.schema.permissions import requires, rule
from portal.schema.relay import decode_global_id, global_id

# "Edit account info and locations" (docs/design-decisions.md): User Admins and staff.
ACCOUNT_EDIT = rule(ViewerRole.USER_ADMIN, ViewerRole.STAFF)

ACCOUNT_ID_DESCRIPTION = "Staff: the account to change. Others omit it: their own account."


def optional_account_id(value: strawberry.ID | None) -> uuid.UUID | None:
    return decode_global_id(value, field="accountId", expected=Account) if value else None


@strawberry.input(description="Only the parts given change.")
class UpdateAccountInput:
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description=ACCOUNT_ID_DESCRIPTION
    )
    name: str | None = None
    mailing_address: AddressInput | None = None
    billing_address: AddressInput | None = None
    main_phone: str | None = strawberry.field(
        default=None, description="A US phone number, e.g. 214-555-0100; an empty string clears."
    )
    fax: str | None = strawberry.field(
        default=None, description="Like `mainPhone`; an empty string clears."
    )


@strawberry.input
class AddLocationInput:
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description=ACCOUNT_ID_DESCRIPTION
    )
    name: str = strawberry.field(description="Unique within the account.")
    address: AddressInput
    phone: str | None = None


@strawberry.input(description="Only the parts given change.")
class UpdateLocationInput:
    id: strawberry.ID
    name: str | None = None
    address: AddressInput | None = None
    phone: str | None = strawberry.field(default=None, description="An empty string clears.")


@strawberry.input
class RemoveLocationInput:
    id: strawberry.ID
    move_to: strawberry.ID | None = strawberry.field(
        default=None,
        description="Another location of the account: employees, authorizations, report "
        "subscriptions, visits and documents of the removed one move there, in one transaction. "
        "Without it a location still in use is not removed (LOCATION_IN_USE).",
    )


@strawberry.type(description="What refers to a location.")
class LocationUsage:
    employees: int
    authorizations: int
    report_subscriptions: int
    visits: int
    documents: int

    @classmethod
    def of(cls, usage: company.LocationUsage) -> LocationUsage:
        return cls(
            employees=usage.employees,
            authorizations=usage.authorizations,
            report_subscriptions=usage.report_subscriptions,
            visits=usage.visits,
            documents=usage.documents,
        )


@strawberry.type
class UpdateAccountPayload(MutationPayload):
    account: Account | None


@strawberry.type
class LocationPayload(MutationPayload):
    location: Location | None


@strawberry.type
class AddLocationPayload(LocationPayload):
    pass


@strawberry.type
class UpdateLocationPayload(LocationPayload):
    pass


@strawberry.type
class RemoveLocationPayload(MutationPayload):
    removed_location_id: strawberry.ID | None
    moved_to: Location | None = strawberry.field(description="Where its references went.")
    moved: LocationUsage | None = strawberry.field(description="What was moved.")
    in_use: LocationUsage | None = strawberry.field(
        description="With LOCATION_IN_USE: what still refers to the location."
    )


def _location_id(value: strawberry.ID, field: str = "id") -> uuid.UUID:
    return decode_global_id(value, field=field, expected=Location)


@strawberry.type
class CompanyMutations:
    @strawberry.mutation(
        description="Change company information: name, mailing and billing addresses (US), main "
        "phone and fax. Audited with the values before and after.",
        extensions=[requires(ACCOUNT_EDIT)],
    )
    async def update_account(
        self, info: Info, input: UpdateAccountInput
    ) -> UpdateAccountPayload | None:
        try:
            account, before, after = await company.update_account(
                session=info.context.session,
                principal=info.context.principal,
                account_id=optional_account_id(input.account_id),
                changes=company.AccountChanges(
                    name=input.name,
                    mailing_address=address_or_none(input.mailing_address, "mailingAddress"),
                    billing_address=address_or_none(input.billing_address, "billingAddress"),
                    main_phone=input.main_phone,
                    fax=input.fax,
                ),
            )
        except PortalError as error:
            return UpdateAccountPayload(account=None, user_errors=[UserError.from_error(error)])
        if after:
            audit_change(
                info,
                "account.updated",
                [account.id],
                account_id=account.id,
                before=before,
                after=after,
            )
        return UpdateAccountPayload(account=Account.from_row(account), user_errors=[])

    @strawberry.mutation(
        description="Add a location to the account.", extensions=[requires(ACCOUNT_EDIT)]
    )
    async def add_location(self, info: Info, input: AddLocationInput) -> AddLocationPayload | None:
        try:
            values = company.location_values(
                name=input.name, address=input.address.value("address"), phone=input.phone
            )
            location = await company.add_location(
                session=info.context.session,
                principal=info.context.principal,
                account_id=optional_account_id(input.account_id),
                values=values,
            )
        except PortalError as error:
            return AddLocationPayload(location=None, user_errors=[UserError.from_error(error)])
        audit_change(
            info,
            "location.added",
            [location.id],
            account_id=location.account_id,
            before=None,
            after=company.location_snapshot(location),
        )
        return AddLocationPayload(location=Location.from_row(location), user_errors=[])

    @strawberry.mutation(
        description="Change a location's name, address or phone.",
        extensions=[requires(ACCOUNT_EDIT)],
    )
    async def update_location(
        self, info: Info, input: UpdateLocationInput
    ) -> UpdateLocationPayload | None:
        try:
            location, before, after = await company.update_location(
                session=info.context.session,
                principal=info.context.principal,
                location_id=_location_id(input.id),
                name=input.name,
                address=address_or_none(input.address, "address"),
                phone=input.phone,
            )
        except PortalError as error:
            return UpdateLocationPayload(location=None, user_errors=[UserError.from_error(error)])
        if after:
            audit_change(
                info,
                "location.updated",
                [location.id],
                account_id=location.account_id,
                before=before,
                after=after,
            )
        return UpdateLocationPayload(location=Location.from_row(location), user_errors=[])

    @strawberry.mutation(
        description="Remove a location. One still referenced by employees, authorizations, "
        "report subscriptions, visits or documents is kept (LOCATION_IN_USE, with `inUse`) "
        "unless `moveTo` names where they go.",
        extensions=[requires(ACCOUNT_EDIT)],
    )
    async def remove_location(
        self, info: Info, input: RemoveLocationInput
    ) -> RemoveLocationPayload | None:
        try:
            removed, usage, target = await company.remove_location(
                session=info.context.session,
                principal=info.context.principal,
                location_id=_location_id(input.id),
                move_to=_location_id(input.move_to, "moveTo") if input.move_to else None,
            )
        except company.LocationInUse as error:
            return RemoveLocationPayload(
                removed_location_id=None,
                moved_to=None,
                moved=None,
                in_use=LocationUsage.of(error.usage),
                user_errors=[UserError.from_error(error)],
            )
        except PortalError as error:
            return RemoveLocationPayload(
                removed_location_id=None,
                moved_to=None,
                moved=None,
                in_use=None,
                user_errors=[UserError.from_error(error)],
            )
        audit_change(
            info,
            "location.removed",
            [removed.id, *([target.id] if target else [])],
            account_id=removed.account_id,
            before=company.location_snapshot(removed),
            after=None,
            movedTo=str(target.id) if target else None,
            moved={
                "employees": usage.employees,
                "authorizations": usage.authorizations,
                "reportSubscriptions": usage.report_subscriptions,
                "visits": usage.visits,
                "documents": usage.documents,
            },
        )
        return RemoveLocationPayload(
            removed_location_id=global_id(Location, removed.id),
            moved_to=Location.from_row(target) if target else None,
            moved=LocationUsage.of(usage),
            in_use=None,
            user_errors=[],
        )
