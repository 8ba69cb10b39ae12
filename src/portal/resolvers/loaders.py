"""Batch loaders, built once per request and scoped to the request's principal."""

from __future__ import annotations

import uuid

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
        # Documents and authorizations are filtered per person, not only per account.
        viewer = principal if principal is not None else Principal.anonymous()
        self.account: BatchLoader[uuid.UUID, Account | None] = BatchLoader(
            lambda ids: accounts.load_accounts(session=session, scope=scope, ids=ids),
            rows=accounts.ACCOUNTS_BY_ID.scoped(scope),
        )
        self.location: BatchLoader[uuid.UUID, Location | None] = BatchLoader(
            lambda ids: accounts.load_locations(session=session, scope=scope, ids=ids),
            rows=accounts.LOCATIONS_BY_ID.scoped(scope),
        )
        self.contact: BatchLoader[uuid.UUID, Contact | None] = BatchLoader(
            lambda ids: accounts.load_contacts(session=session, scope=scope, ids=ids)
        )
        self.contact_access: BatchLoader[uuid.UUID, ContactAccess | None] = BatchLoader(
            lambda ids: accounts.load_contact_access(session=session, scope=scope, contact_ids=ids)
        )
        self.subscriptions_by_contact: BatchLoader[uuid.UUID, list[SubscriptionView]] = BatchLoader(
            lambda ids: receiving.load_subscriptions(session=session, scope=scope, contact_ids=ids)
        )
        self.notification_settings: BatchLoader[uuid.UUID, NotificationSettings] = BatchLoader(
            lambda ids: receiving.load_notification_settings(
                session=session, scope=scope, contact_ids=ids
            )
        )
        self.access_request: BatchLoader[uuid.UUID, AccessRequest | None] = BatchLoader(
            lambda ids: access_request_resolvers.load_access_requests(
                session=session, scope=scope, ids=ids
            )
        )
        self.medical_center: BatchLoader[uuid.UUID, MedicalCenter | None] = BatchLoader(
            lambda ids: catalog.load_medical_centers(session=session, ids=ids),
            rows=catalog.MEDICAL_CENTERS_BY_ID.scoped(AccountScope.everything()),
        )
        self.service: BatchLoader[uuid.UUID, Service | None] = BatchLoader(
            lambda ids: catalog.load_services(session=session, ids=ids)
        )
        self.report_type: BatchLoader[uuid.UUID, ReportType | None] = BatchLoader(
            lambda ids: catalog.load_report_types(session=session, ids=ids),
            rows=catalog.REPORT_TYPES_BY_ID.scoped(AccountScope.everything()),
        )
        # The provider's own systems read nothing of an employee (they name employees by
        # account and employee number, and get only the id back).
        employee_scope = AccountScope.nothing() if viewer.provider_system else scope
        self.employee: BatchLoader[uuid.UUID, Employee | None] = BatchLoader(
            lambda ids: employees.load_employees(session=session, scope=employee_scope, ids=ids),
            rows=employees.EMPLOYEES_BY_ID.scoped(employee_scope),
        )
        self.visit: BatchLoader[uuid.UUID, Visit | None] = BatchLoader(
            lambda ids: visits.load_visits(session=session, scope=scope, ids=ids),
            rows=visits.VISITS_BY_ID.scoped(scope),
        )
        self.authorization: BatchLoader[uuid.UUID, AuthorizationRecord | None] = BatchLoader(
            lambda ids: authorizations.load_authorizations(
                session=session, principal=viewer, ids=ids
            )
        )
        self.authorizations_by_employee: BatchLoader[uuid.UUID, list[AuthorizationRecord]] = (
            BatchLoader(
                lambda ids: authorizations.load_authorizations_by_employee(
                    session=session, principal=viewer, employee_ids=ids
                )
            )
        )
        self.authorization_services: BatchLoader[uuid.UUID, list[Service]] = BatchLoader(
            lambda ids: authorizations.load_services_by_authorization(
                session=session, scope=scope, authorization_ids=ids
            )
        )
        self.authorization_recipients: BatchLoader[uuid.UUID, list[AuthorizationRecipient]] = (
            BatchLoader(
                lambda ids: authorizations.load_recipients_by_authorization(
                    session=session, scope=scope, authorization_ids=ids
                )
            )
        )
        self.authorization_events: BatchLoader[uuid.UUID, list[AuthorizationEvent]] = BatchLoader(
            lambda ids: authorizations.load_events_by_authorization(
                session=session, scope=scope, authorization_ids=ids
            )
        )
        self.visit_by_authorization: BatchLoader[uuid.UUID, Visit | None] = BatchLoader(
            lambda ids: authorizations.load_visit_by_authorization(
                session=session, scope=scope, authorization_ids=ids
            )
        )
        self.user_name: BatchLoader[uuid.UUID, ActorName | None] = BatchLoader(
            lambda ids: authorizations.load_user_names(session=session, scope=scope, ids=ids)
        )
        self.api_client_name: BatchLoader[uuid.UUID, ActorName | None] = BatchLoader(
            lambda ids: authorizations.load_api_client_names(session=session, scope=scope, ids=ids)
        )
        self.service_package: BatchLoader[uuid.UUID, ServicePackage | None] = BatchLoader(
            lambda ids: service_packages.load_service_packages(
                session=session, scope=scope, ids=ids
            )
        )
        self.services_by_package: BatchLoader[uuid.UUID, list[Service]] = BatchLoader(
            lambda ids: service_packages.load_services_by_package(
                session=session, scope=scope, package_ids=ids
            )
        )
        self.service_packages_by_account: BatchLoader[uuid.UUID, list[ServicePackage]] = (
            BatchLoader(
                lambda ids: service_packages.load_packages_by_account(
                    session=session, scope=scope, account_ids=ids
                )
            )
        )
        self.document: BatchLoader[uuid.UUID, DocumentRecord | None] = BatchLoader(
            lambda ids: documents.load_documents(session=session, principal=viewer, ids=ids)
        )
        self.webhook_attempts: BatchLoader[uuid.UUID, list[WebhookAttempt]] = BatchLoader(
            lambda ids: webhook_deliveries.load_attempts(
                session=session, scope=scope, delivery_ids=ids
            )
        )
        self.documents_by_visit: BatchLoader[uuid.UUID, list[DocumentRecord]] = BatchLoader(
            lambda ids: documents.load_documents_by_visit(
                session=session, principal=viewer, visit_ids=ids
            )
        )
        self.documents_by_employee: BatchLoader[uuid.UUID, list[DocumentRecord]] = BatchLoader(
            lambda ids: documents.load_documents_by_employee(
                session=session, principal=viewer, employee_ids=ids
            )
        )
        # The type name of a row an audit event names (to show it as a global id).
        self.object_type: BatchLoader[uuid.UUID, str | None] = BatchLoader(
            lambda ids: object_ids.load_object_types(session=session, ids=ids)
        )
        self.visits_by_employee: BatchLoader[uuid.UUID, list[Visit]] = BatchLoader(
            lambda ids: visits.load_visits_by_employee(
                session=session, scope=scope, employee_ids=ids
            )
        )
        self.support_request: BatchLoader[uuid.UUID, SupportRequest | None] = BatchLoader(
            lambda ids: support.load_support_requests(session=session, principal=viewer, ids=ids)
        )
        self.support_comments: BatchLoader[uuid.UUID, list[CommentRecord]] = BatchLoader(
            lambda ids: support.load_comments(session=session, principal=viewer, request_ids=ids)
        )
        self.support_history: BatchLoader[uuid.UUID, list[StatusChangeRecord]] = BatchLoader(
            lambda ids: support.load_history(session=session, request_ids=ids)
        )
        self.support_requests_by_document: BatchLoader[uuid.UUID, list[SupportRequest]] = (
            BatchLoader(
                lambda ids: support.load_requests_by_document(
                    session=session, principal=viewer, document_ids=ids
                )
            )
        )
        self.support_requests_by_visit: BatchLoader[uuid.UUID, list[SupportRequest]] = BatchLoader(
            lambda ids: support.load_requests_by_visit(
                session=session, principal=viewer, visit_ids=ids
            )
        )
        self.support_user: BatchLoader[uuid.UUID, Person | None] = BatchLoader(
            lambda ids: support.load_user_names(session=session, ids=ids)
        )
        self.staff_name: BatchLoader[uuid.UUID, Person | None] = BatchLoader(
            lambda ids: support.load_staff_names(session=session, ids=ids)
        )
