"""Password reset and change: ``requestPasswordReset``, ``resetPassword``, ``changePassword``."""

from __future__ import annotations

import strawberry

from portal.auth.principal import ViewerRole
from portal.models.enums import AuditResult
from portal.resolvers import passwords
from portal.resolvers.audit import AuditEntry
from portal.resolvers.errors import PortalError
from portal.schema.context import Info
from portal.schema.payloads import MutationPayload, UserError
from portal.schema.permissions import requires, rule

PEOPLE = rule(ViewerRole.USER_ADMIN, ViewerRole.BASIC, ViewerRole.STAFF)


@strawberry.input
class RequestPasswordResetInput:
    email: str = strawberry.field(description="The login email, in any case.")


@strawberry.input
class ResetPasswordInput:
    token: str = strawberry.field(description="The token of the emailed link (after #token=).")
    password: str = strawberry.field(description="The new password.")


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str


@strawberry.type(
    description="Always the same answer, whether or not the email belongs to an account."
)
class RequestPasswordResetPayload(MutationPayload):
    pass


@strawberry.type
class ResetPasswordPayload(MutationPayload):
    pass


@strawberry.type
class ChangePasswordPayload(MutationPayload):
    other_sessions_ended: int = strawberry.field(
        description="How many other sign-in sessions of yours were ended."
    )


def _audit_person(result: passwords.PasswordSet) -> tuple[str, ...]:
    return (str(result.person.id),)


@strawberry.type
class PasswordMutations:
    @strawberry.mutation(
        description="Email a single-use link (valid 20 minutes) for choosing a new password. The "
        "answer is the same whether or not the email belongs to an account."
    )
    async def request_password_reset(
        self, info: Info, input: RequestPasswordResetInput
    ) -> RequestPasswordResetPayload:
        context = info.context
        label = input.email.strip().lower()[:254]
        try:
            outcome = await passwords.request_password_reset(
                session=context.session,
                settings=context.settings,
                email=input.email,
                ip=context.client_ip,
            )
        except PortalError as error:
            context.audit(
                AuditEntry(
                    action="password_reset.throttled",
                    result=AuditResult.DENIED,
                    actor_label=label,
                    details={"code": error.code.value},
                )
            )
            return RequestPasswordResetPayload(user_errors=[UserError.from_error(error)])
        context.audit(
            AuditEntry(
                action=passwords.RESET_REQUESTED_ACTION,
                result=AuditResult.ALLOWED,
                actor_label=label,
                account_id=outcome.account_id,
                object_ids=(str(outcome.person_id),) if outcome.person_id else (),
                details={"emailed": outcome.emailed},
            )
        )
        return RequestPasswordResetPayload(user_errors=[])

    @strawberry.mutation(
        description="Set a new password with the token of a reset link. The link works once; "
        "every sign-in session of the person ends."
    )
    async def reset_password(self, info: Info, input: ResetPasswordInput) -> ResetPasswordPayload:
        context = info.context
        try:
            result = await passwords.reset_password(
                session=context.session,
                settings=context.settings,
                token=input.token,
                password=input.password,
            )
        except PortalError as error:
            context.audit(
                AuditEntry(
                    action="password.reset_failed",
                    result=AuditResult.DENIED,
                    details={"code": error.code.value},
                )
            )
            return ResetPasswordPayload(user_errors=[UserError.from_error(error)])
        context.audit(
            AuditEntry(
                action="password.reset",
                result=AuditResult.ALLOWED,
                actor_label=result.person.row.email,
                account_id=result.person.account_id,
                object_ids=_audit_person(result),
                details={"sessions_ended": result.sessions_ended},
            )
        )
        return ResetPasswordPayload(user_errors=[])

    @strawberry.mutation(
        description="Change your password: the current one is needed (wrong guesses count "
        "toward the sign-in lockout); your other sign-in sessions end, this one stays.",
        extensions=[requires(PEOPLE)],
    )
    async def change_password(
        self, info: Info, input: ChangePasswordInput
    ) -> ChangePasswordPayload | None:
        context = info.context
        try:
            result = await passwords.change_password(
                session=context.session,
                settings=context.settings,
                principal=context.principal,
                current_password=input.current_password,
                new_password=input.new_password,
                ip=context.client_ip,
            )
        except PortalError as error:
            context.audit(
                AuditEntry(
                    action="password.change_failed",
                    result=AuditResult.DENIED,
                    details={"code": error.code.value},
                )
            )
            return ChangePasswordPayload(
                other_sessions_ended=0, user_errors=[UserError.from_error(error)]
            )
        context.audit(
            AuditEntry(
                action="password.changed",
                result=AuditResult.ALLOWED,
                object_ids=_audit_person(result),
                details={"sessions_ended": result.sessions_ended},
            )
        )
        return ChangePasswordPayload(other_sessions_ended=result.sessions_ended, user_errors=[])
