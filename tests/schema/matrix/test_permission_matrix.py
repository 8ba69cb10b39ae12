"""DESIGN.md's "Who may do what", checked field by field for every actor over HTTP.

Each row names a field (or mutation) that exists on this branch, the capability of the table it
falls under, and the actors it admits; every other signed-in actor must get FORBIDDEN at the
field's path, and an anonymous caller UNAUTHENTICATED. Mutations are called with ids that do not
exist, so an admitted actor gets a user error and nothing is written either way."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from portal.schema.accounts import Account, Contact
from portal.schema.api_clients import ApiClient
from portal.schema.catalog import MedicalCenter
from portal.schema.documents import Document
from portal.schema.employees import Employee
from portal.schema.relay import global_id
from portal.schema.users import PortalUser
from portal.schema.visits import Visit
from tests.support.graphql import GraphQLClient, assert_unauthenticated
from tests.support.world import World

ACTORS = ["anonymous", "admin", "basic", "visits", "globex", "tpa", "staff", "api_client"]
ACTORS += ["provider_client"]
ADMINS = {"admin", "globex", "tpa"}
PEOPLE = ADMINS | {"basic", "visits", "staff"}
SIGNED_IN = PEOPLE | {"api_client", "provider_client"}
# Recording visits and posting results: staff and the provider's own systems (ingestion:write).
INGESTION = {"staff", "provider_client"}
# view account info, locations, contacts and their roles: people and `account:read` clients.
ACCOUNT_READERS = PEOPLE | {"api_client"}


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
]


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
    }
    return {name: value for name, value in candidates.items() if f"${name}" in query}


def _at(data: Any, path: list[str]) -> Any:
    for part in path:
        if data is None:
            return None
        data = data[part]
    return data


def _denied_at(path: list[str], actor: str) -> list[str]:
    """Where the denial lands: a nested field of ``account`` is never reached by an actor that
    may not read the account itself."""
    if len(path) > 1 and path[0] == "account" and actor not in ACCOUNT_READERS:
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
        assert [e["path"] for e in denied] == [_denied_at(path, actor)], (
            row.capability,
            response.body,
        )
        assert _at(response.data, path) is None
