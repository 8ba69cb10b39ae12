"""Second factor: ``beginTotpEnrollment``, ``confirmTotpEnrollment``, ``regenerateRecoveryCodes``,
``disableTotp``."""

from __future__ import annotations

import strawberry

from portal.auth.principal import ViewerRole
from portal.models.enums import AuditResult
from portal.resolvers import mfa
from portal.resolvers.audit import AuditEntry
from portal.resolvers.errors import PortalError
from portal.schema.context import Info
from portal.schema.payloads import MutationPayload, UserError
from portal.schema.permissions import requires, rule

# Enrolling stays open to a session restricted to enrolment (PORTAL_REQUIRE_MFA_FOR_ADMINS).
ENROLLING_PEOPLE = rule(
    ViewerRole.USER_ADMIN, ViewerRole.BASIC, ViewerRole.STAFF, during_mfa_enrollment=True
)
PEOPLE = rule(ViewerRole.USER_ADMIN, ViewerRole.BASIC, ViewerRole.STAFF)


@strawberry.type(description="A new TOTP secret to add to an authenticator app, then confirm.")
class BeginTotpEnrollmentPayload(MutationPayload):
    secret: str | None = strawberry.field(description="The base32 secret, for typing by hand.")
    provisioning_uri: str | None = strawberry.field(
        description="An `otpauth://` URI to show as a QR code."
    )


@strawberry.input
class ConfirmTotpEnrollmentInput:
    code: str = strawberry.field(description="The current code from the authenticator app.")


@strawberry.input
class RegenerateRecoveryCodesInput:
    code: str = strawberry.field(description="The current code from the authenticator app.")


@strawberry.input
class DisableTotpInput:
    password: str = strawberry.field(description="The current password.")


@strawberry.type(description="Recovery codes: shown only in this answer, each usable once.")
class RecoveryCodesPayload(MutationPayload):
    recovery_codes: list[str] | None = strawberry.field(
        description="Ten single-use codes that replace any earlier set; store them safely."
    )


@strawberry.type
class ConfirmTotpEnrollmentPayload(RecoveryCodesPayload):
    pass


@strawberry.type
class RegenerateRecoveryCodesPayload(RecoveryCodesPayload):
    pass


@strawberry.type
class DisableTotpPayload(MutationPayload):
    pass


def _audit(info: Info, action: str) -> None:
    principal = info.context.principal
    info.context.audit(
        AuditEntry(
            action=action,
            result=AuditResult.ALLOWED,
            object_ids=(str(principal.id),) if principal.id else (),
        )
    )


@strawberry.type
class MfaMutations:
    @strawberry.mutation(
        description="Start enrolling a TOTP second factor: a new secret, unconfirmed until "
        "`confirmTotpEnrollment`. Refused once a factor is confirmed.",
        extensions=[requires(ENROLLING_PEOPLE)],
    )
    async def begin_totp_enrollment(self, info: Info) -> BeginTotpEnrollmentPayload | None:
        try:
            enrollment = await mfa.begin_enrollment(
                session=info.context.session, principal=info.context.principal
            )
        except PortalError as error:
            return BeginTotpEnrollmentPayload(
                secret=None, provisioning_uri=None, user_errors=[UserError.from_error(error)]
            )
        _audit(info, "mfa.enrollment_started")
        return BeginTotpEnrollmentPayload(
            secret=enrollment.secret,
            provisioning_uri=enrollment.provisioning_uri,
            user_errors=[],
        )

    @strawberry.mutation(
        description="Confirm the TOTP factor with a first code; answers ten recovery codes once.",
        extensions=[requires(ENROLLING_PEOPLE)],
    )
    async def confirm_totp_enrollment(
        self, info: Info, input: ConfirmTotpEnrollmentInput
    ) -> ConfirmTotpEnrollmentPayload | None:
        try:
            codes = await mfa.confirm_enrollment(
                session=info.context.session, principal=info.context.principal, code=input.code
            )
        except PortalError as error:
            return ConfirmTotpEnrollmentPayload(
                recovery_codes=None, user_errors=[UserError.from_error(error)]
            )
        _audit(info, "mfa.enrolled")
        return ConfirmTotpEnrollmentPayload(recovery_codes=codes, user_errors=[])

    @strawberry.mutation(
        description="Replace the recovery codes (the old ones stop working); needs a current "
        "authenticator code.",
        extensions=[requires(PEOPLE)],
    )
    async def regenerate_recovery_codes(
        self, info: Info, input: RegenerateRecoveryCodesInput
    ) -> RegenerateRecoveryCodesPayload | None:
        try:
            codes = await mfa.regenerate_recovery_codes(
                session=info.context.session,
                principal=info.context.principal,
                code=input.code,
                settings=info.context.settings,
                ip=info.context.client_ip,
            )
        except PortalError as error:
            return RegenerateRecoveryCodesPayload(
                recovery_codes=None, user_errors=[UserError.from_error(error)]
            )
        _audit(info, "mfa.recovery_codes_regenerated")
        return RegenerateRecoveryCodesPayload(recovery_codes=codes, user_errors=[])

    @strawberry.mutation(
        description="Turn the TOTP factor off (needs the password). Refused for staff and User "
        "Admins while `PORTAL_REQUIRE_MFA_FOR_ADMINS` is on.",
        extensions=[requires(PEOPLE)],
    )
    async def disable_totp(self, info: Info, input: DisableTotpInput) -> DisableTotpPayload | None:
        try:
            await mfa.disable(
                session=info.context.session,
                principal=info.context.principal,
                password=input.password,
                settings=info.context.settings,
                ip=info.context.client_ip,
            )
        except PortalError as error:
            return DisableTotpPayload(user_errors=[UserError.from_error(error)])
        _audit(info, "mfa.disabled")
        return DisableTotpPayload(user_errors=[])
