"""Production reference data: report types, services and the sign-on page links.

Every row is upserted by its natural key (code or label), so running the seed again updates names
and order in place and never duplicates a row. Operator decisions are kept: a deactivated service
stays inactive and an unpublished link stays unpublished.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from portal.models import SQLModel
from portal.models.enums import ServiceCategory

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

# Ids of new reference rows are derived from their codes, so they are the same on every machine.
REFERENCE_NAMESPACE = uuid.UUID("0b6f3c1e-6a52-5d0e-9c47-1f2a8e3d7b90")

INJURY = ServiceCategory.INJURY
NON_INJURY = ServiceCategory.NON_INJURY


@dataclass(frozen=True, slots=True)
class ReportTypeSpec:
    code: str
    name: str
    category: ServiceCategory
    sort_order: int


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    code: str
    name: str
    category: ServiceCategory
    description: str


@dataclass(frozen=True, slots=True)
class PortalLinkSpec:
    label: str
    url: str
    description: str
    sort_order: int


def _report_types() -> tuple[ReportTypeSpec, ...]:
    injury = [
        ("INJURY_ACTIVITY_STATUS_REPORT", "Injury Activity Status Report"),
        ("FIRST_NOTICE_OF_INJURY_LETTER", "First Notice of Injury Letter"),
        ("PATIENT_REFERRAL_REPORT", "Patient Referral Report"),
        ("RECHECK_APPOINTMENT_REMINDER_LETTER", "Recheck Appointment Reminder Letter"),
        ("EMPLOYEE_NO_SHOW_LETTER", "Employee No-Show Letter"),
        ("STATE_INJURY_REPORT", "State Injury Report"),
        ("EMPLOYER_PATIENT_VISIT_REPORT", "Employer Patient Visit Report"),
        ("CUSTODY_AND_CONTROL_FORM", "Custody and Control Form"),
        ("ALCOHOL_TESTING_FORM", "Alcohol Testing Form"),
        ("TRANSCRIPTION", "Transcription"),
        ("TRANSCRIPTION_SUMMARY", "Transcription Summary"),
    ]
    non_injury = [
        ("NON_INJURY_ACTIVITY_STATUS_REPORT", "Non-Injury Activity Status Report"),
        ("MEC_DOT_CARD", "MEC DOT Card"),
        ("MER_LONG_FORM", "MER Long Form"),
        ("PRE_PLACEMENT_PHYSICAL_RESULTS", "Pre-Placement Physical Results"),
        ("AUDIOGRAM_RESULTS", "Audiogram Results"),
        ("HUMAN_PERFORMANCE_EVALUATION_RESULTS", "Human Performance Evaluation (HPE) Results"),
        ("RESPIRATOR_CLEARANCE", "Respirator Clearance"),
        ("FIT_TEST_RESULTS", "Fit Test Results"),
        ("MEDICAL_SURVEILLANCE_OPINION_LETTER", "Medical Surveillance Medical Opinion Letter"),
        ("TEST_AND_LAB_RESULTS", "Test and Lab Results"),
        ("VACCINE_ADMINISTRATION_RECORD", "Vaccine Administration Record"),
        ("OTHER_PHYSICALS_AND_ANCILLARY_RESULTS", "Other Physicals and Ancillary Service Results"),
        ("CUSTOMER_SPECIFIC_FORM", "Customer-Specific Form"),
    ]
    specs = [
        ReportTypeSpec(code, name, INJURY, (index + 1) * 10)
        for index, (code, name) in enumerate(injury)
    ]
    specs += [
        ReportTypeSpec(code, name, NON_INJURY, 100 + (index + 1) * 10)
        for index, (code, name) in enumerate(non_injury)
    ]
    return tuple(specs)


REPORT_TYPES: tuple[ReportTypeSpec, ...] = _report_types()

SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec(
        "INJURY_CARE",
        "Injury care",
        INJURY,
        "Evaluation and treatment of a work-related injury or illness.",
    ),
    ServiceSpec(
        "INJURY_RECHECK",
        "Injury recheck visit",
        INJURY,
        "Follow-up visit for an open work injury.",
    ),
    ServiceSpec(
        "PHYSICAL_THERAPY",
        "Physical therapy",
        INJURY,
        "Rehabilitation of a work injury, in center or by telerehab.",
    ),
    ServiceSpec(
        "POST_ACCIDENT_DRUG_SCREEN",
        "Post-accident drug screen",
        INJURY,
        "Urine drug screen collected after a workplace accident (custody and control form).",
    ),
    ServiceSpec(
        "POST_ACCIDENT_ALCOHOL_TEST",
        "Post-accident breath alcohol test",
        INJURY,
        "Breath alcohol test after a workplace accident (alcohol testing form).",
    ),
    ServiceSpec(
        "DOT_PHYSICAL",
        "DOT physical",
        NON_INJURY,
        "FMCSA commercial driver medical examination (MEC card and MER long form).",
    ),
    ServiceSpec(
        "DRUG_SCREEN",
        "Drug screen",
        NON_INJURY,
        "Pre-employment, random or reasonable-suspicion drug screen.",
    ),
    ServiceSpec(
        "BREATH_ALCOHOL_TEST",
        "Breath alcohol test",
        NON_INJURY,
        "Evidential breath alcohol test.",
    ),
    ServiceSpec(
        "AUDIOGRAM",
        "Audiogram",
        NON_INJURY,
        "Baseline or annual hearing test for a hearing conservation program.",
    ),
    ServiceSpec(
        "RESPIRATOR_CLEARANCE",
        "Respirator clearance",
        NON_INJURY,
        "Medical clearance to wear a respirator (OSHA questionnaire review).",
    ),
    ServiceSpec(
        "FIT_TEST",
        "Respirator fit test",
        NON_INJURY,
        "Qualitative or quantitative respirator fit test.",
    ),
    ServiceSpec(
        "PRE_PLACEMENT_PHYSICAL",
        "Pre-placement physical",
        NON_INJURY,
        "Post-offer physical examination against the job's demands.",
    ),
    ServiceSpec(
        "VACCINES",
        "Vaccines",
        NON_INJURY,
        "Occupational vaccines (hepatitis B, Tdap, influenza, ...).",
    ),
    ServiceSpec(
        "LAB_TESTS",
        "Lab tests",
        NON_INJURY,
        "Blood and urine laboratory tests, TB testing.",
    ),
    ServiceSpec(
        "HUMAN_PERFORMANCE_EVALUATION",
        "Human performance evaluation",
        NON_INJURY,
        "Functional test of strength and endurance against the job's physical demands.",
    ),
    ServiceSpec(
        "MEDICAL_SURVEILLANCE",
        "Medical surveillance exam",
        NON_INJURY,
        "Periodic exam for exposure programs (noise, lead, silica, asbestos, ...).",
    ),
)

PORTAL_LINKS: tuple[PortalLinkSpec, ...] = (
    PortalLinkSpec(
        label="Drug screen results portal",
        url="https://drugscreen-results.example/login",
        description=(
            "Pass/fail drug screen results are reported outside this portal. "
            "Sign in to the drug screen results portal with its own credentials."
        ),
        sort_order=10,
    ),
)


def reference_id(kind: str, key: str) -> uuid.UUID:
    return uuid.uuid5(REFERENCE_NAMESPACE, f"{kind}/{key}")


def _table(name: str) -> sa.Table:
    return SQLModel.metadata.tables[name]


async def seed_reference_data(session: AsyncSession) -> None:
    """Upsert the report type and service catalogs and the sign-on links (no commit)."""
    report_types = _table("report_types")
    report_type_insert = pg_insert(report_types).values(
        [
            {
                "id": reference_id("report_type", spec.code),
                "code": spec.code,
                "name": spec.name,
                "category": spec.category,
                "sort_order": spec.sort_order,
            }
            for spec in REPORT_TYPES
        ]
    )
    await session.execute(
        report_type_insert.on_conflict_do_update(
            index_elements=[report_types.c.code],
            set_={
                "name": report_type_insert.excluded.name,
                "category": report_type_insert.excluded.category,
                "sort_order": report_type_insert.excluded.sort_order,
                "updated_at": sa.func.now(),
            },
        )
    )

    services = _table("services")
    service_insert = pg_insert(services).values(
        [
            {
                "id": reference_id("service", spec.code),
                "code": spec.code,
                "name": spec.name,
                "category": spec.category,
                "description": spec.description,
            }
            for spec in SERVICES
        ]
    )
    await session.execute(
        service_insert.on_conflict_do_update(
            index_elements=[services.c.code],
            set_={
                "name": service_insert.excluded.name,
                "category": service_insert.excluded.category,
                "description": service_insert.excluded.description,
                "updated_at": sa.func.now(),
            },
        )
    )

    links = _table("portal_links")
    link_insert = pg_insert(links).values(
        [
            {
                "id": reference_id("portal_link", spec.label),
                "label": spec.label,
                "url": spec.url,
                "description": spec.description,
                "sort_order": spec.sort_order,
                "published_at": sa.func.now(),
            }
            for spec in PORTAL_LINKS
        ]
    )
    # published_at is left alone on update: an operator may have unpublished the link.
    await session.execute(
        link_insert.on_conflict_do_update(
            index_elements=[links.c.label],
            set_={
                "url": link_insert.excluded.url,
                "description": link_insert.excluded.description,
                "sort_order": link_insert.excluded.sort_order,
                "updated_at": sa.func.now(),
            },
        )
    )
