"""Who is making a request: resolved once per request from the bearer token and the database."""

from __future__ import annotations

import uuid
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

    @classmethod
    def anonymous(cls) -> Principal:
        return cls(kind=PrincipalKind.ANONYMOUS)

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
        if self.is_staff:
            return AccountScope.everything()
        return AccountScope(account_ids=self.account_ids)

    def has_permission(self, permission: Permission) -> bool:
        # A User Admin holds every per-user permission by virtue of the role.
        return self.user_role is Role.USER_ADMIN or permission in self.permissions
