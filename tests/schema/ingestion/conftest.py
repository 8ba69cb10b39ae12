"""Uploads over the GraphQL multipart request spec, and the PDFs (good and bad) they carry."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from pypdf import PdfWriter
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col
from starlette.applications import Starlette

from portal.models import Contact, NotificationPreference, PortalUser, ReportSubscription
from portal.models.enums import UserStatus
from portal.seed.pdfs import render_document_pdf
from portal.seed.reference import reference_id
from portal.settings import Settings
from portal.storage import LocalDocumentStorage
from tests.support.graphql import GraphQLResponse
from tests.support.world import SUBSCRIBED_REPORT_TYPE, World

POST_DOCUMENT = """
mutation Post($input: PostDocumentInput!) {
  postDocument(input: $input) {
    document { id name pageCount sizeBytes sha256 reportType { code } visit { id } }
    userErrors { field code message }
  }
}
"""


def make_pdf(pages: int = 2, *, marker: str | None = None) -> bytes:
    """A valid PDF, unique per call unless ``marker`` is given."""
    tag = marker or uuid.uuid4().hex
    return render_document_pdf(
        title=f"Result {tag}",
        employee_name="Smith, Alice",
        date_of_birth=date(1985, 4, 12),
        visit_date=date(2026, 1, 2),
        center_name="Dallas Occupational Health",
        report_type_name="Injury Activity Status Report",
        pages=pages,
        lines=[f"line {n} {tag}" for n in range(8)],
    )


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.append(io.BytesIO(make_pdf(1)))
    writer.encrypt("secret")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def corrupt_pdf() -> bytes:
    good = make_pdf(2)
    return good[: len(good) // 2]


def text_named_pdf() -> bytes:
    return f"Not a PDF at all, just notes {uuid.uuid4()}\n".encode() * 20


async def post_upload(
    http: httpx.AsyncClient,
    token: str | None,
    variables: dict[str, Any],
    content: bytes,
    *,
    filename: str = "report.pdf",
    query: str = POST_DOCUMENT,
    headers: dict[str, str] | None = None,
) -> GraphQLResponse:
    """One GraphQL multipart request: ``variables.input.file`` is the file part ``0``."""
    operations = {"query": query, "variables": {"input": {**variables, "file": None}}}
    request_headers = dict(headers or {})
    if token is not None:
        request_headers["Authorization"] = f"Bearer {token}"
    response = await http.post(
        "/graphql",
        data={
            "operations": json.dumps(operations),
            "map": json.dumps({"0": ["variables.input.file"]}),
        },
        files={"0": (filename, content, "application/pdf")},
        headers=request_headers,
    )
    try:
        body = response.json()
    except ValueError:
        body = {"raw": response.text}
    return GraphQLResponse(response.status_code, body, response.headers)


@pytest.fixture
def storage(settings: Settings) -> LocalDocumentStorage:
    """Where the app stores documents (the same folder the world's PDFs are in)."""
    return LocalDocumentStorage(root=settings.resolved_data_dir / "documents")


@pytest.fixture
def small_upload_limit(app: Starlette, settings: Settings) -> Iterator[int]:
    """The app with a 20 000-byte upload limit for one test."""
    graphql = app.state.graphql
    limit = 20_000
    graphql.settings = settings.model_copy(update={"max_upload_bytes": limit})
    yield limit
    graphql.settings = settings


@pytest.fixture
async def email_subscribers(db: AsyncSession, world: World) -> dict[str, str]:
    """Contacts subscribed to the world's subscribed pair (Dallas, injury activity status):

    - basic@acme.example: asked for email, active login -> emailed;
    - quiet@acme.example: subscribed with an active login, but asked for no email;
    - gone@acme.example (deactivated login): subscribed and asked for email -> not emailed;
    - phoenix@acme.example: asked for email, subscribed at another location -> not emailed.
    """
    report_type_id = reference_id("report_type", SUBSCRIBED_REPORT_TYPE)
    basic_contact = world.acme_basic.contact_id
    gone_contact = world.acme_deactivated.contact_id
    password_hash = world.acme_basic.password_hash

    async def contact(email: str) -> uuid.UUID:
        row = Contact(
            account_id=world.acme.id, first_name="Pat", last_name="Extra", work_email=email
        )
        db.add(row)
        await db.flush()
        db.add(
            PortalUser(
                contact_id=row.id,
                account_id=world.acme.id,
                email=email,
                status=UserStatus.ACTIVE,
                password_hash=password_hash,
            )
        )
        return row.id

    quiet = await contact("quiet@acme.example")
    phoenix = await contact("phoenix@acme.example")
    subscriptions = [
        (quiet, world.acme_dallas.id),
        (gone_contact, world.acme_dallas.id),
        (phoenix, world.acme_phoenix.id),
    ]
    for contact_id, location_id in subscriptions:
        db.add(
            ReportSubscription(
                account_id=world.acme.id,
                contact_id=contact_id,
                report_type_id=report_type_id,
                location_id=location_id,
            )
        )
    preferences = [(basic_contact, True), (quiet, False), (gone_contact, True), (phoenix, True)]
    for contact_id, wants_email in preferences:
        db.add(
            NotificationPreference(
                contact_id=contact_id, account_id=world.acme.id, email_on_new_results=wants_email
            )
        )
    await db.commit()
    emails = await db.scalars(
        sa.select(col(Contact.work_email)).where(col(Contact.id) == basic_contact)
    )
    return {"emailed": emails.one()}
