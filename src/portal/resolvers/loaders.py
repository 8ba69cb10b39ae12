"""Batch loaders, built once per request and scoped to the request's principal."""

from __future__ import annotations

import uuid
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


class Loaders:
    def __init__(
        self,
        *,
        session: AsyncSession,
        scope: AccountScope,
        principal: Principal | None = None,
    ) -> None:
        # Each loader is made on first use: a request uses a few of them.
        self._session = session
        self._scope = scope
        # Documents and authorizations are filtered per person, not only per account.
        self._viewer = principal if principal is not None else Principal.anonymous()
        # The provider's own systems read nothing of an employee (they name employees by
        # account and employee number, and get only the id back).
        self._employee_scope = AccountScope.nothing() if self._viewer.provider_system else scope

    @cached_property
    def account(self) -> BatchLoader[uuid.UUID, Account | None]:
        return BatchLoader(
            lambda ids: accounts.load_accounts(session=self._session, scope=self._scope, ids=ids),
            rows=accounts.ACCOUNTS_BY_ID.scoped(self._scope),
        )

    @cached_property
    def location(self) -> BatchLoader[uuid.UUID, Location | None]:
        return BatchLoader(
            lambda ids: accounts.load_locations(session=self._session, scope=self._scope, ids=ids),
            rows=accounts.LOCATIONS_BY_ID.scoped(self._scope),
        )

    @cached_property
    def contact(self) -> BatchLoader[uuid.UUID, Contact | None]:
        return BatchLoader(
            lambda ids: accounts.load_contacts(session=self._session, scope=self._scope, ids=ids)
        )

    @cached_property
    def contact_access(self) -> BatchLoader[uuid.UUID, ContactAccess | None]:
        return BatchLoader(
            lambda ids: accounts.load_contact_access(
                session=self._session, scope=self._scope, contact_ids=ids
            )
        )

    @cached_property
    def subscriptions_by_contact(self) -> BatchLoader[uuid.UUID, list[SubscriptionView]]:
        return BatchLoader(
            lambda ids: receiving.load_subscriptions(
                session=self._session, scope=self._scope, contact_ids=ids
            )
        )

    @cached_property
    def notification_settings(self) -> BatchLoader[uuid.UUID, NotificationSettings]:
        return BatchLoader(
            lambda ids: receiving.load_notification_settings(
                session=self._session, scope=self._scope, contact_ids=ids
            )
        )

    @cached_property
    def access_request(self) -> BatchLoader[uuid.UUID, AccessRequest | None]:
        return BatchLoader(
            lambda ids: access_request_resolvers.load_access_requests(
                session=self._session, scope=self._scope, ids=ids
            )
        )

    @cached_property
    def medical_center(self) -> BatchLoader[uuid.UUID, MedicalCenter | None]:
        return BatchLoader(
            lambda ids: catalog.load_medical_centers(session=self._session, ids=ids),
            rows=catalog.MEDICAL_CENTERS_BY_ID.scoped(AccountScope.everything()),
        )

    @cached_property
    def service(self) -> BatchLoader[uuid.UUID, Service | None]:
        return BatchLoader(lambda ids: catalog.load_services(session=self._session, ids=ids))

    @cached_property
    def report_type(self) -> BatchLoader[uuid.UUID, ReportType | None]:
        return BatchLoader(
            lambda ids: catalog.load_report_types(session=self._session, ids=ids),
            rows=catalog.REPORT_TYPES_BY_ID.scoped(AccountScope.everything()),
        )

    @cached_property
    def employee(self) -> BatchLoader[uuid.UUID, Employee | None]:
        return BatchLoader(
            lambda ids: employees.load_employees(
                session=self._session, scope=self._employee_scope, ids=ids
            ),
            rows=employees.EMPLOYEES_BY_ID.scoped(self._employee_scope),
        )

    @cached_property
    def visit(self) -> BatchLoader[uuid.UUID, Visit | None]:
        return BatchLoader(
            lambda ids: visits.load_visits(session=self._session, scope=self._scope, ids=ids),
            rows=visits.VISITS_BY_ID.scoped(self._scope),
        )

    @cached_property
    def authorization(self) -> BatchLoader[uuid.UUID, AuthorizationRecord | None]:
        return BatchLoader(
            lambda ids: authorizations.load_authorizations(
                session=self._session, principal=self._viewer, ids=ids
            )
        )

    @cached_property
    def authorizations_by_employee(self) -> BatchLoader[uuid.UUID, list[AuthorizationRecord]]:
        return BatchLoader(
            lambda ids: authorizations.load_authorizations_by_employee(
                session=self._session, principal=self._viewer, employee_ids=ids
            )
        )

    @cached_property
    def authorization_services(self) -> BatchLoader[uuid.UUID, list[Service]]:
        return BatchLoader(
            lambda ids: authorizations.load_services_by_authorization(
                session=self._session, scope=self._scope, authorization_ids=ids
            )
        )

    @cached_property
    def authorization_recipients(self) -> BatchLoader[uuid.UUID, list[AuthorizationRecipient]]:
        return BatchLoader(
            lambda ids: authorizations.load_recipients_by_authorization(
                session=self._session, scope=self._scope, authorization_ids=ids
            )
        )

    @cached_property
    def authorization_events(self) -> BatchLoader[uuid.UUID, list[AuthorizationEvent]]:
        return BatchLoader(
            lambda ids: authorizations.load_events_by_authorization(
                session=self._session, scope=self._scope, authorization_ids=ids
            )
        )

    @cached_property
    def visit_by_authorization(self) -> BatchLoader[uuid.UUID, Visit | None]:
        return BatchLoader(
            lambda ids: authorizations.load_visit_by_authorization(
                session=self._session, scope=self._scope, authorization_ids=ids
            )
        )

    @cached_property
    def user_name(self) -> BatchLoader[uuid.UUID, ActorName | None]:
        return BatchLoader(
            lambda ids: authorizations.load_user_names(
                session=self._session, scope=self._scope, ids=ids
            )
        )

    @cached_property
    def api_client_name(self) -> BatchLoader[uuid.UUID, ActorName | None]:
        return BatchLoader(
            lambda ids: authorizations.load_api_client_names(
                session=self._session, scope=self._scope, ids=ids
            )
        )

    @cached_property
    def service_package(self) -> BatchLoader[uuid.UUID, ServicePackage | None]:
        return BatchLoader(
            lambda ids: service_packages.load_service_packages(
                session=self._session, scope=self._scope, ids=ids
            )
        )

    @cached_property
    def services_by_package(self) -> BatchLoader[uuid.UUID, list[Service]]:
        return BatchLoader(
            lambda ids: service_packages.load_services_by_package(
                session=self._session, scope=self._scope, package_ids=ids
            )
        )

    @cached_property
    def service_packages_by_account(self) -> BatchLoader[uuid.UUID, list[ServicePackage]]:
        return BatchLoader(
            lambda ids: service_packages.load_packages_by_account(
                session=self._session, scope=self._scope, account_ids=ids
            )
        )

    @cached_property
    def document(self) -> BatchLoader[uuid.UUID, DocumentRecord | None]:
        return BatchLoader(
            lambda ids: documents.load_documents(
                session=self._session, principal=self._viewer, ids=ids
            )
        )

    @cached_property
    def webhook_attempts(self) -> BatchLoader[uuid.UUID, list[WebhookAttempt]]:
        return BatchLoader(
            lambda ids: webhook_deliveries.load_attempts(
                session=self._session, scope=self._scope, delivery_ids=ids
            )
        )

    @cached_property
    def documents_by_visit(self) -> BatchLoader[uuid.UUID, list[DocumentRecord]]:
        return BatchLoader(
            lambda ids: documents.load_documents_by_visit(
                session=self._session, principal=self._viewer, visit_ids=ids
            )
        )

    @cached_property
    def documents_by_employee(self) -> BatchLoader[uuid.UUID, list[DocumentRecord]]:
        return BatchLoader(
            lambda ids: documents.load_documents_by_employee(
                session=self._session, principal=self._viewer, employee_ids=ids
            )
        )

    @cached_property
    def object_type(self) -> BatchLoader[uuid.UUID, str | None]:
        # The type name of a row an audit event names (to show it as a global id).
        return BatchLoader(lambda ids: object_ids.load_object_types(session=self._session, ids=ids))

    @cached_property
    def visits_by_employee(self) -> BatchLoader[uuid.UUID, list[Visit]]:
        return BatchLoader(
            lambda ids: visits.load_visits_by_employee(
                session=self._session, scope=self._scope, employee_ids=ids
            )
        )

    @cached_property
    def support_request(self) -> BatchLoader[uuid.UUID, SupportRequest | None]:
        return BatchLoader(
            lambda ids: support.load_support_requests(
                session=self._session, principal=self._viewer, ids=ids
            )
        )

    @cached_property
    def support_comments(self) -> BatchLoader[uuid.UUID, list[CommentRecord]]:
        return BatchLoader(
            lambda ids: support.load_comments(
                session=self._session, principal=self._viewer, request_ids=ids
            )
        )

    @cached_property
    def support_history(self) -> BatchLoader[uuid.UUID, list[StatusChangeRecord]]:
        return BatchLoader(lambda ids: support.load_history(session=self._session, request_ids=ids))

    @cached_property
    def support_requests_by_document(self) -> BatchLoader[uuid.UUID, list[SupportRequest]]:
        return BatchLoader(
            lambda ids: support.load_requests_by_document(
                session=self._session, principal=self._viewer, document_ids=ids
            )
        )

    @cached_property
    def support_requests_by_visit(self) -> BatchLoader[uuid.UUID, list[SupportRequest]]:
        return BatchLoader(
            lambda ids: support.load_requests_by_visit(
                session=self._session, principal=self._viewer, visit_ids=ids
            )
        )

    @cached_property
    def support_user(self) -> BatchLoader[uuid.UUID, Person | None]:
        return BatchLoader(lambda ids: support.load_user_names(session=self._session, ids=ids))

    @cached_property
    def staff_name(self) -> BatchLoader[uuid.UUID, Person | None]:
        return BatchLoader(lambda ids: support.load_staff_names(session=self._session, ids=ids))
