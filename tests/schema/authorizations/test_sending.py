"""Sending: the email read from a real SMTP server with the printable PDF attached (its text
read with pypdf, its QR code decoded back to the number), sendAuthorization per recipient, and
the single-use download URL."""

from __future__ import annotations

import io
from typing import Any

import httpx
import sqlalchemy as sa
import zxingcpp
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from portal.mail import deliver_due
from portal.models import Authorization
from portal.resolvers.authorizations.pdf import TELEMEDICINE_INSTRUCTIONS
from portal.settings import Settings
from tests.schema.authorizations.conftest import CREATE, Authorizations, base_input, gid
from tests.support.graphql import GraphQLClient, assert_forbidden
from tests.support.mail import Inbox, body_of
from tests.support.world import World

SEND = """
mutation ($input: SendAuthorizationInput!) {
  sendAuthorization(input: $input) {
    authorization { sentAt recipients { email sentAt } history { kind recipientEmail } }
    userErrors { field code }
  }
}
"""
PREPARE = """
mutation ($id: ID!) {
  prepareAuthorizationDownload(input: {id: $id}) { url expiresAt userErrors { field code } }
}
"""


def pdf_of(message: Any) -> tuple[str, bytes]:
    [part] = [p for p in message.iter_attachments() if p.get_content_type() == "application/pdf"]
    filename: str = part.get_filename()
    content: bytes = part.get_content()
    return filename, content


def qr_numbers(pdf: bytes) -> list[str]:
    reader = PdfReader(io.BytesIO(pdf))
    return [
        barcode.text
        for image in reader.pages[0].images
        for barcode in zxingcpp.read_barcodes(image.image)
    ]


def text_of(pdf: bytes) -> str:
    return " ".join((PdfReader(io.BytesIO(pdf)).pages[0].extract_text() or "").split())


async def test_the_employee_receives_the_pdf_with_a_scannable_number(
    admin_client: GraphQLClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
    world: World,
) -> None:
    # Given an authorization created and sent to Alice and a colleague
    given = base_input(world, recipients=[{"email": "safety@acme.example", "name": "Safety"}])
    made = (await admin_client(CREATE, {"input": given})).ok()["createAuthorization"]
    number = made["authorization"]["number"]
    # When the outbox worker delivers the emails over SMTP
    report = await deliver_due(sessionmaker=sessionmaker, settings=mail_settings)
    # Then both received the PDF, and no PHI is in the body
    assert report.delivered == 2
    [to_alice] = inbox.to(world.results.alice.email or "")
    assert inbox.to("safety@acme.example")
    body = body_of(to_alice)
    for phi in ("Alice", "Smith", number, "Drug", "1985", "Dallas"):
        assert phi not in body
    assert to_alice["Subject"] == "Your authorization for medical services"
    filename, pdf = pdf_of(to_alice)
    assert filename == f"authorization-{number}.pdf"
    # And the PDF names the company, employee, services, center, validity and instructions
    text = text_of(pdf)
    center = world.centers[0]
    for expected in (
        "Acme Logistics",
        "Smith, Alice",
        "Drug",
        center.name,
        center.street,
        center.phone,
        center.hours,
        "Use the side entrance.",
        f"Authorization number: {number}",
    ):
        assert expected in text, expected
    # And its QR code decodes back to the number the front desk scans
    assert qr_numbers(pdf) == [number]


async def test_a_telemedicine_pdf_carries_the_instructions_instead_of_a_center(
    admin_client: GraphQLClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
    world: World,
) -> None:
    given = base_input(world, modality="TELEMEDICINE", medicalCenterId=None)
    made = (await admin_client(CREATE, {"input": given})).ok()["createAuthorization"]
    await deliver_due(sessionmaker=sessionmaker, settings=mail_settings)
    [message] = inbox.messages
    _, pdf = pdf_of(message)
    text = text_of(pdf)
    assert TELEMEDICINE_INSTRUCTIONS[:60] in text
    assert world.centers[0].name not in text
    assert qr_numbers(pdf) == [made["authorization"]["number"]]


async def test_an_email_of_a_deleted_authorization_is_not_sent(
    admin_client: GraphQLClient,
    db: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    mail_settings: Settings,
    inbox: Inbox,
    world: World,
) -> None:
    made = (await admin_client(CREATE, {"input": base_input(world)})).ok()["createAuthorization"]
    delete = "mutation ($id: ID!) { deleteAuthorization(input: {id: $id}) { userErrors { code } } }"
    assert (await admin_client(delete, {"id": made["authorization"]["id"]})).ok()
    report = await deliver_due(sessionmaker=sessionmaker, settings=mail_settings)
    assert report.delivered == 0
    assert inbox.messages == []


