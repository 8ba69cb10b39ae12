"""The OWASP API Security Top 10 (2023), item by item, over HTTP. Items already covered elsewhere
are referenced rather than repeated:

- API1 broken object level authorization: tested here across tenants for every node type; each
  domain's own tests check its lists and mutations (e.g. ``tests/schema/test_relay.py``).
- API2 broken authentication: ``tests/auth/test_bearer_tokens.py`` (forged, expired, foreign
  tokens), ``tests/security/test_enumeration_and_targeted_lockout.py``,
  ``tests/security/test_guessing_with_a_stolen_session.py``,
  ``tests/security/test_token_lifetime_cap.py``, ``tests/security/test_oauth_https_check.py``.
- API3 broken object property level authorization: ``tests/security/test_minimum_necessary.py``
  (fields denied per property); mass assignment is tested here.
- API4 unrestricted resource consumption: ``tests/security/test_query_cost.py`` (static cost,
  budgets, RATE_LIMITED), ``tests/security/test_fragment_bomb.py``,
  ``tests/security/test_input_bounds.py``, ``tests/security/test_websocket_limits.py``,
  ``tests/schema/test_errors.py`` (depth, aliases),
  ``tests/security/test_graphql_cop.py`` (field duplication, circular introspection),
  ``tests/security/test_deeply_nested_json.py``, ``tests/security/test_pdf_uploads.py``
  (decompression bombs), ``tests/schema/ingestion/test_post_document.py`` (upload size); the page
  size cap is tested here.
- API5 broken function level authorization: ``tests/schema/matrix/test_permission_matrix.py``
  (every field and mutation, every actor).
- API6 unrestricted access to sensitive business flows: ``tests/auth/test_login.py``
  (``test_failures_from_one_ip_are_throttled``), ``tests/auth/test_password_reset.py``.
- API7 server-side request forgery (webhooks): ``tests/schema/webhooks/test_webhooks.py``
  (``test_internal_addresses_are_refused_at_registration``) and ``tests/webhooks/test_delivery.py``
  (``test_the_address_is_checked_again_at_delivery``).
- API8 security misconfiguration: ``tests/security/test_production_mode.py``,
  ``tests/test_cors.py``; the security headers of every kind of answer are tested here.
- API9 improper inventory management: tested here (what is served is what is documented).
- API10 unsafe consumption of APIs: ``tests/webhooks/test_delivery.py``
  (``test_redirects_are_not_followed_and_only_a_kilobyte_is_kept``) and the PDF checks of
  ``tests/security/test_pdf_uploads.py`` (what providers send is checked, not trusted)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.applications import Starlette
from starlette.routing import Route, WebSocketRoute

from portal.models import Contact
from portal.schema.accounts import Account, Location
from portal.schema.accounts import Contact as ContactNode
from portal.schema.authorizations import Authorization
from portal.schema.documents import Document
from portal.schema.employees import Employee
from portal.schema.relay import global_id
from portal.schema.users import PortalUser
from portal.schema.visits import Visit
from portal.settings import Settings
from tests.schema.accounts.test_contacts import ADD_CONTACT, NEWCOMER
from tests.security.test_production_mode import key_file, production  # noqa: F401 -- fixtures
from tests.support.graphql import GraphQLClient
from tests.support.world import World

ROOT = Path(__file__).resolve().parents[2]
NODE = "query ($id: ID!) { node(id: $id) { id } }"
NODES = "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }"


def foreign_objects(world: World) -> list[tuple[type[Any], uuid.UUID]]:
    """One object of another tenant (Globex) per node type Acme's admin could otherwise read."""
    return [
        (Account, world.globex.id),
        (Location, world.globex_chicago.id),
        (ContactNode, world.globex_admin.contact_id),
        (PortalUser, world.globex_admin.id),
        (Employee, world.results.gina.id),
        (Visit, world.results.gina_physical.id),
        (Document, world.results.globex.id),
        (Authorization, world.results.gina_physical.authorization_id or uuid.uuid4()),
    ]


async def test_api1_broken_object_level_authorization(
    admin_client: GraphQLClient, world: World
) -> None:
    # Given Acme's User Admin and one object of Globex per node type
    for node_type, object_id in foreign_objects(world):
        foreign = global_id(node_type, object_id)
        unknown = global_id(node_type, uuid.uuid4())
        # When they ask for it by id, alone and in a list
        asked = await admin_client(NODE, {"id": foreign})
        never_existed = await admin_client(NODE, {"id": unknown})
        listed = await admin_client(NODES, {"ids": [foreign, unknown]})
        # Then it answers exactly like an id that never existed: null, and no error to tell
        assert asked.body == never_existed.body == {"data": {"node": None}}, node_type
        assert listed.body == {"data": {"nodes": [None, None]}}, node_type


