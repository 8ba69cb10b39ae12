"""Small, valid, deterministic result PDFs for the demo data (fpdf2, core fonts only).

fpdf2 is imported when a PDF is rendered: every serving process imports the demo data's facts
(production mode refuses a database holding them), and fpdf2 would cost each about 20 MB."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF

PRODUCER = "Employer Health Portal"
_LINE_HEIGHT = 6.0
_FOOTER_TOP = 262.0  # mm from the top of a US Letter page (279.4 mm)


def latin1(text: str) -> str:
    """Text the core fonts can draw: anything outside Latin-1 becomes ``?``."""
    return text.encode("latin-1", "replace").decode("latin-1")


def _us_date(value: date) -> str:
    return value.strftime("%m/%d/%Y")


def render_document_pdf(
    *,
    title: str,
    employee_name: str,
    date_of_birth: date,
    visit_date: date,
    center_name: str,
    report_type_name: str,
    pages: int,
    lines: list[str],
) -> bytes:
    """A US Letter PDF of exactly ``pages`` pages, ``lines`` spread over them in order.

    The output depends only on the arguments (fixed creation date, producer and file id), so the
    same inputs give the same bytes. Raises ``ValueError`` when ``pages`` is below 1 or the lines
    do not fit on the pages.
    """
    if pages < 1:
        raise ValueError("a document has at least one page")
    from fpdf import FPDF

    pdf = FPDF(orientation="portrait", unit="mm", format="letter")
    pdf.set_auto_page_break(auto=False)
    pdf.set_margins(left=18, top=16, right=18)
    # Fixed metadata: the creation date comes from the visit, never from the clock.
    pdf.set_creation_date(datetime.combine(visit_date, time(0, 0), tzinfo=UTC))
    pdf.set_producer(PRODUCER)
    pdf.set_creator(PRODUCER)
    pdf.set_author(latin1(center_name))
    pdf.set_title(latin1(title))
    pdf.set_subject(latin1(report_type_name))

    per_page = max(1, math.ceil(len(lines) / pages))
    for page in range(pages):
        pdf.add_page()
        _header(
            pdf,
            title=title,
            employee_name=employee_name,
            date_of_birth=date_of_birth,
            visit_date=visit_date,
            center_name=center_name,
            report_type_name=report_type_name,
            continued=page > 0,
        )
        pdf.set_font("Helvetica", size=10)
        for line in lines[page * per_page : (page + 1) * per_page]:
            text = latin1(line)
            if pdf.get_string_width(text) <= pdf.epw:
                pdf.cell(0, _LINE_HEIGHT, text, new_x="LMARGIN", new_y="NEXT")
            else:
                pdf.multi_cell(0, _LINE_HEIGHT, text, new_x="LMARGIN", new_y="NEXT")
        if pdf.get_y() > _FOOTER_TOP:
            raise ValueError(f"the lines do not fit on {pages} page(s)")
        _footer(pdf, page=page + 1, pages=pages)
    return bytes(pdf.output())


def _header(
    pdf: FPDF,
    *,
    title: str,
    employee_name: str,
    date_of_birth: date,
    visit_date: date,
    center_name: str,
    report_type_name: str,
    continued: bool,
) -> None:
    pdf.set_font("Helvetica", style="B", size=9)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(0, 5, latin1(center_name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0, 0, 0)
    pdf.set_font("Helvetica", style="B", size=15)
    heading = f"{title} (continued)" if continued else title
    pdf.multi_cell(0, 8, latin1(heading), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    pdf.set_font("Helvetica", size=10)
    facts = (
        ("Patient", employee_name),
        ("Date of birth", _us_date(date_of_birth)),
        ("Date of service", _us_date(visit_date)),
        ("Report type", report_type_name),
    )
    for label, value in facts:
        pdf.set_font("Helvetica", style="B", size=10)
        pdf.cell(32, 5.5, f"{label}:")
        pdf.set_font("Helvetica", size=10)
        pdf.cell(0, 5.5, latin1(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_draw_color(150, 150, 150)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(4)


def _footer(pdf: FPDF, *, page: int, pages: int) -> None:
    pdf.set_y(_FOOTER_TOP + 4)
    pdf.set_font("Helvetica", style="I", size=8)
    pdf.set_text_color(90, 90, 90)
    pdf.cell(
        0,
        4,
        "Confidential: contains protected health information. Minimum necessary disclosure.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.cell(0, 4, f"Page {page} of {pages}", align="R")
    pdf.set_text_color(0, 0, 0)
