"""Batch loaders, built once per request and scoped to the request's principal."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.principal import Principal
from portal.models import (
    AccessRequest,
    Account,
    AuthorizationEvent,
    AuthorizationRecipient,
    Contact,
    Employee,
    Location,
    MedicalCenter,
    ReportType,
    Service,
    ServicePackage,
    SupportRequest,
    Visit,
    WebhookAttempt,
)
from portal.models.db import AccountScope
from portal.resolvers import (
    accounts,
    catalog,
    employees,
    object_ids,
    service_packages,
    support,
    visits,
)
from portal.resolvers.accounts import ContactAccess, receiving
from portal.resolvers.accounts import access_requests as access_request_resolvers
from portal.resolvers.accounts.receiving import NotificationSettings
from portal.resolvers.authorizations import records as authorizations
from portal.resolvers.authorizations.records import ActorName, AuthorizationRecord
from portal.resolvers.documents import records as documents
from portal.resolvers.documents.records import DocumentRecord
from portal.resolvers.loading import BatchLoader
from portal.resolvers.support import CommentRecord, Person, StatusChangeRecord
from portal.resolvers.users import SubscriptionView
from portal.resolvers.webhooks import deliveries as webhook_deliveries


@dataclass(frozen=True, slots=True)
class _Own:
    """What the loaders' batch functions read with."""

    session: AsyncSession
    scope: AccountScope
    # Documents and authorizations are filtered per person, not only per account.
    viewer: Principal
    employee_scope: AccountScope


