"""The one permission directive: declared on a field, printed in the SDL, enforced per request.

``@requires(roles: [...], permission: ..., scope: ..., ownRecordRoles: [...])`` grants access to
any principal that matches one of its paths: a person or staff member whose role is listed, a
user holding the named permission, an API client holding the named scope, or a person whose role
is in ``ownRecordRoles`` reading a field of their own record (their own contact). With no
arguments it asks only for an authenticated caller. Decisions depend only on the principal, so
each distinct rule is decided once per request and remembered in the context (the own-record path
alone looks at the object).

Mandatory second factor (``PORTAL_REQUIRE_MFA_FOR_ADMINS``): a staff member or User Admin
without a confirmed TOTP factor may sign in, but the session is restricted to enrolling one.
The restriction is not stored anywhere: it is derived on every request from the principal (read
from the database) and enforced here, in the one decision every field and ``node`` goes through.
Only rules marked ``during_mfa_enrollment`` (enrolment, sign-out) and fields without a rule
(``viewer``, ``login``) answer; everything else is FORBIDDEN with
``extensions.reason = MFA_ENROLLMENT_REQUIRED``. Confirming the factor lifts the restriction on
the very next request, with the same tokens."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import strawberry
from graphql import GraphQLObjectType, GraphQLSchema
from graphql.pyutils import Path
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location

from portal.auth.principal import Principal, PrincipalKind, ViewerRole
from portal.models.enums import AuditResult, Permission
from portal.resolvers.audit import AuditEntry
from portal.resolvers.errors import Forbidden, MfaEnrollmentRequired, Unauthenticated
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
        "permission, an API client holding the scope (or any of `scopes`), or a person in "
        "`ownRecordRoles` reading their own record. No arguments: any signed-in caller."
    ),
)
class RequiresDirective:
    roles: list[ViewerRole] | None = strawberry.UNSET
    permission: Permission | None = strawberry.UNSET
    scope: str | None = strawberry.UNSET
    own_record_roles: list[ViewerRole] | None = strawberry.UNSET
    scopes: list[str] | None = strawberry.UNSET


@runtime_checkable
class OwnRecord(Protocol):
    """An object that may belong to the caller (their own contact): ``ownRecordRoles`` admit
    those roles to its field only then."""

    def belongs_to(self, principal: Principal) -> bool: ...


@dataclass(frozen=True, slots=True)
class Rule:
    roles: frozenset[ViewerRole] = frozenset()
    permission: Permission | None = None
    scope: str | None = None
    # Open to a session restricted to second-factor enrolment (see the module docstring).
    during_mfa_enrollment: bool = False
    # Roles admitted to the field of their own record only (e.g. a Basic user's own contact).
    own_record_roles: frozenset[ViewerRole] = frozenset()
    # API clients holding any one of these (a field of an object several scopes reach).
    scopes: frozenset[str] = frozenset()

    @property
    def any_authenticated(self) -> bool:
        return (
            not self.roles
            and self.permission is None
            and self.scope is None
            and not self.own_record_roles
            and not self.scopes
        )

    def allows(self, principal: Principal) -> bool:
        if not principal.is_authenticated:
            return False
        if self.any_authenticated:
            return True
        role = principal.role
        if principal.kind is PrincipalKind.API_CLIENT:
            return (
                self.scope is not None and self.scope in principal.scopes
            ) or not self.scopes.isdisjoint(principal.scopes)
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
        decision = rule.allows(info.context.principal) and not enrollment_blocks(info, rule)
        cache[rule] = decision
    return decision


def enrollment_blocks(info: Info, rule: Rule) -> bool:
    """The caller must enrol a second factor first, and this rule is not part of enrolment."""
    if rule.during_mfa_enrollment:
        return False
    return info.context.principal.must_enroll_second_factor(
        required_for_admins=info.context.settings.require_mfa_for_admins
    )


class Requires(BasePermission):
    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self.directive = RequiresDirective(
            roles=sorted(rule.roles) if rule.roles else strawberry.UNSET,
            permission=rule.permission if rule.permission is not None else strawberry.UNSET,
            scope=rule.scope if rule.scope is not None else strawberry.UNSET,
            own_record_roles=(
                sorted(rule.own_record_roles) if rule.own_record_roles else strawberry.UNSET
            ),
            scopes=sorted(rule.scopes) if rule.scopes else strawberry.UNSET,
        )

    @property
    def schema_directive(self) -> object:
        return self.directive

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if decide(info, self.rule):
            return True
        if self._own_record(source, info):
            return True
        enrolling = enrollment_blocks(info, self.rule)
        details = {"path": _path(info)}
        if enrolling:
            details["reason"] = MfaEnrollmentRequired.reason
        info.context.audit(
            AuditEntry(action="access.denied", result=AuditResult.DENIED, details=details)
        )
        if enrolling:
            raise MfaEnrollmentRequired(
                "Set up two-step verification first: call `beginTotpEnrollment`, then "
                "`confirmTotpEnrollment` with a code from your authenticator app."
            )
        if not info.context.principal.is_authenticated:
            raise Unauthenticated("Sign in to see this: send `Authorization: Bearer <token>`.")
        raise Forbidden("You do not have access to this.")

    def _own_record(self, source: Any, info: Info) -> bool:
        principal = info.context.principal
        return (
            principal.role in self.rule.own_record_roles
            and isinstance(source, OwnRecord)
            and source.belongs_to(principal)
            and not enrollment_blocks(info, self.rule)
        )


def rule(
    *roles: ViewerRole,
    permission: Permission | None = None,
    scope: str | None = None,
    during_mfa_enrollment: bool = False,
    own_record_roles: tuple[ViewerRole, ...] = (),
    scopes: tuple[str, ...] = (),
) -> Rule:
    return Rule(
        roles=frozenset(roles),
        permission=permission,
        scope=scope,
        during_mfa_enrollment=during_mfa_enrollment,
        own_record_roles=frozenset(own_record_roles),
        scopes=frozenset(scopes),
    )


def requires(access: Rule) -> PermissionExtension:
    """The field extension to put in ``strawberry.field(extensions=[...])``."""
    return PermissionExtension(permissions=[Requires(access)], use_directives=True)


def describe(access: Rule) -> str:
    """The rule in words, as appended to a guarded field's description (introspection, GraphiQL's
    docs and generated clients do not see schema directives)."""
    if access.any_authenticated:
        return "Requires: any signed-in caller (API clients too)."
    people = [role.value for role in sorted(access.roles)]
    if access.permission is not None:
        people.append(f"a user holding {access.permission.value}")
    if len(people) > 2:
        who = ", ".join(people[:-1]) + ", or " + people[-1]
    elif len(people) == 2:
        who = " or ".join(people)
    else:
        who = people[0] if people else "no person"
    held = sorted({access.scope} if access.scope is not None else set()) + sorted(access.scopes)
    if len(held) > 1:
        clients = "any scope of " + ", ".join(held[:-1]) + " or " + held[-1]
    else:
        clients = f"scope {held[0]}" if held else "not allowed"
    return f"Requires: {who}; API clients: {clients}."


def document_rules(schema: GraphQLSchema) -> None:
    """Append each guarded field's rule to its description, once, when the schema is built."""
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for field in graphql_type.fields.values():
            definition = (field.extensions or {}).get("strawberry-definition")
            for extension in getattr(definition, "extensions", None) or ():
                if not isinstance(extension, PermissionExtension):
                    continue
                for permission in extension.permissions:
                    if isinstance(permission, Requires):
                        text = describe(permission.rule)
                        described = field.description or ""
                        if text not in described:
                            field.description = f"{described}\n\n{text}".strip()


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
