"""Contacts: ``addContact``, ``updateContact`` (User Admins and staff), ``deactivateContact``
(User Admins), ``confirmEmailChange`` (the emailed link) and ``setNotificationPreferences``
(oneself, or a User Admin for anyone of the account)."""

from __future__ import annotations

import strawberry

from portal.auth.principal import ViewerRole
from portal.models.enums import AuditResult
from portal.resolvers.accounts import contacts, email_change, receiving
from portal.resolvers.accounts.email_change import LoginEmailChange
from portal.resolvers.audit import AuditEntry
from portal.resolvers.errors import PortalError
from portal.schema.accounts.common import audit_change
from portal.schema.accounts.company import ACCOUNT_ID_DESCRIPTION, optional_account_id
from portal.schema.accounts.types import Contact, NotificationPreferences
from portal.schema.context import Info
from portal.schema.payloads import MutationPayload, UserError
from portal.schema.permissions import requires, rule
from portal.schema.relay import decode_global_id
from portal.schema.users import MANAGE_USERS

# Contact information is account information: User Admins and staff keep it accurate (support
# handles "my email address changes" requests).
CONTACT_EDIT = rule(ViewerRole.USER_ADMIN, ViewerRole.STAFF)
# One's own preferences, or (User Admin) anyone's of the account.
PREFERENCES_EDIT = rule(ViewerRole.USER_ADMIN, ViewerRole.BASIC)

strawberry_login_email_change = strawberry.enum(
    LoginEmailChange,
    name="LoginEmailChange",
    description="How a contact's login followed a work email change: CHANGED at once (an "
    "invitation not yet accepted goes to the new address), or PENDING_CONFIRMATION until the "
    "owner confirms from the link sent to the new address (the old address is told at once).",
)


@strawberry.input
class AddContactInput:
    account_id: strawberry.ID | None = strawberry.field(
        default=None, description=ACCOUNT_ID_DESCRIPTION
    )
    first_name: str
    last_name: str
    work_email: str = strawberry.field(description="Unique among the account's contacts.")
    phone: str | None = None
    title: str | None = None


@strawberry.input(description="Only the parts given change; an empty phone or title clears it.")
class UpdateContactInput:
    id: strawberry.ID
    first_name: str | None = None
    last_name: str | None = None
    work_email: str | None = strawberry.field(
        default=None,
        description="A new work email; for a contact with a login it becomes the login email "
        "(see `loginEmailChange`).",
    )
    phone: str | None = None
    title: str | None = None


@strawberry.input
class DeactivateContactInput:
    id: strawberry.ID


@strawberry.input
class ConfirmEmailChangeInput:
    token: str = strawberry.field(description="The token of the emailed link (after #token=).")


@strawberry.input
class SetNotificationPreferencesInput:
    contact_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Omit for your own; a User Admin may name any contact of the account.",
    )
    email_on_new_results: bool


@strawberry.type
class ContactPayload(MutationPayload):
    contact: Contact | None


@strawberry.type
class AddContactPayload(ContactPayload):
    pass


@strawberry.type
class UpdateContactPayload(ContactPayload):
    login_email_change: LoginEmailChange | None = strawberry.field(
        default=None, description="Set when the work email of a contact with a login changed."
    )


@strawberry.type
class DeactivateContactPayload(ContactPayload):
    sessions_ended: int = strawberry.field(default=0, description="Sign-in sessions ended.")


@strawberry.type
class ConfirmEmailChangePayload(MutationPayload):
    email: str | None = strawberry.field(description="The login email from now on.")


@strawberry.type
class SetNotificationPreferencesPayload(ContactPayload):
    notification_preferences: NotificationPreferences | None


def _contact_id(value: strawberry.ID, field: str = "id") -> object:
    return decode_global_id(value, field=field, expected=Contact)


