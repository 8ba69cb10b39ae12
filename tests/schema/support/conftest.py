"""Support-request helpers: opening requests over HTTP, moving them, reading them back."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.tokens import SubjectKind, TokenService
from portal.models import PortalUser, SupportRequest
from portal.models.enums import Role
from portal.schema.documents import Document
from portal.schema.relay import global_id
from portal.schema.visits import Visit
from tests.mail.conftest import inbox, mail_settings
from tests.schema.users.conftest import add_user, clients
from tests.support.graphql import GraphQLClient, GraphQLResponse

__all__ = ["clients", "inbox", "mail_settings"]

REQUEST_FIELDS = """
id number type topic urgent status subject description createdAt resolvedAt resolution
visitStatus allowedNextStatuses commentCount
requester { name isStaff }
assignedTo { name isStaff }
comments { body internal createdAt author { name isStaff } }
history { fromStatus toStatus changedAt changedBy { name isStaff } }
"""

CREATE = f"""
mutation Create($input: CreateSupportRequestInput!) {{
  createSupportRequest(input: $input) {{
    supportRequest {{ {REQUEST_FIELDS} }}
    resultsExpectedAt
    userErrors {{ field code message }}
  }}
}}
"""

COMMENT = f"""
mutation Comment($input: AddSupportRequestCommentInput!) {{
  addSupportRequestComment(input: $input) {{
    supportRequest {{ {REQUEST_FIELDS} }}
    comment {{ body internal author {{ name isStaff }} }}
    userErrors {{ field code message }}
  }}
}}
"""

STATUS = f"""
mutation Status($input: UpdateSupportRequestStatusInput!) {{
  updateSupportRequestStatus(input: $input) {{
    supportRequest {{ {REQUEST_FIELDS} }}
    userErrors {{ field code message }}
  }}
}}
"""

ASSIGN = """
mutation Assign($input: AssignSupportRequestInput!) {
  assignSupportRequest(input: $input) {
    supportRequest { id assignedTo { name isStaff } assignee { id name } }
    userErrors { field code message }
  }
}
"""

RETRACT = f"""
mutation Retract($input: RetractSupportRequestDocumentInput!) {{
  retractSupportRequestDocument(input: $input) {{
    supportRequest {{ {REQUEST_FIELDS} }}
    document {{ id retracted retractionReason }}
    userErrors {{ field code message }}
  }}
}}
"""

LIST = """
query List($filter: SupportRequestFilter, $first: Int, $after: String) {
  supportRequests(filter: $filter, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id number subject urgent status createdAt commentCount }
  }
}
"""

NODE = f"""
query Node($id: ID!) {{
  node(id: $id) {{ ... on SupportRequest {{ {REQUEST_FIELDS} document {{ id }} }} }}
}}
"""


def request_input(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "type": "ACCOUNT_UPDATE",
        "topic": "NOTIFICATIONS",
        "subject": "Fewer emails",
        "description": "Please stop result emails for Phoenix.",
    }
    values.update(changes)
    return values


def document_id(row: Any) -> str:
    return str(global_id(Document, row.id))


def visit_id(row: Any) -> str:
    return str(global_id(Visit, row.id))


async def create(client: GraphQLClient, **changes: Any) -> dict[str, Any]:
    """Open a request that must succeed; answers the request as its requester sees it."""
    response = await client(CREATE, {"input": request_input(**changes)})
    payload = response.ok()["createSupportRequest"]
    assert payload["userErrors"] == [], payload
    request: dict[str, Any] = payload["supportRequest"]
    return request


async def create_refused(client: GraphQLClient, **changes: Any) -> dict[str, Any]:
    """Open a request that must be refused; answers the payload."""
    response = await client(CREATE, {"input": request_input(**changes)})
    payload: dict[str, Any] = response.ok()["createSupportRequest"]
    assert payload["supportRequest"] is None, payload
    assert len(payload["userErrors"]) == 1, payload
    return payload


async def move(client: GraphQLClient, request_id: str, status: str) -> dict[str, Any]:
    response = await client(STATUS, {"input": {"id": request_id, "status": status}})
    payload: dict[str, Any] = response.ok()["updateSupportRequestStatus"]
    return payload


async def comment(
    client: GraphQLClient, request_id: str, body: str, *, internal: bool = False
) -> dict[str, Any]:
    response = await client(
        COMMENT, {"input": {"id": request_id, "body": body, "internal": internal}}
    )
    payload: dict[str, Any] = response.ok()["addSupportRequestComment"]
    return payload


async def listed(client: GraphQLClient, **filters: Any) -> list[dict[str, Any]]:
    response = await client(LIST, {"filter": filters or None, "first": 100})
    nodes: list[dict[str, Any]] = response.ok()["supportRequests"]["nodes"]
    return nodes


async def node(client: GraphQLClient, request_id: str) -> GraphQLResponse:
    return await client(NODE, {"id": request_id})


async def stored(db: AsyncSession, number: str) -> SupportRequest:
    row = await db.scalar(
        sa.select(SupportRequest)
        .where(col(SupportRequest.number) == number)
        .execution_options(populate_existing=True)
    )
    assert row is not None
    return row


async def age_resolution(db: AsyncSession, number: str, days: float) -> None:
    """Pretend the request was resolved ``days`` ago."""
    row = await stored(db, number)
    assert row.resolved_at is not None
    row.resolved_at = row.resolved_at - timedelta(days=days)
    await db.commit()


@pytest.fixture
async def other_basic_client(
    db: AsyncSession, http: httpx.AsyncClient, tokens: TokenService, world: Any
) -> GraphQLClient:
    """A second Basic user of Acme (sees no one else's requests)."""
    user: PortalUser = await add_user(db, world, "other.basic@acme.example", Role.BASIC)
    token, _ = tokens.mint(kind=SubjectKind.USER, subject_id=user.id)
    return GraphQLClient(http, token)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)
