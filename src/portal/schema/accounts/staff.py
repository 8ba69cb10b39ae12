"""Staff operations: ``createAccount`` (with its first User Admin, invited),
``addEmployerClient`` / ``removeEmployerClient``, ``setRetentionPolicy``, ``setSignOnLinks``."""

from __future__ import annotations

import uuid

import strawberry

from portal.resolvers.accounts import contacts, staff
from portal.resolvers.errors import PortalError
from portal.schema.accounts.access_requests import STAFF_ONLY
from portal.schema.accounts.common import AddressInput, address_or_none, audit_change
from portal.schema.accounts.types import Account, Contact
from portal.schema.catalog import SignOnLink
from portal.schema.context import Info
from portal.schema.payloads import MutationPayload, UserError
from portal.schema.permissions import requires
from portal.schema.relay import decode_global_id


@strawberry.input(description="The account's first User Admin: invited by email at once.")
class FirstAdminInput:
    first_name: str
    last_name: str
    work_email: str
    phone: str | None = None
    title: str | None = None


@strawberry.input
class CreateAccountInput:
    name: str
    account_number: str = strawberry.field(description="1 to 32 letters, digits or dashes.")
    mailing_address: AddressInput | None = None
    billing_address: AddressInput | None = None
    main_phone: str | None = None
    fax: str | None = None
    retention_days: int | None = strawberry.field(
        default=None, description="Days before results are archived (default 90)."
    )
    is_third_party_administrator: bool = False
    first_admin: FirstAdminInput


@strawberry.input
class EmployerClientInput:
    account_id: strawberry.ID = strawberry.field(description="The third-party administrator.")
    client_account_id: strawberry.ID = strawberry.field(description="The employer client.")


@strawberry.input
class SetRetentionPolicyInput:
    account_id: strawberry.ID
    archive_after_days: int = strawberry.field(
        description="Results leave employer views this many days after posting (1 to 3650); "
        "documents' archive state follows at once."
    )


@strawberry.input
class SignOnLinkInput:
    label: str
    url: str = strawberry.field(description="An https:// address.")
    description: str | None = None


@strawberry.input
class SetSignOnLinksInput:
    links: list[SignOnLinkInput] = strawberry.field(
        description="The whole list, in display order (at most 20): links not listed go."
    )


@strawberry.type
class CreateAccountPayload(MutationPayload):
    account: Account | None
    first_admin: Contact | None


@strawberry.type
class EmployerClientPayload(MutationPayload):
    account: Account | None = strawberry.field(description="The third-party administrator.")
    client: Account | None


@strawberry.type
class AddEmployerClientPayload(EmployerClientPayload):
    pass


@strawberry.type
class RemoveEmployerClientPayload(EmployerClientPayload):
    pass


@strawberry.type
class SetRetentionPolicyPayload(MutationPayload):
    account: Account | None


@strawberry.type
class SetSignOnLinksPayload(MutationPayload):
    links: list[SignOnLink] | None


def _account_id(value: strawberry.ID, field: str) -> uuid.UUID:
    return decode_global_id(value, field=field, expected=Account)