@strawberry.type
class ContactMutations:
    @strawberry.mutation(
        description="Add a contact to the account (no login: invite them, or ask for access).",
        extensions=[requires(CONTACT_EDIT)],
    )
    async def add_contact(self, info: Info, input: AddContactInput) -> AddContactPayload | None:
        try:
            values = contacts.contact_values(
                first_name=input.first_name,
                last_name=input.last_name,
                work_email=input.work_email,
                phone=input.phone,
                title=input.title,
            )
            contact = await contacts.add_contact(
                session=info.context.session,
                principal=info.context.principal,
                account_id=optional_account_id(input.account_id),
                values=values,
            )
        except PortalError as error:
            return AddContactPayload(contact=None, user_errors=[UserError.from_error(error)])
        audit_change(
            info,
            "contact.added",
            [contact.id],
            account_id=contact.account_id,
            before=None,
            after=contacts.contact_snapshot(contact),
        )
        return AddContactPayload(contact=Contact.from_row(contact), user_errors=[])

    @strawberry.mutation(
        description="Change a contact's name, work email, phone or title. A new work email of a "
        "contact with a login changes the login: the old address gets a notice, the new one a "
        "confirmation link. Only a User Admin changes the email of a contact with a login "
        "(staff get FORBIDDEN at `workEmail`).",
        extensions=[requires(CONTACT_EDIT)],
    )
    async def update_contact(
        self, info: Info, input: UpdateContactInput
    ) -> UpdateContactPayload | None:
        try:
            update = await contacts.update_contact(
                session=info.context.session,
                settings=info.context.settings,
                principal=info.context.principal,
                contact_id=decode_global_id(input.id, field="id", expected=Contact),
                changes=contacts.ContactChanges(
                    first_name=input.first_name,
                    last_name=input.last_name,
                    work_email=input.work_email,
                    phone=input.phone,
                    title=input.title,
                ),
            )
        except PortalError as error:
            return UpdateContactPayload(contact=None, user_errors=[UserError.from_error(error)])
        if update.after:
            audit_change(
                info,
                "contact.updated",
                [update.contact.id, *([update.user_id] if update.user_id else [])],
                account_id=update.contact.account_id,
                before=update.before,
                after=update.after,
                loginEmailChange=update.login_email_change.value
                if update.login_email_change
                else None,
            )
        return UpdateContactPayload(
            contact=Contact.from_row(update.contact),
            login_email_change=update.login_email_change,
            user_errors=[],
        )

    @strawberry.mutation(
        description="Deactivate a contact: their portal login is deactivated and their sessions "
        "end at once. The account's last active User Admin stays.",
        extensions=[requires(MANAGE_USERS)],
    )
    async def deactivate_contact(
        self, info: Info, input: DeactivateContactInput
    ) -> DeactivateContactPayload | None:
        try:
            contact, user_id, ended = await contacts.deactivate_contact(
                session=info.context.session,
                principal=info.context.principal,
                contact_id=decode_global_id(input.id, field="id", expected=Contact),
            )
        except PortalError as error:
            return DeactivateContactPayload(contact=None, user_errors=[UserError.from_error(error)])
        audit_change(
            info,
            "contact.deactivated",
            [contact.id, *([user_id] if user_id else [])],
            account_id=contact.account_id,
            before={"isActive": True},
            after={"isActive": False},
            sessionsEnded=ended,
        )
        return DeactivateContactPayload(
            contact=Contact.from_row(contact), sessions_ended=ended, user_errors=[]
        )

    @strawberry.mutation(
        description="Confirm a new login email from the link sent to it; sign in with it from "
        "then on. The link works once."
    )
    async def confirm_email_change(
        self, info: Info, input: ConfirmEmailChangeInput
    ) -> ConfirmEmailChangePayload:
        try:
            done = await email_change.confirm_email_change(
                session=info.context.session, token=input.token
            )
        except PortalError as error:
            info.context.audit(
                AuditEntry(
                    action="user.email_change_refused",
                    result=AuditResult.DENIED,
                    details={"code": error.code.value},
                )
            )
            return ConfirmEmailChangePayload(email=None, user_errors=[UserError.from_error(error)])
        info.context.audit(
            AuditEntry(
                action="user.email_changed",
                result=AuditResult.ALLOWED,
                account_id=done.account_id,
                object_ids=(str(done.user_id),),
                actor_label=done.after,
                details={"before": {"email": done.before}, "after": {"email": done.after}},
            )
        )
        return ConfirmEmailChangePayload(email=done.after, user_errors=[])

    @strawberry.mutation(
        description="Choose whether to be emailed when new results post: your own, or (User "
        "Admin) any contact's of your account.",
        extensions=[requires(PREFERENCES_EDIT)],
    )
    async def set_notification_preferences(
        self, info: Info, input: SetNotificationPreferencesInput
    ) -> SetNotificationPreferencesPayload | None:
        try:
            contact, before, after = await receiving.set_notification_preferences(
                session=info.context.session,
                principal=info.context.principal,
                contact_id=decode_global_id(input.contact_id, field="contactId", expected=Contact)
                if input.contact_id
                else None,
                email_on_new_results=input.email_on_new_results,
            )
        except PortalError as error:
            return SetNotificationPreferencesPayload(
                contact=None,
                notification_preferences=None,
                user_errors=[UserError.from_error(error)],
            )
        audit_change(
            info,
            "contact.notification_preferences_changed",
            [contact.id],
            account_id=contact.account_id,
            before={"emailOnNewResults": before},
            after={"emailOnNewResults": after},
        )
        return SetNotificationPreferencesPayload(
            contact=Contact.from_row(contact),
            notification_preferences=NotificationPreferences(email_on_new_results=after),
            user_errors=[],
        )