async def test_send_again_to_a_contact_keeps_each_send_per_recipient(
    admin_client: GraphQLClient, authorizations: Authorizations, world: World
) -> None:
    # Given Alice's authorization, sent to her before
    target = gid(authorizations.basic_active.id)
    # When it is sent to her again and to a contact
    payload = (
        await admin_client(
            SEND,
            {
                "input": {
                    "id": target,
                    "recipients": [
                        {"email": world.results.alice.email},
                        {"email": "visits@acme.example"},
                    ],
                }
            },
        )
    ).ok()["sendAuthorization"]
    # Then the history says RESENT for Alice, SENT for the contact, and SENT to the center
    assert payload["userErrors"] == []
    history = [(h["kind"], h["recipientEmail"]) for h in payload["authorization"]["history"]]
    assert ("RESENT", world.results.alice.email) in history
    assert ("SENT", "visits@acme.example") in history
    assert ("SENT", None) in history
    assert {r["email"] for r in payload["authorization"]["recipients"]} == {
        world.results.alice.email,
        "visits@acme.example",
    }


async def test_send_refuses_an_outside_address_and_an_inactive_authorization(
    admin_client: GraphQLClient, authorizations: Authorizations
) -> None:
    outside = (
        await admin_client(
            SEND,
            {
                "input": {
                    "id": gid(authorizations.basic_active.id),
                    "recipients": [{"email": "someone@else.example"}],
                }
            },
        )
    ).ok()["sendAuthorization"]
    assert outside["userErrors"] == [
        {"field": "recipients.0.email", "code": "RECIPIENT_NOT_ALLOWED"}
    ]
    cancelled = (
        await admin_client(SEND, {"input": {"id": gid(authorizations.admin_cancelled.id)}})
    ).ok()["sendAuthorization"]
    assert cancelled["userErrors"] == [{"field": "id", "code": "INVALID_TRANSITION"}]


async def test_send_is_idempotent(
    admin_client: GraphQLClient, authorizations: Authorizations
) -> None:
    given = {"input": {"id": gid(authorizations.basic_active.id), "idempotencyKey": "resend-1"}}
    first = (await admin_client(SEND, given)).ok()["sendAuthorization"]
    again = (await admin_client(SEND, given)).ok()["sendAuthorization"]
    assert len(again["authorization"]["history"]) == len(first["authorization"]["history"])


async def test_a_basic_user_cannot_send_anothers_authorization(
    basic_client: GraphQLClient, authorizations: Authorizations
) -> None:
    payload = (
        await basic_client(SEND, {"input": {"id": gid(authorizations.admin_active.id)}})
    ).ok()["sendAuthorization"]
    assert payload["userErrors"] == [{"field": "id", "code": "NOT_FOUND"}]


async def test_the_printable_pdf_downloads_once_for_its_preparer(
    basic_client: GraphQLClient,
    admin_client: GraphQLClient,
    http: httpx.AsyncClient,
    authorizations: Authorizations,
    endpoint_in_transaction: Any,
    db: AsyncSession,
) -> None:
    # Given a Basic user preparing their authorization's PDF
    data = (await basic_client(PREPARE, {"id": gid(authorizations.basic_active.id)})).ok()
    prepared = data["prepareAuthorizationDownload"]
    assert prepared["userErrors"] == []
    path = prepared["url"].split("://", 1)[1].split("/", 1)[1]
    # When someone else presents the URL, it is refused (and not spent)
    other = await http.get(f"/{path}", headers={"Authorization": f"Bearer {admin_client.token}"})
    assert other.status_code == 403
    # When the preparer GETs it
    mine = await http.get(f"/{path}", headers={"Authorization": f"Bearer {basic_client.token}"})
    # Then it is the PDF, named after the number, with the QR code of the number
    assert mine.status_code == 200, mine.text
    assert mine.headers["content-type"] == "application/pdf"
    number = authorizations.basic_active.number
    assert f"authorization-{number}.pdf" in mine.headers["content-disposition"]
    assert qr_numbers(mine.content) == [number]
    # And a second GET is refused
    again = await http.get(f"/{path}", headers={"Authorization": f"Bearer {basic_client.token}"})
    assert again.status_code == 410


async def test_a_download_of_anothers_or_unknown_authorization_is_refused(
    basic_client: GraphQLClient, api_client: GraphQLClient, authorizations: Authorizations
) -> None:
    data = (await basic_client(PREPARE, {"id": gid(authorizations.admin_active.id)})).ok()
    assert data["prepareAuthorizationDownload"]["userErrors"] == [
        {"field": "id", "code": "NOT_FOUND"}
    ]
    assert_forbidden(
        await api_client(PREPARE, {"id": gid(authorizations.basic_active.id)}),
        ["prepareAuthorizationDownload"],
    )


async def test_a_download_prepared_before_a_deletion_is_refused(
    admin_client: GraphQLClient,
    http: httpx.AsyncClient,
    authorizations: Authorizations,
    endpoint_in_transaction: Any,
    db: AsyncSession,
) -> None:
    data = (await admin_client(PREPARE, {"id": gid(authorizations.admin_active.id)})).ok()
    path = data["prepareAuthorizationDownload"]["url"].split("://", 1)[1].split("/", 1)[1]
    await db.execute(
        sa.update(Authorization)
        .where(col(Authorization.id) == authorizations.admin_active.id)
        .values(
            deleted_at=sa.func.now(),
            deleted_by_user_id=authorizations.admin_active.created_by_user_id,
        )
    )
    await db.commit()
    response = await http.get(f"/{path}", headers={"Authorization": f"Bearer {admin_client.token}"})
    assert response.status_code == 403
