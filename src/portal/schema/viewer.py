"""``viewer``: who am I, my role, my account, my permissions and scopes."""

from __future__ import annotations

import strawberry
from strawberry import relay

from portal.auth.principal import ViewerRole, permissions_in_force
from portal.models.enums import Permission
from portal.schema.accounts import Account
from portal.schema.context import Info
from portal.schema.permissions import ACCOUNT_READ, requires


@strawberry.type(description="The signed-in caller.")
class Viewer:
    id: strawberry.ID = strawberry.field(description="The caller's own id (user, staff or client).")
    email: str | None = strawberry.field(description="The login email; null for API clients.")
    role: ViewerRole
    permissions: list[Permission] = strawberry.field(
        description="Per-user permissions in force (a User Admin holds them all)."
    )
    scopes: list[str] = strawberry.field(description="OAuth scopes (API clients only).")
    second_factor_enabled: bool = strawberry.field(
        default=False, description="A TOTP second factor is confirmed for this person."
    )
    mfa_enrollment_required: bool = strawberry.field(
        default=False,
        description="Second-factor enrolment is mandatory and missing: until it is confirmed, "
        "only `viewer`, `beginTotpEnrollment`, `confirmTotpEnrollment` and sign-out answer; "
        "other fields are FORBIDDEN with `extensions.reason` MFA_ENROLLMENT_REQUIRED.",
    )

    @strawberry.field(
        description="The caller's account; null for staff.", extensions=[requires(ACCOUNT_READ)]
    )
    async def account(self, info: Info) -> Account | None:
        account_id = info.context.principal.account_id
        if account_id is None:
            return None
        row = await info.context.loaders.account.load(account_id)
        return Account.from_row(row) if row else None


@strawberry.type
class ViewerQueries:
    @strawberry.field(description="The signed-in caller; null when no token was sent.")
    def viewer(self, info: Info) -> Viewer | None:
        principal = info.context.principal
        role = principal.role
        if principal.id is None or role is None:
            return None
        permissions = (
            list(permissions_in_force(principal.user_role, principal.permissions))
            if principal.user_role is not None
            else []
        )
        return Viewer(
            id=strawberry.ID(_viewer_global_id(principal.kind.value, principal.id)),
            email=principal.email,
            role=role,
            permissions=permissions,
            scopes=sorted(principal.scopes),
            second_factor_enabled=principal.second_factor_confirmed,
            mfa_enrollment_required=principal.must_enroll_second_factor(
                required_for_admins=info.context.settings.require_mfa_for_admins
            ),
        )


def _viewer_global_id(kind: str, row_id: object) -> str:
    type_name = {"USER": "PortalUser", "STAFF": "StaffUser", "API_CLIENT": "ApiClient"}[kind]
    return str(relay.GlobalID(type_name, str(row_id)))
