"""docs/design-decisions.md's "Who may do what", checked field by field for every actor over HTTP.

Each row names a field (or mutation) that exists on this branch, the capability of the table it
falls under, and the actors it admits; every other signed-in actor must get FORBIDDEN at the
field's path, and an anonymous caller UNAUTHENTICATED. Mutations are called with ids that do not
exist, so an admitted actor gets a user error and nothing is written either way."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from portal.schema.accounts import Account, Contact, Location
from portal.schema.accounts.access_requests import AccessRequest
from portal.schema.api_clients import ApiClient
from portal.schema.authorizations import Authorization
from portal.schema.catalog import MedicalCenter
from portal.schema.documents import Document
from portal.schema.employees import Employee
from portal.schema.relay import global_id
from portal.schema.service_packages import ServicePackage
from portal.schema.support import SupportRequest
from portal.schema.users import PortalUser
from portal.schema.visits import Visit
from portal.schema.webhooks import Webhook, WebhookDelivery
from tests.support.graphql import GraphQLClient, assert_unauthenticated
from tests.support.world import World

ACTORS = ["anonymous", "admin", "basic", "visits", "globex", "tpa", "staff", "api_client"]
ACTORS += ["provider_client"]
# An Acme HR system holding `account:read`, `visits:read` and `webhooks:manage`.
ACTORS += ["webhooks_client"]
ADMINS = {"admin", "globex", "tpa"}
PEOPLE = ADMINS | {"basic", "visits", "staff"}
SIGNED_IN = PEOPLE | {"api_client", "provider_client"}
# Recording visits and posting results: staff and the provider's own systems (ingestion:write).
INGESTION = {"staff", "provider_client"}
# view account info, locations, contacts and their roles: people and `account:read` clients.
ACCOUNT_READERS = PEOPLE | {"api_client"}
SIGNED_IN |= {"webhooks_client"}
ACCOUNT_READERS |= {"webhooks_client"}
# API clients and webhooks: User Admins; for webhooks also API clients with `webhooks:manage`.
WEBHOOK_MANAGERS = ADMINS | {"webhooks_client"}
# Authorizations: see (people and staff; `authorizations:read` clients, which the world's API
# client is not), create/extend/cancel (people, not staff), delete (User Admins).
AUTHORIZATION_READERS = PEOPLE
AUTHORIZATION_WRITERS = ADMINS | {"basic", "visits"}


@dataclass(frozen=True)
class Row:
    capability: str
    path: str
    query: str
    allowed: frozenset[str]


def _row(capability: str, path: str, query: str, allowed: set[str]) -> Row:
    return Row(capability, path, query, frozenset(allowed))


NOBODY = str(uuid.UUID(int=1))
ROWS = [
    _row(
        "view account info",
        "account",
        "query ($account: ID!) { account(id: $account) { name } }",
        ACCOUNT_READERS,
    ),
    _row("view account info", "accounts", "{ accounts { totalCount } }", ACCOUNT_READERS),
    _row(
        "view contacts and their roles",
        "account.contacts",
        "query ($account: ID!) { account(id: $account) { contacts { nodes { role } } } }",
        ACCOUNT_READERS,
    ),
    _row(
        "users with status and permissions (admins manage, staff support)",
        "account.users",
        "query ($account: ID!) { account(id: $account) { users { totalCount } } }",
        ADMINS | {"staff"},
    ),
    _row(
        "API clients and webhooks",
        "account.apiClients",
        "query ($account: ID!) { account(id: $account) { apiClients { totalCount } } }",
        ADMINS,
    ),
    _row(
        "API clients and webhooks",
        "account.webhooks",
        "query ($account: ID!) { account(id: $account) { webhooks { totalCount } } }",
        WEBHOOK_MANAGERS,
    ),
    _row(
        "API clients and webhooks",
        "createWebhook",
        'mutation { createWebhook(input: {url: "", events: [DOCUMENT_POSTED]}) '
        "{ userErrors { code } } }",
        WEBHOOK_MANAGERS,
    ),
    _row(
        "API clients and webhooks",
        "updateWebhook",
        "mutation ($webhook: ID!) { updateWebhook(input: {id: $webhook, enabled: false}) "
        "{ userErrors { code } } }",
        WEBHOOK_MANAGERS,
    ),
    _row(
        "API clients and webhooks",
        "rotateWebhookSecret",
        "mutation ($webhook: ID!) { rotateWebhookSecret(input: {id: $webhook}) "
        "{ userErrors { code } } }",
        WEBHOOK_MANAGERS,
    ),
    _row(
        "API clients and webhooks",
        "deleteWebhook",
        "mutation ($webhook: ID!) { deleteWebhook(input: {id: $webhook}) { userErrors { code } } }",
        WEBHOOK_MANAGERS,
    ),
    _row(
        "API clients and webhooks",
        "resendWebhookDelivery",
        "mutation ($delivery: ID!) { resendWebhookDelivery(input: {id: $delivery}) "
        "{ userErrors { code } } }",
        WEBHOOK_MANAGERS,
    ),
    _row(
        "API clients and webhooks",
        "sendTestWebhook",
        "mutation ($webhook: ID!) { sendTestWebhook(input: {webhookId: $webhook}) "
        "{ userErrors { code } } }",
        WEBHOOK_MANAGERS,
    ),
    _row("audit events", "auditEvents", "{ auditEvents { totalCount } }", ADMINS | {"staff"}),
    _row("catalog", "medicalCenters", "{ medicalCenters { totalCount } }", SIGNED_IN),
    _row("catalog", "reportTypes", "{ reportTypes { code } }", SIGNED_IN),
    _row(
        "change roles",
        "updateUserRole",
        "mutation ($user: ID!) { updateUserRole(input: {userId: $user, role: BASIC}) "
        "{ userErrors { code } } }",
        ADMINS,
    ),
    _row(
        "permissions",
        "setUserPermissions",
        "mutation ($user: ID!) { setUserPermissions(input: {userId: $user, permissions: []}) "
        "{ userErrors { code } } }",
        ADMINS,
    ),
    _row(
        "subscriptions",
        "setReportSubscriptions",
        "mutation ($contact: ID!) { setReportSubscriptions(input: {contactId: $contact, "
        "subscriptions: []}) { userErrors { code } } }",
        ADMINS,
    ),
    _row(
        "deactivate",
        "deactivateUser",
        "mutation ($user: ID!) { deactivateUser(input: {userId: $user}) { userErrors { code } } }",
        ADMINS,
    ),
    _row(
        "deactivate",
        "reactivateUser",
        "mutation ($user: ID!) { reactivateUser(input: {userId: $user}) { userErrors { code } } }",
        ADMINS,
    ),
    _row(
        "API clients and webhooks",
        "createApiClient",
        'mutation { createApiClient(input: {name: "", scopes: []}) { userErrors { code } } }',
        ADMINS,
    ),
    _row(
        "API clients and webhooks",
        "revokeApiClient",
        "mutation ($client: ID!) { revokeApiClient(input: {id: $client}) { userErrors { code } } }",
        ADMINS,
    ),
    _row(
        "API clients and webhooks",
        "setApiClientOperations",
        "mutation ($client: ID!) { setApiClientOperations(input: {id: $client, "
        "operationHashes: []}) { userErrors { code } } }",
        ADMINS,
    ),
    _row(
        "own second factor",
        "regenerateRecoveryCodes",
        'mutation { regenerateRecoveryCodes(input: {code: "000000"}) { userErrors { code } } }',
        PEOPLE,
    ),
    _row(
        "own second factor",
        "disableTotp",
        'mutation { disableTotp(input: {password: "x"}) { userErrors { code } } }',
        PEOPLE,
    ),
    _row(
        "documents: list, search",
        "documents",
        "{ documents { totalCount } }",
        PEOPLE | {"api_client"},
    ),
    _row(
        "ingestion",
        "recordVisit",
        "mutation ($employee: ID!, $center: ID!) { recordVisit(input: {employeeId: $employee, "
        'medicalCenterId: $center, visitedAt: "2026-11-20T10:00:00Z", visitType: NON_INJURY}) '
        "{ userErrors { code } } }",
        INGESTION,
    ),
    _row(
        "ingestion",
        "updateVisitStatus",
        "mutation ($visit: ID!) { updateVisitStatus(input: {id: $visit, status: CHECKED_OUT}) "
        "{ userErrors { code } } }",
        INGESTION,
    ),
    _row(
        "retraction (a person's decision)",
        "retractDocument",
        'mutation ($document: ID!) { retractDocument(input: {id: $document, reason: "error"}) '
        "{ userErrors { code } } }",
        {"staff"},
    ),
    _row(
        "archive restore",
        "restoreDocument",
        "mutation ($document: ID!) { restoreDocument(input: {id: $document}) "
        "{ userErrors { code } } }",
        {"staff"},
    ),
    _row(
        "own sign-in session",
        "logoutEverywhere",
        "mutation { logoutEverywhere { sessionsEnded } }",
        PEOPLE,
    ),
    _row(
        "edit account info",
        "updateAccount",
        'mutation { updateAccount(input: {name: " "}) { userErrors { code } } }',
        ADMINS | {"staff"},
    ),
    _row(
        "edit locations",
        "addLocation",
        'mutation { addLocation(input: {name: "", address: {street: "", city: "", state: "", '
        'postalCode: ""}}) { userErrors { code } } }',
        ADMINS | {"staff"},
    ),
    _row(
        "edit locations",
        "updateLocation",
        "mutation ($location: ID!) { updateLocation(input: {id: $location}) "
        "{ userErrors { code } } }",
        ADMINS | {"staff"},
    ),
    _row(
        "edit locations",
        "removeLocation",
        "mutation ($location: ID!) { removeLocation(input: {id: $location}) "
        "{ userErrors { code } } }",
        ADMINS | {"staff"},
    ),
    _row(
        "edit account info (contacts)",
        "addContact",
        'mutation { addContact(input: {firstName: "", lastName: "", workEmail: ""}) '
        "{ userErrors { code } } }",
        ADMINS | {"staff"},
    ),
    _row(
        "edit account info (contacts)",
        "updateContact",
        "mutation ($contact: ID!) { updateContact(input: {id: $contact}) { userErrors { code } } }",
        ADMINS | {"staff"},
    ),
    _row(
        "deactivate",
        "deactivateContact",
        "mutation ($contact: ID!) { deactivateContact(input: {id: $contact}) "
        "{ userErrors { code } } }",
        ADMINS,
    ),
    _row(
        "invite users",
        "inviteUser",
        "mutation ($contact: ID!) { inviteUser(input: {contactId: $contact, role: BASIC}) "
        "{ userErrors { code } } }",
        ADMINS,
    ),
    _row(
        "notifications (own; a User Admin for others)",
        "setNotificationPreferences",
        "mutation ($contact: ID!) { setNotificationPreferences(input: {contactId: $contact, "
        "emailOnNewResults: true}) { userErrors { code } } }",
        ADMINS | {"basic", "visits"},
    ),
    _row(
        "who receives what (every contact)",
        "node.reportSubscriptions",
        "query ($own: ID!) { node(id: $own) { ... on Contact { reportSubscriptions { "
        "location { id } } } } }",
        ADMINS | {"staff", "basic", "visits"},
    ),
    _row(
        "staff enable access only after admin approval",
        "requestPortalAccess",
        "mutation ($contact: ID!) { requestPortalAccess(input: {contactId: $contact, role: BASIC})"
        " { userErrors { code } } }",
        {"staff"},
    ),
    _row(
        "admin approval of access",
        "approveAccessRequest",
        "mutation ($request: ID!) { approveAccessRequest(input: {id: $request}) "
        "{ userErrors { code } } }",
        ADMINS,
    ),
    _row(
        "admin approval of access",
        "declineAccessRequest",
        "mutation ($request: ID!) { declineAccessRequest(input: {id: $request}) "
        "{ userErrors { code } } }",
        ADMINS,
    ),
    _row(
        "access requests",
        "account.accessRequests",
        "query ($account: ID!) { account(id: $account) { accessRequests { totalCount } } }",
        ADMINS | {"staff"},
    ),
    _row(
        "staff operations",
        "createAccount",
        'mutation { createAccount(input: {name: "", accountNumber: "", firstAdmin: '
        '{firstName: "", lastName: "", workEmail: ""}}) { userErrors { code } } }',
        {"staff"},
    ),
    _row(
        "staff operations",
        "addEmployerClient",
        "mutation ($account: ID!) { addEmployerClient(input: {accountId: $account, "
        "clientAccountId: $account}) { userErrors { code } } }",
        {"staff"},
    ),
    _row(
        "staff operations",
        "removeEmployerClient",
        "mutation ($account: ID!) { removeEmployerClient(input: {accountId: $account, "
        "clientAccountId: $account}) { userErrors { code } } }",
        {"staff"},
    ),
    _row(
        "staff operations",
        "setRetentionPolicy",
        "mutation ($account: ID!) { setRetentionPolicy(input: {accountId: $account, "
        "archiveAfterDays: 0}) { userErrors { code } } }",
        {"staff"},
    ),
    _row(
        "staff operations",
        "setSignOnLinks",
        'mutation { setSignOnLinks(input: {links: [{label: "", url: ""}]}) '
        "{ userErrors { code } } }",
        {"staff"},
    ),
    _row(
        "support: why can't this user see that result",
        "accessExplanation",
        "query ($someone: ID!, $result: ID!) { accessExplanation(userId: $someone, "
        "objectId: $result) { visible } }",
        {"staff"},
    ),
    _row("support requests", "supportRequests", "{ supportRequests { totalCount } }", PEOPLE),
    _row(
        "support requests",
        "createSupportRequest",
        'mutation { createSupportRequest(input: {type: ACCOUNT_UPDATE, topic: OTHER, subject: "", '
        'description: ""}) { userErrors { code } } }',
        PEOPLE,
    ),
    _row(
        "support requests",
        "addSupportRequestComment",
        "mutation ($supportRequest: ID!) { addSupportRequestComment(input: "
        '{id: $supportRequest, body: "hello"}) { userErrors { code } } }',
        PEOPLE,
    ),
    _row(
        "support requests",
        "updateSupportRequestStatus",
        "mutation ($supportRequest: ID!) { updateSupportRequestStatus(input: "
        "{id: $supportRequest, status: CLOSED}) { userErrors { code } } }",
        PEOPLE,
    ),
    _row(
        "support request handling (staff)",
        "assignSupportRequest",
        "mutation ($supportRequest: ID!) { assignSupportRequest(input: {id: $supportRequest}) "
        "{ userErrors { code } } }",
        {"staff"},
    ),
    _row(
        "support request handling (staff): the privacy path",
        "retractSupportRequestDocument",
        "mutation ($supportRequest: ID!) { retractSupportRequestDocument(input: "
        "{id: $supportRequest}) { userErrors { code } } }",
        {"staff"},
    ),
    _row(
        "see authorizations",
        "authorizations",
        "{ authorizations { totalCount } }",
        AUTHORIZATION_READERS,
    ),
    _row(
        "create authorizations",
        "createAuthorization",
        "mutation ($employee: ID!) { createAuthorization(input: {employeeId: $employee, "
        "modality: TELEMEDICINE, serviceIds: []}) { userErrors { code } } }",
        AUTHORIZATION_WRITERS,
    ),
    _row(
        "create authorizations",
        "createAuthorizationsFromTemplate",
        "mutation ($authorization: ID!, $employee: ID!) { createAuthorizationsFromTemplate("
        "input: {templateId: $authorization, employees: [{employeeId: $employee}]}) "
        "{ userErrors { code } } }",
        AUTHORIZATION_WRITERS,
    ),
    _row(
        "create authorizations (send)",
        "sendAuthorization",
        "mutation ($authorization: ID!) { sendAuthorization(input: {id: $authorization}) "
        "{ userErrors { code } } }",
        AUTHORIZATION_WRITERS,
    ),
    _row(
        "extend, cancel",
        "extendAuthorization",
        "mutation ($authorization: ID!) { extendAuthorization(input: {id: $authorization, "
        'validUntil: "2030-01-01"}) { userErrors { code } } }',
        AUTHORIZATION_WRITERS,
    ),
    _row(
        "extend, cancel",
        "cancelAuthorization",
        "mutation ($authorization: ID!) { cancelAuthorization(input: {id: $authorization}) "
        "{ userErrors { code } } }",
        AUTHORIZATION_WRITERS,
    ),
    _row(
        "delete authorizations",
        "deleteAuthorization",
        "mutation ($authorization: ID!) { deleteAuthorization(input: {id: $authorization}) "
        "{ userErrors { code } } }",
        ADMINS,
    ),
    _row(
        "see authorizations (print)",
        "prepareAuthorizationDownload",
        "mutation ($authorization: ID!) { prepareAuthorizationDownload(input: "
        "{id: $authorization}) { userErrors { code } } }",
        AUTHORIZATION_READERS,
    ),
    _row(
        "see authorizations (an employee's)",
        "employees.nodes.0.authorizations",
        "{ employees(first: 1) { nodes { authorizations { number } } } }",
        AUTHORIZATION_READERS,
    ),
    _row(
        "view account info (authorization settings)",
        "account.emailDomains",
        "query ($account: ID!) { account(id: $account) { emailDomains "
        "authorizationValidityDays } }",
        ACCOUNT_READERS,
    ),
    _row(
        "view account info (service packages)",
        "account.servicePackages",
        "query ($account: ID!) { account(id: $account) { servicePackages { name } } }",
        ACCOUNT_READERS,
    ),
    _row(
        "service packages (staff)",
        "createServicePackage",
        'mutation ($account: ID!) { createServicePackage(input: {accountId: $account, name: "x", '
        "serviceIds: []}) { userErrors { code } } }",
        {"staff"},
    ),
    _row(
        "service packages (staff)",
        "updateServicePackage",
        "mutation ($package: ID!) { updateServicePackage(input: {id: $package}) "
        "{ userErrors { code } } }",
        {"staff"},
    ),
    _row(
        "service packages (staff)",
        "archiveServicePackage",
        "mutation ($package: ID!) { archiveServicePackage(input: {id: $package}) "
        "{ userErrors { code } } }",
        {"staff"},
    ),
]


def _own_contact(actor: str, world: World) -> uuid.UUID:
    """The actor's own contact where it has one (a Basic user reads their own subscriptions),
    else an Acme contact (staff read any; others are refused)."""
    users = {
        "admin": world.acme_admin,
        "basic": world.acme_basic,
        "visits": world.acme_visits,
        "globex": world.globex_admin,
        "tpa": world.northwind_admin,
    }
    return users.get(actor, world.acme_basic).contact_id


def _own_account(actor: str, world: World) -> uuid.UUID:
    return {"globex": world.globex.id, "tpa": world.northwind.id}.get(actor, world.acme.id)


def _variables(query: str, actor: str, world: World) -> dict[str, Any]:
    candidates = {
        "account": global_id(Account, _own_account(actor, world)),
        "user": global_id(PortalUser, uuid.UUID(NOBODY)),
        "contact": global_id(Contact, uuid.UUID(NOBODY)),
        "client": global_id(ApiClient, uuid.UUID(NOBODY)),
        "employee": global_id(Employee, uuid.UUID(NOBODY)),
        "center": global_id(MedicalCenter, uuid.UUID(NOBODY)),
        "visit": global_id(Visit, uuid.UUID(NOBODY)),
        "document": global_id(Document, uuid.UUID(NOBODY)),
        "location": global_id(Location, uuid.UUID(NOBODY)),
        "request": global_id(AccessRequest, uuid.UUID(NOBODY)),
        "own": global_id(Contact, _own_contact(actor, world)),
        "someone": global_id(PortalUser, world.acme_basic.id),
        "result": global_id(Document, world.results.subscribed.id),
        "webhook": global_id(Webhook, uuid.UUID(NOBODY)),
        "delivery": global_id(WebhookDelivery, uuid.UUID(NOBODY)),
        "supportRequest": global_id(SupportRequest, uuid.UUID(NOBODY)),
        "authorization": global_id(Authorization, uuid.UUID(NOBODY)),
        "package": global_id(ServicePackage, uuid.UUID(NOBODY)),
    }
    return {name: value for name, value in candidates.items() if f"${name}" in query}


def _at(data: Any, path: list[str]) -> Any:
    for part in path:
        if data is None:
            return None
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def _denied_at(path: list[str], actor: str) -> list[str]:
    """Where the denial lands: a nested field of ``account`` is never reached by an actor that
    may not read the account itself."""
    if len(path) > 1 and path[0] == "account" and actor not in ACCOUNT_READERS:
        return path[:1]
    # Looking employees up: people and `visits:read` clients (the world's client is not one; the
    # webhooks client is).
    if len(path) > 1 and path[0] == "employees" and actor not in PEOPLE | {"webhooks_client"}:
        return path[:1]
    return path


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("row", ROWS, ids=[row.path for row in ROWS])
async def test_who_may_do_what(
    row: Row, actor: str, clients: dict[str, GraphQLClient], world: World
) -> None:
    # Given the actor, When it asks for the field
    response = await clients[actor](row.query, _variables(row.query, actor, world))
    path = row.path.split(".")
    codes = {error.get("extensions", {}).get("code") for error in response.errors}
    if path[0] == "node" and actor not in ACCOUNT_READERS:
        # Then `node(id:)` answers null, exactly like an unknown id, to whoever may not read
        # the type at all (anonymous callers included)
        assert response.status_code == 200, response.body
        assert response.errors == [], response.body
        assert _at(response.data, path[:1]) is None
        return
    if actor == "anonymous":
        # Then an anonymous caller is asked to sign in
        assert_unauthenticated(response)
    elif actor in row.allowed:
        # Then an admitted actor gets an answer (a user error at most)
        assert response.status_code == 200, response.body
        assert not codes & {"FORBIDDEN", "UNAUTHENTICATED"}, (row.capability, response.body)
        assert _at(response.data, path) is not None, response.body
    else:
        # Then everyone else gets FORBIDDEN at the field, and null there
        denied = [e for e in response.errors if e.get("extensions", {}).get("code") == "FORBIDDEN"]
        expected = [int(p) if p.isdigit() else p for p in _denied_at(path, actor)]
        assert [e["path"] for e in denied] == [expected], (
            row.capability,
            response.body,
        )
        assert _at(response.data, path) is None
