"""The provider's own systems (``provider_clients``): client credentials for ``ingestion:write``,
recording visits and posting results over the same API as staff, and nothing else."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import AuditEvent, ProviderClient
from portal.models.enums import ActorType
from portal.resolvers.provider_clients import (
    CreatedProviderClient,
    create_provider_client,
    revoke_provider_client,
)
from portal.schema.accounts import Account
from portal.schema.catalog import MedicalCenter
from portal.schema.documents import Document
from portal.schema.employees import Employee
from portal.schema.relay import global_id
from portal.schema.visits import Visit
from tests.schema.ingestion.conftest import make_pdf, post_upload
from tests.support.graphql import GraphQLClient, assert_forbidden, assert_unauthenticated
from tests.support.world import PASSWORD, SUBSCRIBED_REPORT_TYPE, World

TOKEN_URL = "https://testserver/oauth/token"

RECORD_VISIT = """
mutation ($input: RecordVisitInput!) {
  recordVisit(input: $input) { visit { id status } userErrors { field code message } }
}
"""
CHECK_OUT = """
mutation ($input: UpdateVisitStatusInput!) {
  updateVisitStatus(input: $input) { visit { id status } userErrors { field code message } }
}
"""
VIEWER = "{ viewer { role scopes } }"


def _basic(client_id: str, secret: str) -> dict[str, str]:
    credentials = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {credentials}"}


async def _token(
    http: httpx.AsyncClient, client_id: str, secret: str, **form: str
) -> httpx.Response:
    return await http.post(
        TOKEN_URL,
        data={"grant_type": "client_credentials", **form},
        headers=_basic(client_id, secret),
    )


async def _new_provider_client(db: AsyncSession) -> CreatedProviderClient:
    return await create_provider_client(session=db, name="Dallas clinic EHR")


async def test_a_provider_system_records_a_visit_and_posts_its_result(
    http: httpx.AsyncClient, db: AsyncSession, world: World
) -> None:
    # given a provider client created by an operator
    created = await _new_provider_client(db)
    assert created.row.client_id.startswith("ehp-provider-")
    assert created.client_secret not in created.row.secret_hash

    # when it asks for a token with its credentials
    response = await _token(http, created.row.client_id, created.client_secret)

    # then it gets one for ingestion only
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"] == "ingestion:write"
    system = GraphQLClient(http, body["access_token"])
    assert (await system(VIEWER)).ok()["viewer"] == {
        "role": "API_CLIENT",
        "scopes": ["ingestion:write"],
    }

    # when it records Alice's visit, checks her out and posts the result
    recorded = (
        await system(
            RECORD_VISIT,
            {
                "input": {
                    "employeeId": global_id(Employee, world.results.alice.id),
                    "medicalCenterId": global_id(MedicalCenter, world.centers[0].id),
                    "visitedAt": datetime.now(UTC).isoformat(),
                    "visitType": "NON_INJURY",
                }
            },
        )
    ).ok()["recordVisit"]
    assert recorded["userErrors"] == []
    visit_id = recorded["visit"]["id"]
    checked_out = (
        await system(CHECK_OUT, {"input": {"id": visit_id, "status": "CHECKED_OUT"}})
    ).ok()["updateVisitStatus"]
    posted = (
        await post_upload(
            http,
            body["access_token"],
            {"visitId": visit_id, "reportType": SUBSCRIBED_REPORT_TYPE, "name": "Physical"},
            make_pdf(2),
        )
    ).ok()["postDocument"]

    # then each step succeeds, as it would for staff
    assert checked_out == {"visit": {"id": visit_id, "status": "CHECKED_OUT"}, "userErrors": []}
    assert posted["userErrors"] == []
    assert posted["document"]["pageCount"] == 2

    # and the audit trail names the provider client as the actor
    actors = (
        await db.execute(
            sa.select(col(AuditEvent.action), col(AuditEvent.actor_type)).where(
                col(AuditEvent.actor_id) == created.row.id
            )
        )
    ).all()
    assert {(action, actor) for action, actor in actors} >= {
        ("visit.recorded", ActorType.PROVIDER_CLIENT),
        ("visit.status_changed", ActorType.PROVIDER_CLIENT),
        ("document.posted", ActorType.PROVIDER_CLIENT),
    }


async def test_a_provider_system_reads_no_results_and_retracts_nothing(
    provider_client: GraphQLClient, world: World
) -> None:
    # when the provider's system asks for documents, employees or visits, or retracts a document
    documents = await provider_client("{ documents { totalCount } }")
    employees = await provider_client("{ employees { totalCount } }")
    visits = await provider_client("{ visits { totalCount } }")
    retract = await provider_client(
        'mutation ($id: ID!) { retractDocument(input: {id: $id, reason: "x"}) '
        "{ userErrors { code } } }",
        {"id": global_id(Employee, world.results.alice.id)},
    )

    # then each is forbidden: posting results is not reading them, and retraction is a person's
    assert_forbidden(documents, ["documents"])
    assert_forbidden(employees, ["employees"])
    assert_forbidden(visits, ["visits"])
    assert_forbidden(retract, ["retractDocument"])


async def test_no_employer_client_can_get_the_ingestion_scope(
    http: httpx.AsyncClient, admin_client: GraphQLClient, world: World
) -> None:
    # when Acme's HR client asks for `ingestion:write`
    response = await _token(http, world.acme_client.client_id, PASSWORD, scope="ingestion:write")
    # then the scope is refused
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_scope"

    # when Acme's User Admin tries to create a client holding it
    created = (
        await admin_client(
            'mutation { createApiClient(input: {name: "Sneaky", scopes: [INGESTION_WRITE]}) '
            "{ userErrors { field code } } }"
        )
    ).ok()["createApiClient"]
    # then it is an unknown scope for employer clients
    assert created["userErrors"] == [{"field": "scopes", "code": "BAD_USER_INPUT"}]


async def test_a_provider_system_cannot_ask_for_employer_scopes(
    http: httpx.AsyncClient, db: AsyncSession
) -> None:
    # given a provider client
    created = await _new_provider_client(db)
    # when it asks for `documents:read`
    response = await _token(
        http, created.row.client_id, created.client_secret, scope="documents:read"
    )
    # then the scope is refused
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_scope"


async def test_a_revoked_provider_system_is_refused_at_once(
    http: httpx.AsyncClient, db: AsyncSession
) -> None:
    # given a provider client holding a live token
    created = await _new_provider_client(db)
    token = (await _token(http, created.row.client_id, created.client_secret)).json()
    system = GraphQLClient(http, token["access_token"])
    assert (await system(VIEWER)).ok()["viewer"]["role"] == "API_CLIENT"

    # when an operator revokes it
    revoked = await revoke_provider_client(session=db, client_id=created.row.client_id)
    assert revoked.revoked_at is not None

    # then its token stops working on the next request, and it gets no new one
    assert_unauthenticated(await system(VIEWER))
    refused = await _token(http, created.row.client_id, created.client_secret)
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"] == "invalid_client"


async def test_a_token_records_when_the_provider_client_was_last_used(
    http: httpx.AsyncClient, db: AsyncSession
) -> None:
    created = await _new_provider_client(db)
    assert created.row.last_used_at is None
    response = await _token(http, created.row.client_id, created.client_secret)
    assert response.status_code == 200
    used = await db.scalar(
        sa.select(col(ProviderClient.last_used_at)).where(col(ProviderClient.id) == created.row.id)
    )
    assert used is not None


async def test_a_provider_system_cannot_read_through_node_either(
    provider_client: GraphQLClient, world: World
) -> None:
    # given the ids of an employee, a visit, a document and an account
    ids = [
        global_id(Employee, world.results.alice.id),
        global_id(Visit, world.results.alice_injury.id),
        global_id(Document, world.results.subscribed.id),
        global_id(Account, world.acme.id),
    ]
    # when the provider's system asks for them through `nodes`
    response = await provider_client(
        "query ($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids}
    )
    # then none is answered: `node` applies the same rules as the typed fields
    assert response.data == {"nodes": [None, None, None, None]}, response.body
