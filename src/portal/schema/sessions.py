"""Signing in and out: ``login``, ``refreshSession``, ``logout``, ``logoutEverywhere``."""

from __future__ import annotations

from typing import Any, Self

import strawberry

from portal.auth.principal import ViewerRole
from portal.models.enums import ActorType, AuditResult
from portal.models.sessions import SessionSubject
from portal.resolvers import sessions
from portal.resolvers.audit import AuditEntry
from portal.resolvers.errors import ErrorCode, PortalError
from portal.resolvers.lockout import LockedOut
from portal.schema.context import Info
from portal.schema.payloads import MutationPayload, UserError
from portal.schema.permissions import requires, rule

# Signing out stays open to a session restricted to second-factor enrolment.
PEOPLE = rule(ViewerRole.USER_ADMIN, ViewerRole.BASIC, ViewerRole.STAFF, during_mfa_enrollment=True)


@strawberry.input(description="Sign in with the login email and password.")
class LoginInput:
    email: str = strawberry.field(description="The login email, in any case.")
    password: str
    totp: str | None = strawberry.field(
        default=None, description="The authenticator code, once a second factor is enrolled."
    )
    recovery_code: str | None = strawberry.field(
        default=None,
        description="Instead of `totp`: one of the recovery codes shown at enrolment; each "
        "works once.",
    )


@strawberry.input
class RefreshSessionInput:
    refresh_token: str = strawberry.field(
        description="The refresh token of the last sign-in or refresh; each one works once."
    )


@strawberry.type(description="A signed-in session's tokens, or why there are none.")
class SessionTokensPayload(MutationPayload):
    access_token: str | None = strawberry.field(
        description="A short-lived access token for `Authorization: Bearer`."
    )
    refresh_token: str | None = strawberry.field(
        description="Exchange it once with `refreshSession` for new tokens before the session "
        "goes idle."
    )
    expires_in: int | None = strawberry.field(description="Seconds until the access token expires.")

    @classmethod
    def of(cls, result: sessions.LoginResult) -> Self:
        return cls(
            access_token=result.access_token,
            refresh_token=result.refresh_token,
            expires_in=result.expires_in,
            user_errors=[],
        )

    @classmethod
    def failed(cls, error: PortalError) -> Self:
        return cls(
            access_token=None,
            refresh_token=None,
            expires_in=None,
            user_errors=[UserError.from_error(error)],
        )


@strawberry.type
class LoginPayload(SessionTokensPayload):
    pass


@strawberry.type
class RefreshSessionPayload(SessionTokensPayload):
    pass


@strawberry.type
class LogoutPayload(MutationPayload):
    pass


@strawberry.type
class LogoutEverywherePayload(MutationPayload):
    sessions_ended: int = strawberry.field(description="How many sign-in sessions were ended.")


@strawberry.type
class SessionMutations:
    @strawberry.mutation(
        description="Sign in: a short-lived access token and a rotating refresh token. Wrong "
        "credentials, an unknown email and a locked account answer one generic error; repeated "
        "failures from one address lock the account for that address for a while."
    )
    async def login(self, info: Info, input: LoginInput) -> LoginPayload:
        context = info.context
        attempt = sessions.SignInSubject()
        try:
            result = await sessions.login(
                session=context.session,
                tokens=context.tokens,
                settings=context.settings,
                email=input.email,
                password=input.password,
                totp=input.totp,
                ip=context.client_ip,
                user_agent=context.request.headers.get("user-agent"),
                recovery_code=input.recovery_code,
                attempt=attempt,
            )
        except PortalError as error:
            # The caller cannot tell a lockout from a wrong password; the audit trail can.
            locked = isinstance(error, LockedOut) or error.code is ErrorCode.RATE_LIMITED
            context.audit(
                AuditEntry(
                    action="login.locked" if locked else "login.failed",
                    result=AuditResult.DENIED,
                    actor_label=input.email.strip().lower()[:254],
                    details={"code": error.code.value},
                    **_signed_in_as(attempt.kind, attempt.subject_id, attempt.account_id),
                )
            )
            return LoginPayload.failed(error)
        context.audit(
            AuditEntry(
                action="login.succeeded",
                result=AuditResult.ALLOWED,
                actor_label=input.email.strip().lower()[:254],
                object_ids=(str(result.session_id),),
                **_signed_in_as(result.subject_kind, result.subject_id, result.account_id),
            )
        )
        return LoginPayload.of(result)

    @strawberry.mutation(
        description="Exchange a refresh token for new tokens; the old refresh token is spent. "
        "Using a spent one again ends the whole session."
    )
    async def refresh_session(
        self, info: Info, input: RefreshSessionInput
    ) -> RefreshSessionPayload:
        context = info.context
        attempt = sessions.SignInSubject()
        try:
            result = await sessions.refresh(
                session=context.session,
                tokens=context.tokens,
                settings=context.settings,
                refresh_token=input.refresh_token,
                attempt=attempt,
            )
        except PortalError as error:
            context.audit(
                AuditEntry(
                    action="session.refresh_failed",
                    result=AuditResult.DENIED,
                    details={"code": error.code.value},
                    **_signed_in_as(attempt.kind, attempt.subject_id, attempt.account_id),
                )
            )
            return RefreshSessionPayload.failed(error)
        context.audit(
            AuditEntry(
                action="session.refreshed",
                result=AuditResult.ALLOWED,
                object_ids=(str(result.session_id),),
                **_signed_in_as(result.subject_kind, result.subject_id, result.account_id),
            )
        )
        return RefreshSessionPayload.of(result)

    @strawberry.mutation(
        description="End this sign-in session: its refresh and access tokens stop working.",
        extensions=[requires(PEOPLE)],
    )
    async def logout(self, info: Info) -> LogoutPayload | None:
        try:
            await sessions.logout(session=info.context.session, principal=info.context.principal)
        except PortalError as error:
            return LogoutPayload(user_errors=[UserError.from_error(error)])
        return LogoutPayload(user_errors=[])

    @strawberry.mutation(
        description="End every sign-in session of the caller, on every device.",
        extensions=[requires(PEOPLE)],
    )
    async def logout_everywhere(self, info: Info) -> LogoutEverywherePayload | None:
        try:
            ended = await sessions.logout_everywhere(
                session=info.context.session, principal=info.context.principal
            )
        except PortalError as error:
            return LogoutEverywherePayload(
                sessions_ended=0, user_errors=[UserError.from_error(error)]
            )
        return LogoutEverywherePayload(sessions_ended=ended, user_errors=[])


def _signed_in_as(
    kind: SessionSubject | None, subject_id: object, account_id: object
) -> dict[str, Any]:
    """The audit fields naming whom a sign-in or refresh was about (empty when unknown), so a
    User Admin finds their users' sign-ins under their account."""
    if kind is None or subject_id is None:
        return {}
    return {
        "actor_type": ActorType.USER if kind is SessionSubject.USER else ActorType.STAFF,
        "actor_id": subject_id,
        "account_id": account_id,
    }
