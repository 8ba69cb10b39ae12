"""Hardening 9, display names: a name (or description) that a person sets and others are shown
refuses control characters and bidirectional overrides, which could hide or reorder what a reader
sees (``invoice\u202efdp.exe`` is shown as ``invoiceexe.pdf``). Each refusal is a
``BAD_USER_INPUT`` user error on the field, and nothing is written."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import ApiClient, Contact, Document
from portal.resolvers.display_text import check_display_text
from portal.resolvers.errors import BadUserInput
from portal.schema.documents import Document as DocumentNode
from portal.schema.relay import global_id
from tests.schema.accounts.test_contacts import ADD_CONTACT, NEWCOMER
from tests.schema.api_clients.test_api_clients import CREATE as CREATE_API_CLIENT
from tests.schema.ingestion.conftest import make_pdf, post_upload
from tests.schema.ingestion.test_post_document import _input as post_input
from tests.schema.ingestion.test_retract_restore import RETRACT
from tests.support.graphql import GraphQLClient
from tests.support.world import World

HIDDEN = [
    pytest.param("invoice\u202efdp.exe", id="right-to-left override"),
    pytest.param("Report \u2066hidden\u2069", id="isolate"),
    pytest.param("Report\u200f", id="right-to-left mark"),
    pytest.param("Report\x07bell", id="control character"),
    pytest.param("Report\x1b[31m", id="terminal escape"),
    pytest.param("two\nlines", id="line break in a name"),
]


async def count(db: AsyncSession, model: type[ApiClient | Document | Contact]) -> int:
    return int(await db.scalar(sa.select(sa.func.count()).select_from(model)) or 0)


@pytest.mark.parametrize("name", HIDDEN)
async def test_an_api_client_name_refuses_hidden_characters(
    admin_client: GraphQLClient, db: AsyncSession, name: str
) -> None:
    # Given a User Admin naming a new API client with a hidden character
    before = await count(db, ApiClient)
    # When they create it
    payload = (
        await admin_client(CREATE_API_CLIENT, {"name": name, "scopes": ["VISITS_READ"]})
    ).ok()["createApiClient"]
    # Then it is refused on the name, and no client exists
    assert payload["apiClient"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("name", "BAD_USER_INPUT")]
    assert "U+" in payload["userErrors"][0]["message"]
    assert await count(db, ApiClient) == before


@pytest.mark.parametrize("name", HIDDEN[:5])
async def test_a_document_name_refuses_hidden_characters(
    staff_client: GraphQLClient, db: AsyncSession, world: World, name: str
) -> None:
    # Given a result posted under a name with a hidden character
    before = await count(db, Document)
    # When it is uploaded
    response = await post_upload(
        staff_client.http, staff_client.token, post_input(world, name), make_pdf()
    )
    # Then it is refused on the name, and no document is recorded
    payload = response.ok()["postDocument"]
    assert payload["document"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("name", "BAD_USER_INPUT")]
    assert await count(db, Document) == before


@pytest.mark.parametrize("field", ["firstName", "lastName", "title"])
async def test_a_contact_name_refuses_hidden_characters(
    admin_client: GraphQLClient, db: AsyncSession, field: str
) -> None:
    # Given a new contact whose name shown to colleagues hides a direction override
    before = await count(db, Contact)
    variables = {"input": {**NEWCOMER, field: "Dana\u202eZepol"}}
    # When it is added
    payload = (await admin_client(ADD_CONTACT, variables)).ok()["addContact"]
    # Then it is refused on that field, and nothing is written
    assert payload["contact"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [(field, "BAD_USER_INPUT")]
    assert await count(db, Contact) == before


def test_names_in_every_script_and_emoji_are_kept() -> None:
    # Given names in other scripts, with accents, joiners and emoji
    for name in ("Zoë O'Brien-Núñez", "محمد علي", "山田 太郎", "Team 👩\u200d⚕️ Clinic"):
        # Then they pass unchanged
        assert check_display_text(name, field="name", what="A name") == name


def test_a_description_may_break_lines_but_not_override_direction() -> None:
    assert check_display_text("one\ntwo", field="d", what="A description", allow_line_breaks=True)
    with pytest.raises(BadUserInput):
        check_display_text("one\u202etwo", field="d", what="A description", allow_line_breaks=True)


async def test_a_retraction_reason_refuses_a_direction_override(
    staff_client: GraphQLClient, world: World, db: AsyncSession
) -> None:
    # Given staff retracting a document with a reason that hides a direction override
    document = world.results.subscribed
    variables = {
        "input": {"id": global_id(DocumentNode, document.id), "reason": "Wrong \u202epatient"}
    }
    # When it is sent
    payload = (await staff_client(RETRACT, variables)).ok()["retractDocument"]
    # Then it is refused on the reason, and the document stays
    assert payload["document"] is None
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        ("reason", "BAD_USER_INPUT")
    ]
    row = await db.get(Document, document.id, populate_existing=True)
    assert row is not None
    assert row.retracted_at is None