async def test_api1_a_mutation_on_another_tenants_object_answers_like_an_unknown_id(
    admin_client: GraphQLClient, world: World, db: AsyncSession
) -> None:
    update = (
        'mutation ($id: ID!) { updateContact(input: {id: $id, title: "Owned"}) '
        "{ contact { id } userErrors { field code message } } }"
    )
    foreign = await admin_client(
        update, {"id": global_id(ContactNode, world.globex_admin.contact_id)}
    )
    unknown = await admin_client(update, {"id": global_id(ContactNode, uuid.uuid4())})
    assert foreign.ok() == unknown.ok()
    assert foreign.ok()["updateContact"]["userErrors"][0]["code"] == "NOT_FOUND"
    title = await db.scalar(
        sa.select(col(Contact.title)).where(col(Contact.id) == world.globex_admin.contact_id)
    )
    assert title != "Owned"


async def test_api3_broken_object_property_level_authorization(
    admin_client: GraphQLClient, world: World, db: AsyncSession
) -> None:
    # Given Acme's User Admin adding a contact while naming Globex's account (a property only
    # staff may set) or a role (a property the input does not have)
    before = await db.scalar(
        sa.select(sa.func.count()).where(col(Contact.account_id) == world.globex.id)
    )
    named = {"input": {**NEWCOMER, "accountId": global_id(Account, world.globex.id)}}
    payload = (await admin_client(ADD_CONTACT, named)).ok()["addContact"]
    with_role = await admin_client(ADD_CONTACT, {"input": {**NEWCOMER, "role": "USER_ADMIN"}})
    # Then neither lands: the account is refused like an unknown one, the role is not an input
    assert payload["contact"] is None
    assert payload["userErrors"], payload
    assert with_role.error_codes() == ["BAD_USER_INPUT"]
    assert with_role.data is None
    after = await db.scalar(
        sa.select(sa.func.count()).where(col(Contact.account_id) == world.globex.id)
    )
    assert after == before


async def test_api4_unrestricted_resource_consumption(admin_client: GraphQLClient) -> None:
    # Given a page far larger than the cap
    response = await admin_client("{ documents(first: 100000) { totalCount nodes { id } } }")
    # Then it is refused (never loaded and trimmed), with a code
    assert response.error_codes() == ["BAD_USER_INPUT"]
    assert "100" in response.errors[0]["message"]


SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/graphql", 200),
        ("GET", "/graphql", 405),
        ("GET", "/no/such/path", 404),
        ("POST", "/oauth/token", 400),
        ("GET", "/downloads/not-a-token", 404),
        ("GET", "/healthz", 200),
    ],
)
async def test_api8_security_misconfiguration(
    production: Starlette,  # noqa: F811 -- the fixture imported above
    method: str,
    path: str,
    status: int,
) -> None:
    # Given the app in production, When any kind of answer is produced
    transport = httpx.ASGITransport(app=production)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as client:
        response = await client.request(
            method, path, json={"query": "{ __typename }"} if method == "POST" else None
        )
    # Then it carries the security headers and HSTS, and names no server software
    assert response.status_code == status, response.text
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (path, name, dict(response.headers))
    assert "max-age=" in response.headers.get("strict-transport-security", "")
    assert "server" not in response.headers
    assert response.headers["x-request-id"]


def served_paths(app: Starlette) -> set[str]:
    paths = set()
    for route in app.routes:
        assert isinstance(route, (Route, WebSocketRoute)), route
        paths.add(re.sub(r"\{[^}]+\}", "{token}", route.path))
    return paths


async def test_api9_improper_inventory_management(
    production: Starlette,  # noqa: F811 -- the fixture imported above
    settings: Settings,
) -> None:
    # Given the app as production serves it
    paths = served_paths(production)
    # Then every endpoint it serves is in the README's inventory (no forgotten or test-only
    # endpoint, no old API version), and GraphiQL is not among them
    readme = (ROOT / "README.md").read_text()
    inventory = set(re.findall(r"^\| `(?:GET |POST |WS )?([^`\s]+)` \|", readme, re.MULTILINE))
    undocumented = {path for path in paths if path not in inventory}
    assert undocumented == set(), undocumented
    assert not any("graphiql" in path for path in paths)
    assert "/graphql" in paths
