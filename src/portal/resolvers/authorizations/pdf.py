"""The printable authorization (fpdf2): what the employee brings and the front desk scans.

It is rendered from the database when needed (an email's attachment at delivery, a download at
redemption) and never stored: the outbox and the download tickets hold only the authorization's
id, so no PHI bytes wait anywhere.

fpdf2 and segno are imported when a PDF is rendered, not with this module: they would cost every
serving process about 20 MB of memory, and most never print an authorization."""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import (
    Account,
    Authorization,
    AuthorizationService,
    Employee,
    Location,
    MedicalCenter,
    Service,
)
from portal.models.enums import CENTER_MODALITIES, Modality

PRODUCER = "Employer Health Portal"


def latin1(text: str) -> str:
    """Text the PDF core fonts can draw: anything outside Latin-1 becomes ``?``."""
    return text.encode("latin-1", "replace").decode("latin-1")


TELEMEDICINE_INSTRUCTIONS = (
    "This is a telemedicine visit: no center visit is needed. Call 1-800-555-0199 (24 hours a "
    "day) or open the telemedicine link your employer sent you, and give the provider the "
    "authorization number above. Have a phone or a computer with a camera, and a quiet, "
    "private place."
)
TELEREHAB_INSTRUCTIONS = (
    "This is a telerehab (remote physical therapy) program: the therapy team will call you to "
    "schedule your first video session. Give them the authorization number above."
)
CENTER_TELEMEDICINE_NOTE = (
    "At the center you will see a provider by telemedicine; the staff will set it up for you."
)
MODALITY_LABELS = {
    Modality.IN_CENTER: "In center",
    Modality.CENTER_TELEMEDICINE: "Telemedicine at a center",
    Modality.TELEMEDICINE: "Telemedicine",
    Modality.TELEREHAB: "Telerehab",
}


@dataclass(frozen=True, slots=True)
class PrintableAuthorization:
    id: uuid.UUID
    number: str
    company: str
    employee_name: str
    date_of_birth: date
    employee_number: str
    location: str
    modality: Modality
    services: tuple[str, ...]
    valid_from: date
    valid_until: date
    special_instructions: str | None
    center_name: str | None = None
    center_address: str | None = None
    center_phone: str | None = None
    center_hours: str | None = None

    @property
    def filename(self) -> str:
        return f"authorization-{self.number}.pdf"


async def load_printable(
    *, session: AsyncSession, authorization_id: uuid.UUID
) -> PrintableAuthorization | None:
    """What the PDF shows, read in the session's scope; None when it is gone (deleted too)."""
    row = (
        await session.execute(
            sa.select(Authorization, Employee, Account, Location, MedicalCenter)
            .join(Employee, col(Employee.id) == col(Authorization.employee_id))
            .join(Account, col(Account.id) == col(Authorization.account_id))
            .join(Location, col(Location.id) == col(Authorization.location_id))
            .outerjoin(MedicalCenter, col(MedicalCenter.id) == col(Authorization.medical_center_id))
            .where(
                col(Authorization.id) == authorization_id, col(Authorization.deleted_at).is_(None)
            )
        )
    ).one_or_none()
    if row is None:
        return None
    authorization, employee, account, location, center = row
    services = (
        await session.scalars(
            sa.select(col(Service.name))
            .join(AuthorizationService, col(AuthorizationService.service_id) == col(Service.id))
            .where(col(AuthorizationService.authorization_id) == authorization_id)
            .order_by(col(Service.name))
        )
    ).all()
    return PrintableAuthorization(
        id=authorization.id,
        number=authorization.number,
        company=account.name,
        employee_name=f"{employee.last_name}, {employee.first_name}",
        date_of_birth=employee.date_of_birth,
        employee_number=employee.employee_number,
        location=f"{location.name}, {location.city}, {location.state}",
        modality=authorization.modality,
        services=tuple(services),
        valid_from=authorization.valid_from,
        valid_until=authorization.valid_until,
        special_instructions=authorization.special_instructions,
        center_name=center.name if center else None,
        center_address=(
            f"{center.street}, {center.city}, {center.state} {center.postal_code}"
            if center
            else None
        ),
        center_phone=center.phone if center else None,
        center_hours=center.hours if center else None,
    )


