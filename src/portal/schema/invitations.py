"""Invitations: ``inviteUser`` (a User Admin, for a contact of their account) and
``acceptInvitation`` (anyone holding the emailed link)."""

from __future__ import annotations

import strawberry

from portal.auth.principal import ViewerRole
from portal.models.enums import AuditResult, Role
from portal.resolvers import invitations
from portal.resolvers.audit import AuditEntry
from portal.resolvers.errors import PortalError
from portal.schema.accounts import Contact
from portal.schema.context import Info
from portal.schema.payloads import MutationPayload, UserError
from portal.schema.permissions import requires, rule
from portal.schema.relay import decode_global_id
from portal.schema.sessions import SessionTokensPayload

USER_ADMINS = rule(ViewerRole.USER_ADMIN)


@strawberry.input
class InviteUserInput:
    contact_id: strawberry.ID = strawberry.field(description="The contact to invite.")
    role: Role = strawberry.field(description="The role the login will have.")


@strawberry.input
class AcceptInvitationInput:
    token: str = strawberry.field(description="The token of the emailed link (after #token=).")
    password: str = strawberry.field(description="The password to sign in with from now on.")


@strawberry.type
class InviteUserPayload(MutationPayload):
    contact: Contact | None = strawberry.field(
        description="The invited contact; `portalAccess` shows the INVITED login."
    )


@strawberry.type(description="The new user's first sign-in session, like `login`'s.")
class AcceptInvitationPayload(SessionTokensPayload):
    pass


@strawberry.type
class InvitationMutations:
    @strawberry.mutation(
        description="Invite a contact of your account to the portal: an email with a "
        "set-password link valid 72 hours. Inviting again sends a fresh link and voids the old.",
        extensions=[requires(USER_ADMINS)],
    )
    async def invite_user(self, info: Info, input: InviteUserInput) -> InviteUserPayload | None:
        context = info.context
        try:
            contact_id = decode_global_id(input.contact_id, field="contactId", expected=Contact)
            invited = await invitations.invite_user(
                session=context.session,
                settings=context.settings,
                principal=context.principal,
                contact_id=contact_id,
                role=input.role,
            )
        except PortalError as error:
            return InviteUserPayload(contact=None, user_errors=[UserError.from_error(error)])
        context.audit(
            AuditEntry(
                action="user.invited",
                result=AuditResult.ALLOWED,
                object_ids=(str(invited.user_id), str(invited.contact.id)),
                details={"role": input.role.value},
            )
        )
        return InviteUserPayload(contact=Contact.from_row(invited.contact), user_errors=[])

    @strawberry.mutation(
        description="Accept an invitation: set the password and sign in. The link works once."
    )
    async def accept_invitation(
        self, info: Info, input: AcceptInvitationInput
    ) -> AcceptInvitationPayload:
        context = info.context
        try:
            accepted = await invitations.accept_invitation(
                session=context.session,
                tokens=context.tokens,
                settings=context.settings,
                token=input.token,
                password=input.password,
                ip=context.client_ip,
                user_agent=context.request.headers.get("user-agent"),
            )
        except PortalError as error:
            context.audit(
                AuditEntry(
                    action="user.invitation_refused",
                    result=AuditResult.DENIED,
                    details={"code": error.code.value},
                )
            )
            return AcceptInvitationPayload.failed(error)
        context.audit(
            AuditEntry(
                action="user.invitation_accepted",
                result=AuditResult.ALLOWED,
                actor_label=accepted.email,
                account_id=accepted.account_id,
                object_ids=(str(accepted.user_id), str(accepted.tokens.session_id)),
            )
        )
        return AcceptInvitationPayload.of(accepted.tokens)
