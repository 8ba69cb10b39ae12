"""The account's portal users, and their management by a User Admin: ``updateUserRole``,
``setUserPermissions``, ``setReportSubscriptions``, ``deactivateUser``, ``reactivateUser``.

``portal.schema.accounts`` imports this module (``Account.users``), so the types of that module
and of ``catalog`` are referred to lazily here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Self

import strawberry

from portal.auth.principal import ViewerRole
from portal.models.enums import AuditResult, Permission, Role, UserStatus
from portal.resolvers import users as user_resolvers
from portal.resolvers.audit import AuditEntry
from portal.resolvers.errors import PortalError
from portal.schema.context import Info
from portal.schema.payloads import MutationPayload, UserError
from portal.schema.permissions import requires, rule
from portal.schema.relay import PortalNode, decode_global_id

if TYPE_CHECKING:
    from portal.schema.accounts import Contact, Location
    from portal.schema.catalog import ReportType

# The GraphQL enums of roles and statuses (portal.schema.accounts re-exports them).
strawberry_role = strawberry.enum(Role, name="UserRole", description="A portal user's role.")
strawberry_user_status = strawberry.enum(UserStatus, name="UserStatus")

# Who sees the account's logins with their status and permissions.
USERS_READ = rule(ViewerRole.USER_ADMIN, ViewerRole.STAFF)
# docs/design-decisions.md, "Who may do what": "invite users, change roles, permissions,
# subscriptions, deactivate": User Admins only (staff may only ask for access, which an admin
# approves).
MANAGE_USERS = rule(ViewerRole.USER_ADMIN)

LazyContact = Annotated["Contact", strawberry.lazy("portal.schema.accounts")]
LazyLocation = Annotated["Location", strawberry.lazy("portal.schema.accounts")]
LazyReportType = Annotated["ReportType", strawberry.lazy("portal.schema.catalog")]


@strawberry.type(description="A portal login of an account, as its User Admins manage it.")
class PortalUser(PortalNode):
    node_rule = USERS_READ
    id: strawberry.relay.NodeID[uuid.UUID]
    email: str = strawberry.field(description="The login email (the contact's work email).")
    role: Role
    status: UserStatus
    permissions: list[Permission] = strawberry.field(
        description="Permissions granted to this user (a User Admin holds them all by role)."
    )
    last_login_at: datetime | None
    deactivated_at: datetime | None
    second_factor_enabled: bool
    pending_email: str | None = strawberry.field(
        description="A new login email waiting for its owner to confirm it from the emailed "
        "link; `email` signs in until then."
    )
    contact_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: user_resolvers.UserView) -> Self:
        return cls(
            id=row.id,
            email=row.email,
            role=row.role,
            status=row.status,
            permissions=list(row.permissions),
            last_login_at=row.last_login_at,
            deactivated_at=row.deactivated_at,
            second_factor_enabled=row.second_factor_enabled,
            pending_email=row.pending_email,
            contact_id=row.contact_id,
        )

    @classmethod
    async def fetch_rows(cls, info: Info, ids: Sequence[uuid.UUID]) -> Sequence[Any | None]:
        return await user_resolvers.load_users(
            session=info.context.session, scope=info.context.scope, ids=ids
        )

    @strawberry.field(description="The person this login belongs to.")
    async def contact(self, info: Info) -> LazyContact | None:
        from portal.schema.accounts import Contact

        row = await info.context.loaders.contact.load(self.contact_id)
        return Contact.from_row(row) if row else None


@strawberry.type(description="A contact receives and sees results of this report type here.")
class ReportSubscription:
    report_type_id: strawberry.Private[uuid.UUID]
    location_id: strawberry.Private[uuid.UUID]

    @strawberry.field
    async def report_type(self, info: Info) -> LazyReportType | None:
        from portal.schema.catalog import ReportType

        row = await info.context.loaders.report_type.load(self.report_type_id)
        return ReportType.from_row(row) if row else None

    @strawberry.field
    async def location(self, info: Info) -> LazyLocation | None:
        from portal.schema.accounts import Location

        row = await info.context.loaders.location.load(self.location_id)
        return Location.from_row(row) if row else None


@strawberry.input
class UpdateUserRoleInput:
    user_id: strawberry.ID
    role: Role


@strawberry.input
class SetUserPermissionsInput:
    user_id: strawberry.ID
    permissions: list[Permission] = strawberry.field(
        description="The whole set: permissions not listed are revoked."
    )


@strawberry.input
class DeactivateUserInput:
    user_id: strawberry.ID


@strawberry.input
class ReactivateUserInput:
    user_id: strawberry.ID


@strawberry.input
class ReportSubscriptionInput:
    report_type_id: strawberry.ID
    location_id: strawberry.ID = strawberry.field(
        description="A location of the contact's account."
    )


@strawberry.input
class SetReportSubscriptionsInput:
    contact_id: strawberry.ID
    subscriptions: list[ReportSubscriptionInput] = strawberry.field(
        description="The whole set: pairs not listed are removed."
    )


@strawberry.type
class UserPayload(MutationPayload):
    user: PortalUser | None


@strawberry.type
class UpdateUserRolePayload(UserPayload):
    pass


@strawberry.type
class SetUserPermissionsPayload(UserPayload):
    pass


@strawberry.type
class DeactivateUserPayload(UserPayload):
    sessions_ended: int = strawberry.field(default=0, description="Sign-in sessions ended.")


@strawberry.type
class ReactivateUserPayload(UserPayload):
    pass


@strawberry.type
class SetReportSubscriptionsPayload(MutationPayload):
    contact: LazyContact | None
    subscriptions: list[ReportSubscription] | None


def _user_id(value: strawberry.ID) -> uuid.UUID:
    return decode_global_id(value, field="userId", expected=PortalUser)


def _audit(info: Info, action: str, object_ids: Sequence[uuid.UUID], **details: Any) -> None:
    info.context.audit(
        AuditEntry(
            action=action,
            result=AuditResult.ALLOWED,
            object_ids=tuple(str(i) for i in object_ids),
            details=details,
        )
    )


@strawberry.type
class UserMutations:
    @strawberry.mutation(
        description="Change a user's role. The account's last active User Admin keeps the role.",
        extensions=[requires(MANAGE_USERS)],
    )
    async def update_user_role(
        self, info: Info, input: UpdateUserRoleInput
    ) -> UpdateUserRolePayload | None:
        try:
            view, previous = await user_resolvers.update_user_role(
                session=info.context.session,
                principal=info.context.principal,
                user_id=_user_id(input.user_id),
                role=input.role,
            )
        except PortalError as error:
            return UpdateUserRolePayload(user=None, user_errors=[UserError.from_error(error)])
        if previous is not view.role:
            _audit(
                info, "user.role_changed", [view.id], before=previous.value, after=view.role.value
            )
        return UpdateUserRolePayload(user=PortalUser.from_row(view), user_errors=[])

    @strawberry.mutation(
        description="Replace a user's permissions (e.g. VIEW_VISIT_ACTIVITY).",
        extensions=[requires(MANAGE_USERS)],
    )
    async def set_user_permissions(
        self, info: Info, input: SetUserPermissionsInput
    ) -> SetUserPermissionsPayload | None:
        try:
            view, before = await user_resolvers.set_user_permissions(
                session=info.context.session,
                principal=info.context.principal,
                user_id=_user_id(input.user_id),
                permissions=input.permissions,
            )
        except PortalError as error:
            return SetUserPermissionsPayload(user=None, user_errors=[UserError.from_error(error)])
        _audit(
            info,
            "user.permissions_changed",
            [view.id],
            before=[p.value for p in before],
            after=[p.value for p in view.permissions],
        )
        return SetUserPermissionsPayload(user=PortalUser.from_row(view), user_errors=[])

    @strawberry.mutation(
        description="Deactivate a user: their sessions end at once and their tokens stop "
        "working at the next request. The account's last active User Admin stays.",
        extensions=[requires(MANAGE_USERS)],
    )
    async def deactivate_user(
        self, info: Info, input: DeactivateUserInput
    ) -> DeactivateUserPayload | None:
        try:
            view, ended = await user_resolvers.deactivate_user(
                session=info.context.session,
                principal=info.context.principal,
                user_id=_user_id(input.user_id),
            )
        except PortalError as error:
            return DeactivateUserPayload(user=None, user_errors=[UserError.from_error(error)])
        _audit(info, "user.deactivated", [view.id], sessions_ended=ended)
        return DeactivateUserPayload(
            user=PortalUser.from_row(view), sessions_ended=ended, user_errors=[]
        )

    @strawberry.mutation(
        description="Let a deactivated user sign in again.", extensions=[requires(MANAGE_USERS)]
    )
    async def reactivate_user(
        self, info: Info, input: ReactivateUserInput
    ) -> ReactivateUserPayload | None:
        try:
            view = await user_resolvers.reactivate_user(
                session=info.context.session,
                principal=info.context.principal,
                user_id=_user_id(input.user_id),
            )
        except PortalError as error:
            return ReactivateUserPayload(user=None, user_errors=[UserError.from_error(error)])
        _audit(info, "user.reactivated", [view.id])
        return ReactivateUserPayload(user=PortalUser.from_row(view), user_errors=[])

    @strawberry.mutation(
        description="Replace the (report type, location) pairs a contact receives and sees.",
        extensions=[requires(MANAGE_USERS)],
    )
    async def set_report_subscriptions(
        self, info: Info, input: SetReportSubscriptionsInput
    ) -> SetReportSubscriptionsPayload | None:
        from portal.schema.accounts import Contact, Location
        from portal.schema.catalog import ReportType

        try:
            contact_id = decode_global_id(input.contact_id, field="contactId", expected=Contact)
            wanted = [
                user_resolvers.SubscriptionView(
                    report_type_id=decode_global_id(
                        item.report_type_id,
                        field=f"subscriptions.{index}.reportTypeId",
                        expected=ReportType,
                    ),
                    location_id=decode_global_id(
                        item.location_id,
                        field=f"subscriptions.{index}.locationId",
                        expected=Location,
                    ),
                )
                for index, item in enumerate(input.subscriptions)
            ]
            contact, before, saved = await user_resolvers.set_report_subscriptions(
                session=info.context.session,
                principal=info.context.principal,
                contact_id=contact_id,
                subscriptions=wanted,
            )
        except PortalError as error:
            return SetReportSubscriptionsPayload(
                contact=None, subscriptions=None, user_errors=[UserError.from_error(error)]
            )
        _audit(
            info,
            "contact.subscriptions_changed",
            [contact.id],
            before=[[str(s.report_type_id), str(s.location_id)] for s in before],
            after=[[str(s.report_type_id), str(s.location_id)] for s in saved],
        )
        return SetReportSubscriptionsPayload(
            contact=Contact.from_row(contact),
            subscriptions=[
                ReportSubscription(report_type_id=s.report_type_id, location_id=s.location_id)
                for s in saved
            ],
            user_errors=[],
        )