@strawberry.type
class StaffAccountMutations:
    @strawberry.mutation(
        description="Open an employer account with its first contact, invited as User Admin.",
        extensions=[requires(STAFF_ONLY)],
    )
    async def create_account(
        self, info: Info, input: CreateAccountInput
    ) -> CreateAccountPayload | None:
        try:
            values = staff.new_account(
                name=input.name,
                account_number=input.account_number,
                mailing_address=address_or_none(input.mailing_address, "mailingAddress"),
                billing_address=address_or_none(input.billing_address, "billingAddress"),
                main_phone=input.main_phone,
                fax=input.fax,
                retention_days=input.retention_days,
                is_third_party_administrator=input.is_third_party_administrator,
            )
            admin = input.first_admin
            first_admin = contacts.contact_values(
                first_name=admin.first_name,
                last_name=admin.last_name,
                work_email=admin.work_email,
                phone=admin.phone,
                title=admin.title,
                field="firstAdmin",
            )
            opened = await staff.create_account(
                session=info.context.session,
                settings=info.context.settings,
                values=values,
                first_admin=first_admin,
            )
        except PortalError as error:
            return CreateAccountPayload(
                account=None, first_admin=None, user_errors=[UserError.from_error(error)]
            )
        audit_change(
            info,
            "account.created",
            [opened.account.id, opened.contact.id, opened.user_id],
            account_id=opened.account.id,
            before=None,
            after={
                "name": opened.account.name,
                "accountNumber": opened.account.account_number,
                "retentionDays": opened.account.retention_days,
                "firstAdmin": opened.contact.work_email,
            },
        )
        return CreateAccountPayload(
            account=Account.from_row(opened.account),
            first_admin=Contact.from_row(opened.contact),
            user_errors=[],
        )

    @strawberry.mutation(
        description="Make an account an employer client of a third-party administrator: the "
        "administrator's people see its data the way it does.",
        extensions=[requires(STAFF_ONLY)],
    )
    async def add_employer_client(
        self, info: Info, input: EmployerClientInput
    ) -> AddEmployerClientPayload | None:
        try:
            administrator, client, previous = await staff.add_employer_client(
                session=info.context.session,
                administrator_id=_account_id(input.account_id, "accountId"),
                client_id=_account_id(input.client_account_id, "clientAccountId"),
            )
        except PortalError as error:
            return AddEmployerClientPayload(
                account=None, client=None, user_errors=[UserError.from_error(error)]
            )
        if previous != administrator.id:
            for account_id in (administrator.id, client.id):
                audit_change(
                    info,
                    "account.employer_client_added",
                    [administrator.id, client.id],
                    account_id=account_id,
                    before={"parentAccountId": None},
                    after={"parentAccountId": str(administrator.id)},
                )
        return AddEmployerClientPayload(
            account=Account.from_row(administrator), client=Account.from_row(client), user_errors=[]
        )

    @strawberry.mutation(
        description="Detach an employer client from its third-party administrator.",
        extensions=[requires(STAFF_ONLY)],
    )
    async def remove_employer_client(
        self, info: Info, input: EmployerClientInput
    ) -> RemoveEmployerClientPayload | None:
        try:
            administrator, client = await staff.remove_employer_client(
                session=info.context.session,
                administrator_id=_account_id(input.account_id, "accountId"),
                client_id=_account_id(input.client_account_id, "clientAccountId"),
            )
        except PortalError as error:
            return RemoveEmployerClientPayload(
                account=None, client=None, user_errors=[UserError.from_error(error)]
            )
        for account_id in (administrator.id, client.id):
            audit_change(
                info,
                "account.employer_client_removed",
                [administrator.id, client.id],
                account_id=account_id,
                before={"parentAccountId": str(administrator.id)},
                after={"parentAccountId": None},
            )
        return RemoveEmployerClientPayload(
            account=Account.from_row(administrator), client=Account.from_row(client), user_errors=[]
        )

    @strawberry.mutation(
        description="Set how many days after posting an account's results are archived.",
        extensions=[requires(STAFF_ONLY)],
    )
    async def set_retention_policy(
        self, info: Info, input: SetRetentionPolicyInput
    ) -> SetRetentionPolicyPayload | None:
        try:
            account, previous = await staff.set_retention_policy(
                session=info.context.session,
                account_id=_account_id(input.account_id, "accountId"),
                archive_after_days=input.archive_after_days,
            )
        except PortalError as error:
            return SetRetentionPolicyPayload(
                account=None, user_errors=[UserError.from_error(error)]
            )
        if previous != account.retention_days:
            audit_change(
                info,
                "account.retention_changed",
                [account.id],
                account_id=account.id,
                before={"retentionDays": previous},
                after={"retentionDays": account.retention_days},
            )
        return SetRetentionPolicyPayload(account=Account.from_row(account), user_errors=[])

    @strawberry.mutation(
        description="Replace the links on the sign-on page (the drug-screen results portal).",
        extensions=[requires(STAFF_ONLY)],
    )
    async def set_sign_on_links(
        self, info: Info, input: SetSignOnLinksInput
    ) -> SetSignOnLinksPayload | None:
        try:
            values = staff.link_values(
                [(link.label, link.url, link.description) for link in input.links]
            )
            rows, before = await staff.set_sign_on_links(session=info.context.session, links=values)
        except PortalError as error:
            return SetSignOnLinksPayload(links=None, user_errors=[UserError.from_error(error)])
        audit_change(
            info,
            "sign_on_links.replaced",
            [row.id for row in rows],
            account_id=None,
            before=before,
            after=[{"label": row.label, "url": row.url} for row in rows],
        )
        return SetSignOnLinksPayload(
            links=[SignOnLink.from_row(row) for row in rows], user_errors=[]
        )