def qr_png(text: str) -> bytes:
    """A QR code of ``text`` (error correction M, quiet zone of 4 modules) as PNG bytes."""
    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buffer, kind="png", scale=8, border=4)
    return buffer.getvalue()


def _us_date(value: date) -> str:
    return value.strftime("%m/%d/%Y")


def render_authorization_pdf(printable: PrintableAuthorization) -> bytes:
    """One US Letter page; the same authorization always gives the same bytes."""
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format="letter")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_margins(left=18, top=16, right=18)
    pdf.set_creation_date(datetime(2000, 1, 1, tzinfo=UTC))
    pdf.set_producer(PRODUCER)
    pdf.set_creator(PRODUCER)
    pdf.set_title(latin1(f"Authorization {printable.number}"))
    pdf.add_page()

    pdf.set_font("Helvetica", style="B", size=10)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(0, 5, latin1(printable.company), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("Helvetica", style="B", size=17)
    pdf.cell(0, 10, "Authorization for medical services", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", style="B", size=13)
    pdf.cell(
        0, 7, f"Authorization number: {latin1(printable.number)}", new_x="LMARGIN", new_y="NEXT"
    )
    top = pdf.get_y()
    # The number as a QR code, top right: the front desk scans it at check-in.
    pdf.image(io.BytesIO(qr_png(printable.number)), x=pdf.w - pdf.r_margin - 40, y=16, w=40)
    pdf.set_y(max(top, 60))
    pdf.ln(2)

    def facts(title: str, rows: list[tuple[str, str]]) -> None:
        pdf.set_font("Helvetica", style="B", size=11)
        pdf.cell(0, 7, title, new_x="LMARGIN", new_y="NEXT")
        for label, value in rows:
            pdf.set_font("Helvetica", style="B", size=10)
            pdf.cell(38, 5.5, f"{label}:")
            pdf.set_font("Helvetica", size=10)
            pdf.multi_cell(0, 5.5, latin1(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    facts(
        "Employee",
        [
            ("Name", printable.employee_name),
            ("Date of birth", _us_date(printable.date_of_birth)),
            ("Employee number", printable.employee_number),
            ("Company location", printable.location),
        ],
    )
    facts(
        "Authorized",
        [
            ("Services", "; ".join(printable.services) or "-"),
            ("Visit type", MODALITY_LABELS[printable.modality]),
            (
                "Valid",
                f"{_us_date(printable.valid_from)} through {_us_date(printable.valid_until)}",
            ),
        ],
    )
    if printable.modality in CENTER_MODALITIES and printable.center_name is not None:
        rows = [
            ("Center", printable.center_name),
            ("Address", printable.center_address or ""),
            ("Phone", printable.center_phone or ""),
            ("Hours", printable.center_hours or ""),
        ]
        if printable.modality is Modality.CENTER_TELEMEDICINE:
            rows.append(("Note", CENTER_TELEMEDICINE_NOTE))
        facts("Where to go", rows)
    else:
        instructions = (
            TELEREHAB_INSTRUCTIONS
            if printable.modality is Modality.TELEREHAB
            else TELEMEDICINE_INSTRUCTIONS
        )
        facts("How to be seen", [("Instructions", instructions)])
    if printable.special_instructions:
        facts("Special instructions", [("For the center", printable.special_instructions)])

    pdf.set_font("Helvetica", style="I", size=8)
    pdf.set_text_color(90, 90, 90)
    pdf.multi_cell(
        0,
        4,
        "Bring this authorization (printed or on your phone) and a photo ID. Confidential: "
        "contains protected health information.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())
