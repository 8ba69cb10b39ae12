"""Who is making a request: resolved once per request from the bearer token and the database."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from portal.models.db import AccountScope
from portal.models.enums import Permission, Role


class ViewerRole(StrEnum):
    USER_ADMIN = "USER_ADMIN"
    BASIC = "BASIC"
    STAFF = "STAFF"
    API_CLIENT = "API_CLIENT"


class PrincipalKind(StrEnum):
    ANONYMOUS = "ANONYMOUS"
    USER = "USER"
    STAFF = "STAFF"
    API_CLIENT = "API_CLIENT"


@dataclass(frozen=True, slots=True)
class Principal:
    kind: PrincipalKind
    id: uuid.UUID | None = None
    email: str | None = None
    # The account a user or client belongs to; None for staff and anonymous callers.
    account_id: uuid.UUID | None = None
    # The account plus, for a third-party administrator, its employer clients.
    account_ids: frozenset[uuid.UUID] = field(default_factory=frozenset)
    user_role: Role | None = None
    permissions: frozenset[Permission] = field(default_factory=frozenset)
    scopes: frozenset[str] = field(default_factory=frozenset)
    token_id: str | None = None
    # The sign-in session behind the access token (None for `portal token` and API clients).
    session_id: uuid.UUID | None = None
    # A confirmed TOTP second factor, read with the rest of the principal on every request.
    second_factor_confirmed: bool = False
    # An API client of the provider's own systems (ingestion), not of an employer account.
    provider_system: bool = False
    # A person's own contact (the record they may read and change for themselves).
    contact_id: uuid.UUID | None = None
    # An API or provider client's name and OAuth client id, so the audit trail names it.
    client_name: str | None = None
    client_id: str | None = None
    # Persisted operations: the SHA-256 of each document an API client may run (None: any).
    allowed_operations: frozenset[str] | None = None

    @classmethod
    def anonymous(cls) -> Principal:
        return cls(kind=PrincipalKind.ANONYMOUS)

    @property
    def label(self) -> str | None:
        """How the audit trail names the caller: the email, or a client's name and client id."""
        if self.email is not None:
            return self.email
        if self.client_name is not None:
            return f"{self.client_name} ({self.client_id})" if self.client_id else self.client_name
        return None

    @property
    def is_authenticated(self) -> bool:
        return self.kind is not PrincipalKind.ANONYMOUS

    @property
    def is_staff(self) -> bool:
        return self.kind is PrincipalKind.STAFF

    @property
    def role(self) -> ViewerRole | None:
        match self.kind:
            case PrincipalKind.STAFF:
                return ViewerRole.STAFF
            case PrincipalKind.API_CLIENT:
                return ViewerRole.API_CLIENT
            case PrincipalKind.USER:
                return ViewerRole(self.user_role.value) if self.user_role else None
            case _:
                return None

    @property
    def scope(self) -> AccountScope:
        # The provider's systems post results for every employer, as staff do; what they may
        # read stays limited by their scopes, decided per field.
        if self.is_staff or self.provider_system:
            return AccountScope.everything()
        return AccountScope(account_ids=self.account_ids)

    @property
    def is_administrator(self) -> bool:
        """Staff and User Admins: the people a mandatory second factor applies to."""
        return self.is_staff or (
            self.kind is PrincipalKind.USER and self.user_role is Role.USER_ADMIN
        )

    def must_enroll_second_factor(self, *, required_for_admins: bool) -> bool:
        """With PORTAL_REQUIRE_MFA_FOR_ADMINS, an administrator without a confirmed factor may
        only enrol one (derived per request: confirming it lifts the restriction at once)."""
        return required_for_admins and self.is_administrator and not self.second_factor_confirmed

    def has_permission(self, permission: Permission) -> bool:
        return permission in permissions_in_force(self.user_role, self.permissions)


def permissions_in_force(
    role: Role | None, granted: Iterable[Permission]
) -> tuple[Permission, ...]:
    """The per-user permissions a person holds, sorted: a User Admin holds every one by virtue
    of the role, anyone else those granted. ``viewer`` and ``PortalUser`` both answer this."""
    if role is Role.USER_ADMIN:
        return tuple(sorted(Permission))
    return tuple(sorted(set(granted)))
