"""The one permission directive: declared on a field, printed in the SDL, enforced per request.

``@requires(roles: [...], permission: ..., scope: ...)`` grants access to any principal that
matches one of its paths: a person or staff member whose role is listed, a user holding the
named permission, or an API client holding the named scope. With no arguments it asks only for
an authenticated caller. Decisions depend only on the principal, so each distinct rule is
decided once per request and remembered in the context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import strawberry
from graphql.pyutils import Path
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location

from portal.auth.principal import Principal, PrincipalKind, ViewerRole
from portal.models.enums import AuditResult, Permission
from portal.resolvers.audit import AuditEntry
from portal.resolvers.errors import Forbidden, Unauthenticated
from portal.schema.context import Info

strawberry_viewer_role = strawberry.enum(
    ViewerRole, name="ViewerRole", description="Who the caller is."
)
strawberry_permission = strawberry.enum(
    Permission, name="Permission", description="A per-user permission granted by a User Admin."
)


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="requires",
    description=(
        "Who may read this field or call this mutation: a listed role, a user holding the "
        "permission, or an API client holding the scope. No arguments: any signed-in caller."
    ),
)
class RequiresDirective:
    roles: list[ViewerRole] | None = strawberry.UNSET
    permission: Permission | None = strawberry.UNSET
    scope: str | None = strawberry.UNSET


@dataclass(frozen=True, slots=True)
class Rule:
    roles: frozenset[ViewerRole] = frozenset()
    permission: Permission | None = None
    scope: str | None = None

    @property
    def any_authenticated(self) -> bool:
        return not self.roles and self.permission is None and self.scope is None

    def allows(self, principal: Principal) -> bool:
        if not principal.is_authenticated:
            return False
        if self.any_authenticated:
            return True
        role = principal.role
        if principal.kind is PrincipalKind.API_CLIENT:
            return self.scope is not None and self.scope in principal.scopes
        if role is not None and role in self.roles:
            return True
        return (
            principal.kind is PrincipalKind.USER
            and self.permission is not None
            and principal.has_permission(self.permission)
        )


def decide(info: Info, rule: Rule) -> bool:
    cache = info.context.decisions
    decision = cache.get(rule)
    if decision is None:
        decision = rule.allows(info.context.principal)
        cache[rule] = decision
    return decision


class Requires(BasePermission):
    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.directive = RequiresDirective(
            roles=sorted(rule.roles) if rule.roles else strawberry.UNSET,
            permission=rule.permission if rule.permission is not None else strawberry.UNSET,
            scope=rule.scope if rule.scope is not None else strawberry.UNSET,
        )

    @property
    def schema_directive(self) -> object:
        return self.directive

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if decide(info, self.rule):
            return True
        info.context.audit(
            AuditEntry(
                action="access.denied",
                result=AuditResult.DENIED,
                details={"path": _path(info)},
            )
        )
        if not info.context.principal.is_authenticated:
            raise Unauthenticated("Sign in to see this: send `Authorization: Bearer <token>`.")
        raise Forbidden("You do not have access to this.")


def rule(
    *roles: ViewerRole, permission: Permission | None = None, scope: str | None = None
) -> Rule:
    return Rule(roles=frozenset(roles), permission=permission, scope=scope)


def requires(access: Rule) -> PermissionExtension:
    """The field extension to put in ``strawberry.field(extensions=[...])``."""
    return PermissionExtension(permissions=[Requires(access)], use_directives=True)


SIGNED_IN = Rule()
ACCOUNT_READ = rule(ViewerRole.USER_ADMIN, ViewerRole.BASIC, ViewerRole.STAFF, scope="account:read")


def _path(info: Info) -> str:
    parts: list[str] = []
    path: Path | None = info.path
    while path is not None:
        if isinstance(path.key, str):
            parts.append(path.key)
        path = path.prev
    return ".".join(reversed(parts))