class Loaders:
    def __init__(
        self,
        *,
        session: AsyncSession,
        scope: AccountScope,
        principal: Principal | None = None,
    ) -> None:
        # Each loader is made on first use: a request uses a few of them. Their batch functions
        # read what they need from ``_own``, never from ``self``: a loader held by ``self`` and
        # referring back to it would make every request's loaders and rows a reference cycle,
        # freed only by the cyclic collector's full collections (long pauses under load).
        viewer = principal if principal is not None else Principal.anonymous()
        self._own = _Own(
            session=session,
            scope=scope,
            viewer=viewer,
            # The provider's own systems read nothing of an employee (they name employees by
            # account and employee number, and get only the id back).
            employee_scope=AccountScope.nothing() if viewer.provider_system else scope,
        )

    @cached_property
    def account(self) -> BatchLoader[uuid.UUID, Account | None]:
        own = self._own
        return BatchLoader(
            lambda ids: accounts.load_accounts(session=own.session, scope=own.scope, ids=ids),
            rows=accounts.ACCOUNTS_BY_ID.scoped(own.scope),
        )

    @cached_property
    def location(self) -> BatchLoader[uuid.UUID, Location | None]:
        own = self._own
        return BatchLoader(
            lambda ids: accounts.load_locations(session=own.session, scope=own.scope, ids=ids),
            rows=accounts.LOCATIONS_BY_ID.scoped(own.scope),
        )

    @cached_property
    def contact(self) -> BatchLoader[uuid.UUID, Contact | None]:
        own = self._own
        return BatchLoader(
            lambda ids: accounts.load_contacts(session=own.session, scope=own.scope, ids=ids)
        )

    @cached_property
    def contact_access(self) -> BatchLoader[uuid.UUID, ContactAccess | None]:
        own = self._own
        return BatchLoader(
            lambda ids: accounts.load_contact_access(
                session=own.session, scope=own.scope, contact_ids=ids
            )
        )

    @cached_property
    def subscriptions_by_contact(self) -> BatchLoader[uuid.UUID, list[SubscriptionView]]:
        own = self._own
        return BatchLoader(
            lambda ids: receiving.load_subscriptions(
                session=own.session, scope=own.scope, contact_ids=ids
            )
        )

    @cached_property
    def notification_settings(self) -> BatchLoader[uuid.UUID, NotificationSettings]:
        own = self._own
        return BatchLoader(
            lambda ids: receiving.load_notification_settings(
                session=own.session, scope=own.scope, contact_ids=ids
            )
        )

    @cached_property
    def access_request(self) -> BatchLoader[uuid.UUID, AccessRequest | None]:
        own = self._own
        return BatchLoader(
            lambda ids: access_request_resolvers.load_access_requests(
                session=own.session, scope=own.scope, ids=ids
            )
        )

    @cached_property
    def medical_center(self) -> BatchLoader[uuid.UUID, MedicalCenter | None]:
        own = self._own
        return BatchLoader(
            lambda ids: catalog.load_medical_centers(session=own.session, ids=ids),
            rows=catalog.MEDICAL_CENTERS_BY_ID.scoped(AccountScope.everything()),
        )

    @cached_property
    def service(self) -> BatchLoader[uuid.UUID, Service | None]:
        own = self._own
        return BatchLoader(lambda ids: catalog.load_services(session=own.session, ids=ids))

    @cached_property
    def report_type(self) -> BatchLoader[uuid.UUID, ReportType | None]:
        own = self._own
        return BatchLoader(
            lambda ids: catalog.load_report_types(session=own.session, ids=ids),
            rows=catalog.REPORT_TYPES_BY_ID.scoped(AccountScope.everything()),
        )

    @cached_property
    def employee(self) -> BatchLoader[uuid.UUID, Employee | None]:
        own = self._own
        return BatchLoader(
            lambda ids: employees.load_employees(
                session=own.session, scope=own.employee_scope, ids=ids
            ),
            rows=employees.EMPLOYEES_BY_ID.scoped(own.employee_scope),
        )

    @cached_property
    def visit(self) -> BatchLoader[uuid.UUID, Visit | None]:
        own = self._own
        return BatchLoader(
            lambda ids: visits.load_visits(session=own.session, scope=own.scope, ids=ids),
            rows=visits.VISITS_BY_ID.scoped(own.scope),
        )

    @cached_property
    def authorization(self) -> BatchLoader[uuid.UUID, AuthorizationRecord | None]:
        own = self._own
        return BatchLoader(
            lambda ids: authorizations.load_authorizations(
                session=own.session, principal=own.viewer, ids=ids
            )
        )

    @cached_property
    def authorizations_by_employee(self) -> BatchLoader[uuid.UUID, list[AuthorizationRecord]]:
        own = self._own
        return BatchLoader(
            lambda ids: authorizations.load_authorizations_by_employee(
                session=own.session, principal=own.viewer, employee_ids=ids
            )
        )

    @cached_property
    def authorization_services(self) -> BatchLoader[uuid.UUID, list[Service]]:
        own = self._own
        return BatchLoader(
            lambda ids: authorizations.load_services_by_authorization(
                session=own.session, scope=own.scope, authorization_ids=ids
            )
        )

    @cached_property
    def authorization_recipients(self) -> BatchLoader[uuid.UUID, list[AuthorizationRecipient]]:
        own = self._own
        return BatchLoader(
            lambda ids: authorizations.load_recipients_by_authorization(
                session=own.session, scope=own.scope, authorization_ids=ids
            )
        )

    @cached_property
    def authorization_events(self) -> BatchLoader[uuid.UUID, list[AuthorizationEvent]]:
        own = self._own
        return BatchLoader(
            lambda ids: authorizations.load_events_by_authorization(
                session=own.session, scope=own.scope, authorization_ids=ids
            )
        )

    @cached_property
    def visit_by_authorization(self) -> BatchLoader[uuid.UUID, Visit | None]:
        own = self._own
        return BatchLoader(
            lambda ids: authorizations.load_visit_by_authorization(
                session=own.session, scope=own.scope, authorization_ids=ids
            )
        )

    @cached_property
    def user_name(self) -> BatchLoader[uuid.UUID, ActorName | None]:
        own = self._own
        return BatchLoader(
            lambda ids: authorizations.load_user_names(
                session=own.session, scope=own.scope, ids=ids
            )
        )

    @cached_property
    def api_client_name(self) -> BatchLoader[uuid.UUID, ActorName | None]:
        own = self._own
        return BatchLoader(
            lambda ids: authorizations.load_api_client_names(
                session=own.session, scope=own.scope, ids=ids
            )
        )

    @cached_property
    def service_package(self) -> BatchLoader[uuid.UUID, ServicePackage | None]:
        own = self._own
        return BatchLoader(
            lambda ids: service_packages.load_service_packages(
                session=own.session, scope=own.scope, ids=ids
            )
        )

    @cached_property
    def services_by_package(self) -> BatchLoader[uuid.UUID, list[Service]]:
        own = self._own
        return BatchLoader(
            lambda ids: service_packages.load_services_by_package(
                session=own.session, scope=own.scope, package_ids=ids
            )
        )

    @cached_property
    def service_packages_by_account(self) -> BatchLoader[uuid.UUID, list[ServicePackage]]:
        own = self._own
        return BatchLoader(
            lambda ids: service_packages.load_packages_by_account(
                session=own.session, scope=own.scope, account_ids=ids
            )
        )

    @cached_property
    def document(self) -> BatchLoader[uuid.UUID, DocumentRecord | None]:
        own = self._own
        return BatchLoader(
            lambda ids: documents.load_documents(session=own.session, principal=own.viewer, ids=ids)
        )

    @cached_property
    def webhook_attempts(self) -> BatchLoader[uuid.UUID, list[WebhookAttempt]]:
        own = self._own
        return BatchLoader(
            lambda ids: webhook_deliveries.load_attempts(
                session=own.session, scope=own.scope, delivery_ids=ids
            )
        )

    @cached_property
    def documents_by_visit(self) -> BatchLoader[uuid.UUID, list[DocumentRecord]]:
        own = self._own
        return BatchLoader(
            lambda ids: documents.load_documents_by_visit(
                session=own.session, principal=own.viewer, visit_ids=ids
            )
        )

    @cached_property
    def documents_by_employee(self) -> BatchLoader[uuid.UUID, list[DocumentRecord]]:
        own = self._own
        return BatchLoader(
            lambda ids: documents.load_documents_by_employee(
                session=own.session, principal=own.viewer, employee_ids=ids
            )
        )

    @cached_property
    def object_type(self) -> BatchLoader[uuid.UUID, str | None]:
        # The type name of a row an audit event names (to show it as a global id).
        own = self._own
        return BatchLoader(lambda ids: object_ids.load_object_types(session=own.session, ids=ids))

    @cached_property
    def visits_by_employee(self) -> BatchLoader[uuid.UUID, list[Visit]]:
        own = self._own
        return BatchLoader(
            lambda ids: visits.load_visits_by_employee(
                session=own.session, scope=own.scope, employee_ids=ids
            )
        )

    @cached_property
    def support_request(self) -> BatchLoader[uuid.UUID, SupportRequest | None]:
        own = self._own
        return BatchLoader(
            lambda ids: support.load_support_requests(
                session=own.session, principal=own.viewer, ids=ids
            )
        )

    @cached_property
    def support_comments(self) -> BatchLoader[uuid.UUID, list[CommentRecord]]:
        own = self._own
        return BatchLoader(
            lambda ids: support.load_comments(
                session=own.session, principal=own.viewer, request_ids=ids
            )
        )

    @cached_property
    def support_history(self) -> BatchLoader[uuid.UUID, list[StatusChangeRecord]]:
        own = self._own
        return BatchLoader(lambda ids: support.load_history(session=own.session, request_ids=ids))

    @cached_property
    def support_requests_by_document(self) -> BatchLoader[uuid.UUID, list[SupportRequest]]:
        own = self._own
        return BatchLoader(
            lambda ids: support.load_requests_by_document(
                session=own.session, principal=own.viewer, document_ids=ids
            )
        )

    @cached_property
    def support_requests_by_visit(self) -> BatchLoader[uuid.UUID, list[SupportRequest]]:
        own = self._own
        return BatchLoader(
            lambda ids: support.load_requests_by_visit(
                session=own.session, principal=own.viewer, visit_ids=ids
            )
        )

    @cached_property
    def support_user(self) -> BatchLoader[uuid.UUID, Person | None]:
        own = self._own
        return BatchLoader(lambda ids: support.load_user_names(session=own.session, ids=ids))

    @cached_property
    def staff_name(self) -> BatchLoader[uuid.UUID, Person | None]:
        own = self._own
        return BatchLoader(lambda ids: support.load_staff_names(session=own.session, ids=ids))
