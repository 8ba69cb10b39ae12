"""The demo data set: three employers (one a third-party administrator with two clients), their
people, employees, authorizations, visits, result PDFs and support requests.

Everything is derived from ``random.Random(2026)`` and ids are ``uuid5`` of readable names, so the
data is the same on every machine; dates are relative to ``today`` (the last six months), while ids
and numbers do not depend on it. Seeding is idempotent: when the demo accounts already exist the
summary is returned as is, and every insert also skips rows that already exist (ON CONFLICT DO
NOTHING), so two concurrent seeders cannot duplicate anything either.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlmodel import col

from portal.auth.passwords import hash_password
from portal.models import (
    Account,
    Document,
    ReportType,
    Service,
    SQLModel,
)
from portal.models.db import ACCOUNT_IDS_SETTING, ALL_ACCOUNTS_SETTING, AccountScope, set_scope
from portal.models.enums import (
    AuthorizationEventKind,
    AuthorizationState,
    Modality,
    Permission,
    RecipientKind,
    Role,
    SupportRequestStatus,
    SupportRequestType,
    SupportTopic,
    UserStatus,
    VisitStatus,
    VisitType,
)
from portal.seed.pdfs import render_document_pdf
from portal.seed.reference import REPORT_TYPES, seed_reference_data

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from portal.storage import DocumentStorage

DEMO_NAMESPACE = uuid.UUID("5d1c9a4e-2f7b-5e3a-8c61-9b0f4d2e7a15")
DEMO_SEED = 2026
ARCHIVE_AFTER_DAYS = 90
STAFF_EMAIL = "support@portal.example"

Row = dict[str, Any]


def demo_id(kind: str, *parts: object) -> uuid.UUID:
    """The id of a demo row: ``uuid5`` of its kind and readable name (``"account", "acme"``)."""
    return uuid.uuid5(DEMO_NAMESPACE, "/".join([kind, *(str(part) for part in parts)]))


MARKER_ACCOUNT_ID = demo_id("account", "acme")


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """How many rows exist after seeding (the whole tables, not only the demo rows)."""

    accounts: int
    users: int
    staff: int
    employees: int
    medical_centers: int
    authorizations: int
    visits: int
    documents: int
    archived_documents: int
    support_requests: int


# --------------------------------------------------------------------------------------------
# Fixed facts (compact tables: one row a line, cells separated by "|")


def _table(text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.split("|")]
        for line in text.strip().splitlines()
        if line.strip()
    ]


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.replace("\n", ",").split(",") if name.strip())


@dataclass(frozen=True, slots=True)
class _LocationSpec:
    key: str
    name: str
    street: str
    city: str
    state: str
    postal_code: str
    area_code: str


@dataclass(frozen=True, slots=True)
class _AccountSpec:
    key: str
    name: str
    number: str
    parent: str | None
    street: str
    city: str
    state: str
    postal_code: str
    area_code: str
    employee_prefix: str
    employee_count: int
    locations: tuple[_LocationSpec, ...]

    @property
    def is_tpa(self) -> bool:
        return any(other.parent == self.key for other in ACCOUNTS)


# key | name | account number | parent | street | city | state | zip | area code | employee
# number prefix | employees. The TPA comes first: its clients reference it.
_ACCOUNT_TABLE = _table("""
northwind | Northwind TPA        | EHP-300100 |           | 233 S Wacker Dr, Suite 4100 | Chicago  | IL | 60606 | 312 | NWT | 10
acme      | Acme Logistics       | EHP-100100 |           | 2400 Distribution Way       | Dallas   | TX | 75207 | 214 | ACM | 95
globex    | Globex Manufacturing | EHP-200100 |           | 600 Foundry Rd              | Columbus | OH | 43215 | 614 | GLX | 80
contoso   | Contoso Freight      | EHP-300110 | northwind | 1200 Fulton Industrial Blvd | Atlanta  | GA | 30336 | 404 | CTF | 65
initech   | Initech Fabrication  | EHP-300120 | northwind | 1800 W University Dr        | Tempe    | AZ | 85281 | 480 | ITF | 50
""")  # noqa: E501

# account | key | name | street | city | state | zip | area code
_LOCATION_TABLE = _table("""
northwind | chicago    | Chicago Loop Office        | 233 S Wacker Dr             | Chicago    | IL | 60606 | 312
northwind | denver     | Denver Claims Center       | 1700 Lincoln St             | Denver     | CO | 80203 | 303
acme      | dallas     | Dallas Distribution Center | 2400 Distribution Way       | Dallas     | TX | 75207 | 214
acme      | houston    | Houston Cross-Dock         | 8800 Port Blvd              | Houston    | TX | 77029 | 713
acme      | ontario    | Ontario Fulfillment Center | 1500 S Airport Dr           | Ontario    | CA | 91761 | 909
acme      | joliet     | Joliet Warehouse           | 2100 Industrial Pkwy        | Joliet     | IL | 60431 | 815
globex    | columbus   | Columbus Assembly Plant    | 600 Foundry Rd              | Columbus   | OH | 43215 | 614
globex    | newark     | Newark Stamping Plant      | 45 Ferry St                 | Newark     | NJ | 07105 | 973
globex    | denver     | Denver Components Plant    | 5200 Smith Rd               | Denver     | CO | 80216 | 303
contoso   | atlanta    | Atlanta Terminal           | 1200 Fulton Industrial Blvd | Atlanta    | GA | 30336 | 404
contoso   | savannah   | Savannah Port Yard         | 300 Bay St                  | Savannah   | GA | 31401 | 912
contoso   | phoenix    | Phoenix Terminal           | 4400 W Buckeye Rd           | Phoenix    | AZ | 85043 | 602
initech   | tempe      | Tempe Fabrication Shop     | 1800 W University Dr        | Tempe      | AZ | 85281 | 480
initech   | sacramento | Sacramento Machine Shop    | 950 Richards Blvd           | Sacramento | CA | 95811 | 916
""")  # noqa: E501

ACCOUNTS: tuple[_AccountSpec, ...] = tuple(
    _AccountSpec(
        key=key,
        name=name,
        number=number,
        parent=parent or None,
        street=street,
        city=city,
        state=state,
        postal_code=postal_code,
        area_code=area_code,
        employee_prefix=prefix,
        employee_count=int(count),
        locations=tuple(
            _LocationSpec(*location[1:]) for location in _LOCATION_TABLE if location[0] == key
        ),
    )
    for key, name, number, parent, street, city, state, postal_code, area_code, prefix, count in (
        _ACCOUNT_TABLE
    )
)
ACCOUNT_BY_KEY = {spec.key: spec for spec in ACCOUNTS}


@dataclass(frozen=True, slots=True)
class _PersonSpec:
    account: str
    first_name: str
    last_name: str
    email: str
    title: str
    role: Role | None  # None: a contact without a portal login


# account | first | last | work email | title | portal role (empty: no login)
PEOPLE: tuple[_PersonSpec, ...] = tuple(
    _PersonSpec(account, first, last, email, title, Role(role) if role else None)
    for account, first, last, email, title, role in _table("""
acme      | Dana    | Whitfield | admin@acme.example             | HR Director                      | USER_ADMIN
acme      | Sam     | Ortega    | basic@acme.example             | Safety Coordinator               | BASIC
acme      | Priya   | Nair      | visits@acme.example            | Workers' Compensation Specialist | BASIC
acme      | Tom     | Becker    | tom.becker@acme.example        | Warehouse Operations Manager     |
globex    | Marcus  | Bell      | admin@globex.example           | EHS Manager                      | USER_ADMIN
globex    | Linda   | Park      | linda.park@globex.example      | Plant Nurse                      |
globex    | Victor  | Alvarez   | victor.alvarez@globex.example  | Safety Supervisor                |
northwind | Elena   | Petrova   | admin@northwind.example        | Client Services Director         | USER_ADMIN
northwind | Grace   | Liu       | grace.liu@northwind.example    | Claims Adjuster                  |
contoso   | Kevin   | Lyle      | admin@contoso.example          | Safety Manager                   | USER_ADMIN
contoso   | Darnell | Brooks    | darnell.brooks@contoso.example | Terminal Manager                 |
initech   | Joanna  | Marsh     | admin@initech.example          | HR Manager                       | USER_ADMIN
""")  # noqa: E501
)

# (contact email, report type code, location key)
SUBSCRIPTIONS: tuple[tuple[str, str, str], ...] = (
    ("basic@acme.example", "MEC_DOT_CARD", "dallas"),
    ("basic@acme.example", "AUDIOGRAM_RESULTS", "dallas"),
    ("basic@acme.example", "INJURY_ACTIVITY_STATUS_REPORT", "dallas"),
    ("basic@acme.example", "MEC_DOT_CARD", "houston"),
    *(
        ("visits@acme.example", code, location)
        for location in ("dallas", "houston", "ontario", "joliet")
        for code in ("INJURY_ACTIVITY_STATUS_REPORT", "FIRST_NOTICE_OF_INJURY_LETTER")
    ),
    ("tom.becker@acme.example", "INJURY_ACTIVITY_STATUS_REPORT", "joliet"),
    ("victor.alvarez@globex.example", "AUDIOGRAM_RESULTS", "columbus"),
    ("victor.alvarez@globex.example", "RESPIRATOR_CLEARANCE", "columbus"),
    ("victor.alvarez@globex.example", "FIT_TEST_RESULTS", "columbus"),
)

# contact email -> email when new results post
NOTIFICATION_PREFERENCES: tuple[tuple[str, bool], ...] = (
    ("basic@acme.example", True),
    ("visits@acme.example", False),
    ("tom.becker@acme.example", True),
    ("admin@globex.example", True),
    ("victor.alvarez@globex.example", True),
)

# account | package name | description | service codes
SERVICE_PACKAGES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = tuple(
    (account, name, description, tuple(services.split()))
    for account, name, description, services in _table("""
acme   | DOT driver new hire | Physical and drug screen for new commercial drivers.      | DOT_PHYSICAL DRUG_SCREEN
globex | Plant onboarding    | Post-offer physical, drug screen and baseline audiogram.  | PRE_PLACEMENT_PHYSICAL DRUG_SCREEN AUDIOGRAM
globex | Respirator program  | Annual respirator clearance and fit test.                 | RESPIRATOR_CLEARANCE FIT_TEST
""")  # noqa: E501
)

# city | state | zip | area code: fifty medical centers.
CENTER_CITIES: tuple[tuple[str, str, str, str], ...] = tuple(
    (city, state, postal_code, area_code)
    for city, state, postal_code, area_code in _table("""
Dallas | TX | 75201 | 214
Houston | TX | 77002 | 713
Austin | TX | 78701 | 512
San Antonio | TX | 78205 | 210
Fort Worth | TX | 76102 | 817
El Paso | TX | 79901 | 915
Los Angeles | CA | 90012 | 213
San Diego | CA | 92101 | 619
Ontario | CA | 91761 | 909
Sacramento | CA | 95814 | 916
Fresno | CA | 93721 | 559
Oakland | CA | 94607 | 510
Chicago | IL | 60601 | 312
Joliet | IL | 60432 | 815
Rockford | IL | 61101 | 815
Springfield | IL | 62701 | 217
Atlanta | GA | 30303 | 404
Savannah | GA | 31401 | 912
Augusta | GA | 30901 | 706
Macon | GA | 31201 | 478
Columbus | OH | 43215 | 614
Cleveland | OH | 44113 | 216
Cincinnati | OH | 45202 | 513
Toledo | OH | 43604 | 419
Dayton | OH | 45402 | 937
Phoenix | AZ | 85004 | 602
Tempe | AZ | 85281 | 480
Tucson | AZ | 85701 | 520
Mesa | AZ | 85201 | 480
Denver | CO | 80202 | 303
Aurora | CO | 80010 | 303
Colorado Springs | CO | 80903 | 719
Fort Collins | CO | 80524 | 970
Newark | NJ | 07102 | 973
Jersey City | NJ | 07302 | 201
Trenton | NJ | 08608 | 609
Edison | NJ | 08817 | 732
Philadelphia | PA | 19107 | 215
Pittsburgh | PA | 15222 | 412
Miami | FL | 33128 | 305
Tampa | FL | 33602 | 813
Orlando | FL | 32801 | 407
Seattle | WA | 98104 | 206
Tacoma | WA | 98402 | 253
St. Louis | MO | 63101 | 314
Kansas City | MO | 64106 | 816
Memphis | TN | 38103 | 901
Nashville | TN | 37203 | 615
Charlotte | NC | 28202 | 704
Raleigh | NC | 27601 | 919
""")
)

CENTER_STREETS = _names("""
Commerce St, Industrial Blvd, Main St, Market St, Medical Pkwy, Airport Rd, Harbor Dr,
Central Ave, Freeway Dr, Enterprise Way, Park Plaza Dr, Railroad Ave
""")

CENTER_HOURS = (
    "Mon-Fri 8:00 AM-5:00 PM",
    "Mon-Fri 7:00 AM-7:00 PM; Sat 8:00 AM-2:00 PM",
    "Mon-Fri 8:00 AM-6:00 PM",
    "Mon-Fri 7:30 AM-5:30 PM; Sat 9:00 AM-1:00 PM",
)

FIRST_NAMES = _names("""
James, Maria, Robert, Jennifer, Michael, Linda, David, Patricia, William, Elizabeth, Jose,
Guadalupe, Carlos, Ana, Luis, Rosa, Wei, Mei, Hiroshi, Yuki, Ahmed, Fatima, Olusegun, Ngozi,
Dmitri, Svetlana, Raj, Anjali, Thanh, Linh, Marcus, Keisha, DeShawn, Tamika, Connor, Siobhan,
Mateo, Valentina, Noah, Emma, Liam, Olivia, Ethan, Sophia, Mason, Isabella, Lucas, Mia, Jamal,
Aaliyah, Tyler, Brittany, Kevin, Nicole, Brandon, Stephanie, Jorge, Alejandra, Samuel, Grace,
Daniel, Chloe, Andre, Monique, Pedro, Lucia, Ivan, Katarzyna, Omar, Leila, Frank, Dorothy,
Earl, Gloria, Trevor, Megan
""")

LAST_NAMES = _names("""
Smith, Johnson, Williams, Brown, Jones, Garcia, Miller, Davis, Rodriguez, Martinez, Hernandez,
Lopez, Gonzalez, Wilson, Anderson, Thomas, Taylor, Moore, Jackson, Martin, Lee, Perez, Thompson,
White, Harris, Sanchez, Clark, Ramirez, Lewis, Robinson, Walker, Young, Allen, King, Wright,
Scott, Torres, Nguyen, Hill, Flores, Green, Adams, Nelson, Baker, Hall, Rivera, Campbell,
Mitchell, Carter, Roberts, Kowalski, O'Brien, Patel, Kim, Chen, Okafor, Novak, Schmidt, Murphy,
Cohen, Singh, Tran, Reyes, Morales, Ortiz, Gutierrez, Washington, Brooks, Foster, Bennett,
Van Dyke, St. James
""")

PROVIDERS = _names("""
Anita Rao MD, Brian Keller DO, Sofia Mendes MD, Owen Park MD, Jamie Cole PA-C, Lauren Hsu NP,
Marcus Feld MD, Adaeze Obi DO
""")

DIAGNOSES = _names("""
Lumbar strain, Laceration of left hand, Contusion of right knee, Sprain of right ankle,
Foreign body in right eye, Strain of left shoulder, Wrist sprain, Minor burn of forearm,
Cervical strain, Crush injury of finger
""")

WORK_STATUSES = (
    "Full duty, no restrictions",
    "Modified duty: no lifting over 20 lb",
    "Modified duty: no climbing ladders",
    "Modified duty: seated work only",
    "Off work until the next visit",
)

SPECIAL_INSTRUCTIONS = (
    "Employee drives a commercial vehicle; please complete the DOT paperwork.",
    "Call the safety coordinator before releasing the employee to full duty.",
    "Employee works night shift; schedule the recheck after 2 PM.",
    "Employee speaks Spanish; please provide an interpreter.",
    "Bring safety glasses prescription if applicable.",
)


# Non-injury service bundles (weights) and the report types each service produces.
NON_INJURY_BUNDLES: tuple[tuple[tuple[str, ...], int], ...] = (
    (("DOT_PHYSICAL", "DRUG_SCREEN"), 24),
    (("PRE_PLACEMENT_PHYSICAL", "DRUG_SCREEN", "AUDIOGRAM"), 14),
    (("RESPIRATOR_CLEARANCE", "FIT_TEST"), 10),
    (("AUDIOGRAM",), 12),
    (("MEDICAL_SURVEILLANCE", "LAB_TESTS"), 6),
    (("VACCINES",), 8),
    (("HUMAN_PERFORMANCE_EVALUATION",), 5),
    (("BREATH_ALCOHOL_TEST", "DRUG_SCREEN"), 6),
    (("DOT_PHYSICAL",), 8),
)

SERVICE_REPORTS: dict[str, tuple[str, ...]] = {
    "DOT_PHYSICAL": ("MEC_DOT_CARD", "MER_LONG_FORM"),
    # Drug screen results are reported in the drug screen results portal, not here.
    "BREATH_ALCOHOL_TEST": ("TEST_AND_LAB_RESULTS",),
    "AUDIOGRAM": ("AUDIOGRAM_RESULTS",),
    "RESPIRATOR_CLEARANCE": ("RESPIRATOR_CLEARANCE",),
    "FIT_TEST": ("FIT_TEST_RESULTS",),
    "PRE_PLACEMENT_PHYSICAL": ("PRE_PLACEMENT_PHYSICAL_RESULTS",),
    "VACCINES": ("VACCINE_ADMINISTRATION_RECORD",),
    "LAB_TESTS": ("TEST_AND_LAB_RESULTS",),
    "HUMAN_PERFORMANCE_EVALUATION": ("HUMAN_PERFORMANCE_EVALUATION_RESULTS",),
    "MEDICAL_SURVEILLANCE": ("MEDICAL_SURVEILLANCE_OPINION_LETTER",),
    "POST_ACCIDENT_DRUG_SCREEN": ("CUSTODY_AND_CONTROL_FORM",),
    "POST_ACCIDENT_ALCOHOL_TEST": ("ALCOHOL_TESTING_FORM",),
}

# Letters about an appointment are not results: they never hold a visit in RESULTS_PENDING.
CORRESPONDENCE = frozenset({"RECHECK_APPOINTMENT_REMINDER_LETTER", "EMPLOYEE_NO_SHOW_LETTER"})

REPORT_TYPE_NAMES = {spec.code: spec.name for spec in REPORT_TYPES}

RANDOM_AUTHORIZATIONS = 144
WALK_IN_VISITS = 136
RECENT_WALK_INS = 6  # visits of yesterday, some still checked in


# --------------------------------------------------------------------------------------------
# The plan: every row, computed without I/O


@dataclass(slots=True)
class _Employee:
    id: uuid.UUID
    account: str
    location: _LocationSpec
    first_name: str
    last_name: str
    date_of_birth: date
    number: str
    email: str | None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True, slots=True)
class _Center:
    id: uuid.UUID
    code: str
    name: str
    city: str
    state: str
    telemedicine: bool


@dataclass(slots=True)
class _Authorization:
    account: str
    employee: _Employee
    modality: Modality
    center: _Center | None
    services: tuple[str, ...]
    created_at: datetime
    valid_from: date
    valid_until: date
    creator: str
    state: AuthorizationState = AuthorizationState.ACTIVE
    visit_at: datetime | None = None
    cancelled_at: datetime | None = None
    extended_at: datetime | None = None
    previous_valid_until: date | None = None
    instructions: str | None = None
    package: str | None = None
    template: _Authorization | None = None
    recipients: list[tuple[RecipientKind, str | None, str]] = field(default_factory=list)
    id: uuid.UUID = field(default=uuid.UUID(int=0))
    number: str = ""

    @property
    def sent_at(self) -> datetime | None:
        # Center authorizations go to the center electronically on creation; others when emailed.
        if self.center is not None or self.recipients:
            return self.created_at + timedelta(minutes=1)
        return None


@dataclass(slots=True)
class _Doc:
    code: str
    posted_at: datetime
    id: uuid.UUID = field(default=uuid.UUID(int=0))
    retracted: bool = False


@dataclass(slots=True)
class _Visit:
    account: str
    employee: _Employee
    center: _Center
    visited_at: datetime
    visit_type: VisitType
    services: tuple[str, ...]
    claim_number: str | None = None
    authorization: _Authorization | None = None
    checked_in_only: bool = False
    first_of_episode: bool = False
    recheck_on: datetime | None = None  # the follow-up appointment made at this visit
    no_show: bool = False
    missing_results: bool = False
    diagnosis: str = ""
    work_status: str = ""
    provider: str = ""
    checked_out_at: datetime | None = None
    status: VisitStatus = VisitStatus.CHECKED_IN
    status_changed_at: datetime | None = None
    documents: list[_Doc] = field(default_factory=list)
    id: uuid.UUID = field(default=uuid.UUID(int=0))
    seq: int = 0


@dataclass(slots=True)
class _Plan:
    rows: dict[str, list[Row]] = field(default_factory=dict)
    users: list[tuple[uuid.UUID, str]] = field(default_factory=list)  # (user id, email)
    renders: list[dict[str, Any]] = field(default_factory=list)  # aligned with rows["documents"]

    def add(self, table: str, row: Row) -> None:
        self.rows.setdefault(table, []).append(row)


class _Builder:
    """Builds the demo rows in a fixed order from one seeded random generator."""

    def __init__(
        self,
        *,
        today: date,
        report_type_ids: dict[str, uuid.UUID],
        service_ids: dict[str, uuid.UUID],
    ) -> None:
        self.rng = random.Random(DEMO_SEED)
        self.anchor = datetime.combine(today, time(0, 0), tzinfo=UTC)
        self.report_type_ids = report_type_ids
        self.service_ids = service_ids
        self.plan = _Plan()
        self.employees: dict[str, list[_Employee]] = {}
        self.centers: list[_Center] = []
        self.centers_by_state: dict[str, list[_Center]] = {}
        self.account_users: dict[str, list[str]] = {}
        self.staff_id = demo_id("staff", STAFF_EMAIL)

    # -- time helpers -------------------------------------------------------------------------

    def day_at(self, days_ago: int, minute_of_day: int) -> datetime:
        return self.anchor - timedelta(days=days_ago) + timedelta(minutes=minute_of_day)

    def long_ago(self, days: int) -> datetime:
        return self.anchor - timedelta(days=days, hours=7)

    # -- build --------------------------------------------------------------------------------

    def build(self) -> _Plan:
        self._accounts()
        self._people()
        self._medical_centers()
        self._employees()
        authorizations = self._authorizations()
        visits = self._visits(authorizations)
        self._authorization_rows(authorizations)
        documents = self._documents(visits)
        self._support_requests(visits, documents)
        return self.plan

    def _accounts(self) -> None:
        created = self.long_ago(720)
        for spec in ACCOUNTS:
            self.plan.add(
                "accounts",
                {
                    "id": demo_id("account", spec.key),
                    "parent_account_id": demo_id("account", spec.parent) if spec.parent else None,
                    "name": spec.name,
                    "account_number": spec.number,
                    "is_third_party_administrator": spec.is_tpa,
                    "mailing_street": spec.street,
                    "mailing_city": spec.city,
                    "mailing_state": spec.state,
                    "mailing_postal_code": spec.postal_code,
                    "billing_street": f"PO Box {1000 + len(spec.name) * 37}",
                    "billing_city": spec.city,
                    "billing_state": spec.state,
                    "billing_postal_code": spec.postal_code,
                    "main_phone": f"{spec.area_code}-555-0100",
                    "fax": f"{spec.area_code}-555-0199",
                    "retention_days": ARCHIVE_AFTER_DAYS,
                    "created_at": created,
                    "updated_at": created,
                },
            )
            for index, location in enumerate(spec.locations):
                self.plan.add(
                    "locations",
                    {
                        "id": demo_id("location", spec.key, location.key),
                        "account_id": demo_id("account", spec.key),
                        "name": location.name,
                        "street": location.street,
                        "city": location.city,
                        "state": location.state,
                        "postal_code": location.postal_code,
                        "phone": f"{location.area_code}-555-01{10 + index:02d}",
                        "created_at": created,
                        "updated_at": created,
                    },
                )
            for name, description, services in (
                p[1:] for p in SERVICE_PACKAGES if p[0] == spec.key
            ):
                package_id = demo_id("service_package", spec.key, name)
                self.plan.add(
                    "service_packages",
                    {
                        "id": package_id,
                        "account_id": demo_id("account", spec.key),
                        "name": name,
                        "description": description,
                        "created_at": created,
                        "updated_at": created,
                    },
                )
                for code in services:
                    self.plan.add(
                        "service_package_items",
                        {
                            "package_id": package_id,
                            "service_id": self.service_ids[code],
                            "account_id": demo_id("account", spec.key),
                            "created_at": created,
                            "updated_at": created,
                        },
                    )

    def _people(self) -> None:
        created = self.long_ago(700)
        self.plan.add(
            "staff_users",
            {
                "id": self.staff_id,
                "email": STAFF_EMAIL,
                "first_name": "Jordan",
                "last_name": "Reyes",
                "password_hash": None,  # filled in after hashing
                "is_active": True,
                "created_at": created,
                "updated_at": created,
            },
        )
        self.plan.users.append((self.staff_id, STAFF_EMAIL))
        for index, person in enumerate(PEOPLE):
            spec = ACCOUNT_BY_KEY[person.account]
            contact_id = demo_id("contact", person.email)
            self.plan.add(
                "contacts",
                {
                    "id": contact_id,
                    "account_id": demo_id("account", person.account),
                    "first_name": person.first_name,
                    "last_name": person.last_name,
                    "work_email": person.email,
                    "phone": f"{spec.area_code}-555-01{20 + index:02d}",
                    "title": person.title,
                    "is_active": True,
                    "created_at": created,
                    "updated_at": created,
                },
            )
            if person.role is None:
                continue
            user_id = demo_id("user", person.email)
            self.account_users.setdefault(person.account, []).append(person.email)
            self.plan.users.append((user_id, person.email))
            self.plan.add(
                "portal_users",
                {
                    "id": user_id,
                    "contact_id": contact_id,
                    "account_id": demo_id("account", person.account),
                    "email": person.email,
                    "role": person.role,
                    "status": UserStatus.ACTIVE,
                    "password_hash": None,  # filled in after hashing
                    "password_changed_at": created,
                    "created_at": created,
                    "updated_at": created,
                },
            )
        self.plan.add(
            "user_permissions",
            {
                "user_id": demo_id("user", "visits@acme.example"),
                "permission": Permission.VIEW_VISIT_ACTIVITY,
                "account_id": demo_id("account", "acme"),
                "granted_by_user_id": demo_id("user", "admin@acme.example"),
                "created_at": created,
                "updated_at": created,
            },
        )
        people = {person.email: person for person in PEOPLE}
        for email, code, location in SUBSCRIPTIONS:
            account = people[email].account
            self.plan.add(
                "report_subscriptions",
                {
                    "id": demo_id("report_subscription", email, code, location),
                    "account_id": demo_id("account", account),
                    "contact_id": demo_id("contact", email),
                    "report_type_id": self.report_type_ids[code],
                    "location_id": demo_id("location", account, location),
                    "created_at": created,
                    "updated_at": created,
                },
            )
        for email, on_new_results in NOTIFICATION_PREFERENCES:
            self.plan.add(
                "notification_preferences",
                {
                    "contact_id": demo_id("contact", email),
                    "account_id": demo_id("account", people[email].account),
                    "email_on_new_results": on_new_results,
                    "created_at": created,
                    "updated_at": created,
                },
            )

    def _medical_centers(self) -> None:
        created = self.long_ago(900)
        rng = self.rng
        for index, (city, state, postal_code, area_code) in enumerate(CENTER_CITIES):
            in_state = self.centers_by_state.setdefault(state, [])
            code = f"{state}{len(in_state) + 1:03d}"
            center = _Center(
                id=demo_id("medical_center", code),
                code=code,
                name=f"{city} Occupational Health",
                city=city,
                state=state,
                telemedicine=not in_state or index % 3 == 0,
            )
            in_state.append(center)
            self.centers.append(center)
            self.plan.add(
                "medical_centers",
                {
                    "id": center.id,
                    "code": code,
                    "name": center.name,
                    "street": f"{rng.randint(100, 9899)} {rng.choice(CENTER_STREETS)}",
                    "city": city,
                    "state": state,
                    "postal_code": postal_code,
                    "phone": f"{area_code}-555-01{index % 90 + 10:02d}",
                    "hours": rng.choice(CENTER_HOURS),
                    "telemedicine_capable": center.telemedicine,
                    "is_active": True,
                    "created_at": created,
                    "updated_at": created,
                },
            )

    def _employees(self) -> None:
        rng = self.rng
        first_day, last_day = date(1960, 1, 1).toordinal(), date(2004, 12, 31).toordinal()
        for spec in ACCOUNTS:
            weights = [len(spec.locations) - index + 1 for index in range(len(spec.locations))]
            employees = self.employees.setdefault(spec.key, [])
            for number in range(1, spec.employee_count + 1):
                location = rng.choices(spec.locations, weights=weights)[0]
                first_name = rng.choice(FIRST_NAMES)
                last_name = rng.choice(LAST_NAMES)
                dob = date.fromordinal(rng.randint(first_day, last_day))
                employee_number = f"{spec.employee_prefix}-{number:05d}"
                local_part = "".join(
                    ch for ch in f"{first_name}.{last_name}" if ch.isalnum() or ch == "."
                )
                email = f"{local_part.lower()}{number}@mail.example" if rng.random() < 0.7 else None
                phone = (
                    f"{location.area_code}-555-01{rng.randint(0, 99):02d}"
                    if rng.random() < 0.7
                    else None
                )
                created = self.long_ago(rng.randint(200, 1500))
                employee = _Employee(
                    id=demo_id("employee", spec.key, employee_number),
                    account=spec.key,
                    location=location,
                    first_name=first_name,
                    last_name=last_name,
                    date_of_birth=dob,
                    number=employee_number,
                    email=email,
                )
                employees.append(employee)
                # full_name is a generated column: never written.
                self.plan.add(
                    "employees",
                    {
                        "id": employee.id,
                        "account_id": demo_id("account", spec.key),
                        "location_id": demo_id("location", spec.key, location.key),
                        "first_name": first_name,
                        "last_name": last_name,
                        "date_of_birth": dob,
                        "employee_number": employee_number,
                        "email": email,
                        "phone": phone,
                        "created_at": created,
                        "updated_at": created,
                    },
                )

    # -- authorizations -----------------------------------------------------------------------

    def _pick_account(self) -> str:
        return self.rng.choices(
            [spec.key for spec in ACCOUNTS], weights=[spec.employee_count for spec in ACCOUNTS]
        )[0]

    def _pick_center(self, state: str, *, telemedicine: bool = False) -> _Center:
        candidates = self.centers_by_state.get(state) or self.centers
        if telemedicine:
            candidates = [c for c in candidates if c.telemedicine] or [
                c for c in self.centers if c.telemedicine
            ]
        return self.rng.choice(candidates)

    def _pick_creator(self, account: str) -> str:
        users = self.account_users[account]
        weights = [3 if email.startswith("admin@") else 2 for email in users]
        return self.rng.choices(users, weights=weights)[0]

    def _non_injury_bundle(self) -> tuple[str, ...]:
        bundles = [bundle for bundle, _ in NON_INJURY_BUNDLES]
        return self.rng.choices(bundles, weights=[w for _, w in NON_INJURY_BUNDLES])[0]

    def _injury_services(self) -> tuple[str, ...]:
        services = ["INJURY_CARE"]
        if self.rng.random() < 0.2:
            services.append("POST_ACCIDENT_DRUG_SCREEN")
        if self.rng.random() < 0.12:
            services.append("POST_ACCIDENT_ALCOHOL_TEST")
        return tuple(services)

    def _package_for(self, account: str, services: tuple[str, ...]) -> str | None:
        for owner, name, _, items in SERVICE_PACKAGES:
            if owner == account and items == services:
                return name
        return None

    def _authorizations(self) -> list[_Authorization]:
        rng = self.rng
        result: list[_Authorization] = []
        for _ in range(RANDOM_AUTHORIZATIONS):
            account = self._pick_account()
            employee = rng.choice(self.employees[account])
            injury = rng.random() < 0.35
            if injury:
                modality = rng.choices(
                    [
                        Modality.IN_CENTER,
                        Modality.TELEMEDICINE,
                        Modality.CENTER_TELEMEDICINE,
                        Modality.TELEREHAB,
                    ],
                    weights=[50, 25, 10, 15],
                )[0]
                services = (
                    ("PHYSICAL_THERAPY",)
                    if modality is Modality.TELEREHAB
                    else self._injury_services()
                )
            else:
                modality = Modality.IN_CENTER
                services = self._non_injury_bundle()
            if modality is Modality.TELEMEDICINE:
                services = ("INJURY_CARE",)
            center = None
            if modality in (Modality.IN_CENTER, Modality.CENTER_TELEMEDICINE):
                center = self._pick_center(
                    employee.location.state, telemedicine=modality is Modality.CENTER_TELEMEDICINE
                )
            days_ago = rng.randint(2, 178)
            created_at = self.day_at(days_ago, rng.randint(13 * 60, 19 * 60))
            valid_days = 14 if injury else 30
            authorization = _Authorization(
                account=account,
                employee=employee,
                modality=modality,
                center=center,
                services=services,
                created_at=created_at,
                valid_from=created_at.date(),
                valid_until=created_at.date() + timedelta(days=valid_days),
                creator=self._pick_creator(account),
                package=self._package_for(account, services),
            )
            outcome = rng.random()
            if outcome < 0.6:
                offset = rng.randint(0, min(valid_days, days_ago - 1, 10))
                minute = (
                    created_at.hour * 60 + created_at.minute + rng.randint(60, 180)
                    if offset == 0
                    else rng.randint(13 * 60, 22 * 60)
                )
                authorization.visit_at = self.day_at(days_ago - offset, minute)
                authorization.state = AuthorizationState.USED
            elif outcome < 0.7:
                authorization.state = AuthorizationState.CANCELLED
                authorization.cancelled_at = min(
                    created_at + timedelta(hours=rng.randint(1, 30)),
                    self.anchor - timedelta(hours=1),
                )
            elif outcome < 0.78 and days_ago > 3:
                extended_after = rng.randint(1, min(valid_days, days_ago - 1))
                authorization.extended_at = created_at + timedelta(days=extended_after)
                authorization.previous_valid_until = authorization.valid_until
                authorization.valid_until = authorization.valid_until + timedelta(days=14)
            if rng.random() < 0.25:
                authorization.instructions = rng.choice(SPECIAL_INSTRUCTIONS)
            self._recipients(authorization)
            result.append(authorization)
        result.extend(self._onboarding_batch())
        result.sort(key=lambda a: (a.created_at, a.employee.number))
        for number, authorization in enumerate(result, start=1):
            authorization.number = f"AUTH-{number:06d}"
            authorization.id = demo_id("authorization", authorization.number)
        return result

    def _recipients(self, authorization: _Authorization) -> None:
        rng = self.rng
        employee = authorization.employee
        if employee.email and rng.random() < 0.5:
            authorization.recipients.append((RecipientKind.EMPLOYEE, employee.name, employee.email))
        if rng.random() < 0.2:
            others = [p for p in PEOPLE if p.account == authorization.account]
            person = rng.choice(others)
            authorization.recipients.append(
                (RecipientKind.OTHER, f"{person.first_name} {person.last_name}", person.email)
            )

    def _onboarding_batch(self) -> list[_Authorization]:
        """Globex onboards six new hires at once: one authorization, five made from it."""
        rng = self.rng
        columbus = [e for e in self.employees["globex"] if e.location.key == "columbus"]
        hires = rng.sample(columbus, 6)
        center = self._pick_center("OH")
        services = ("PRE_PLACEMENT_PHYSICAL", "DRUG_SCREEN", "AUDIOGRAM")
        batch: list[_Authorization] = []
        for index, employee in enumerate(hires):
            created_at = self.day_at(45, 14 * 60 + index * 4)
            authorization = _Authorization(
                account="globex",
                employee=employee,
                modality=Modality.IN_CENTER,
                center=center,
                services=services,
                created_at=created_at,
                valid_from=created_at.date(),
                valid_until=created_at.date() + timedelta(days=30),
                creator="admin@globex.example",
                state=AuthorizationState.USED,
                visit_at=self.day_at(45 - rng.randint(1, 5), rng.randint(13 * 60, 21 * 60)),
                instructions="New hire orientation starts the following Monday.",
                package="Plant onboarding",
                template=batch[0] if batch else None,
            )
            self._recipients(authorization)
            batch.append(authorization)
        return batch

    def _authorization_rows(self, authorizations: list[_Authorization]) -> None:
        for auth in authorizations:
            account_id = demo_id("account", auth.account)
            creator_id = demo_id("user", auth.creator)
            updated = max(
                t
                for t in (auth.created_at, auth.visit_at, auth.cancelled_at, auth.extended_at)
                if t
            )
            self.plan.add(
                "authorizations",
                {
                    "id": auth.id,
                    "account_id": account_id,
                    "number": auth.number,
                    "employee_id": auth.employee.id,
                    "location_id": demo_id("location", auth.account, auth.employee.location.key),
                    "modality": auth.modality,
                    "medical_center_id": auth.center.id if auth.center else None,
                    "valid_from": auth.valid_from,
                    "valid_until": auth.valid_until,
                    "special_instructions": auth.instructions,
                    "state": auth.state,
                    "created_by_user_id": creator_id,
                    "template_id": auth.template.id if auth.template else None,
                    "service_package_id": (
                        demo_id("service_package", auth.account, auth.package)
                        if auth.package
                        else None
                    ),
                    "sent_at": auth.sent_at,
                    "cancelled_at": auth.cancelled_at,
                    "created_at": auth.created_at,
                    "updated_at": updated,
                },
            )
            for code in auth.services:
                self.plan.add(
                    "authorization_services",
                    {
                        "authorization_id": auth.id,
                        "service_id": self.service_ids[code],
                        "account_id": account_id,
                        "created_at": auth.created_at,
                        "updated_at": auth.created_at,
                    },
                )
            for recipient_kind, name, email in auth.recipients:
                self.plan.add(
                    "authorization_recipients",
                    {
                        "id": demo_id("authorization_recipient", auth.number, email),
                        "authorization_id": auth.id,
                        "account_id": account_id,
                        "kind": recipient_kind,
                        "name": name,
                        "email": email,
                        "sent_at": auth.sent_at,
                        "created_at": auth.created_at,
                        "updated_at": auth.created_at,
                    },
                )
            events: list[tuple[AuthorizationEventKind, datetime, uuid.UUID | None, str | None]] = [
                (AuthorizationEventKind.CREATED, auth.created_at, creator_id, None)
            ]
            if auth.sent_at is not None:
                to = "the medical center" if auth.center else "the recipients"
                events.append(
                    (AuthorizationEventKind.SENT, auth.sent_at, creator_id, f"Sent to {to}.")
                )
            if auth.extended_at is not None:
                events.append((AuthorizationEventKind.EXTENDED, auth.extended_at, creator_id, None))
            if auth.cancelled_at is not None:
                events.append(
                    (AuthorizationEventKind.CANCELLED, auth.cancelled_at, creator_id, None)
                )
            if auth.visit_at is not None:
                events.append(
                    (AuthorizationEventKind.USED, auth.visit_at, None, "Employee checked in.")
                )
            for kind, at, actor, note in events:
                extended = kind is AuthorizationEventKind.EXTENDED
                self.plan.add(
                    "authorization_events",
                    {
                        "id": demo_id("authorization_event", auth.number, kind.value),
                        "authorization_id": auth.id,
                        "account_id": account_id,
                        "kind": kind,
                        "previous_valid_until": auth.previous_valid_until if extended else None,
                        "new_valid_until": auth.valid_until if extended else None,
                        "actor_user_id": actor,
                        "note": note,
                        "created_at": at,
                        "updated_at": at,
                    },
                )

    # -- visits -------------------------------------------------------------------------------

    def _new_claim(self) -> str:
        return f"WC-{self.rng.randint(1_000_000, 9_999_999)}"

    def _injury_details(self, visit: _Visit) -> None:
        rng = self.rng
        visit.diagnosis = rng.choice(DIAGNOSES)
        visit.work_status = rng.choice(WORK_STATUSES)
        visit.provider = rng.choice(PROVIDERS)

    def _visits(self, authorizations: list[_Authorization]) -> list[_Visit]:
        rng = self.rng
        visits: list[_Visit] = []
        for auth in authorizations:
            if auth.visit_at is None:
                continue
            injury = auth.services[0] in ("INJURY_CARE", "PHYSICAL_THERAPY")
            center = auth.center or self._pick_center(
                auth.employee.location.state, telemedicine=True
            )
            visit = _Visit(
                account=auth.account,
                employee=auth.employee,
                center=center,
                visited_at=auth.visit_at,
                visit_type=VisitType.INJURY if injury else VisitType.NON_INJURY,
                services=auth.services,
                authorization=auth,
            )
            visits.append(visit)
        for index in range(WALK_IN_VISITS):
            account = self._pick_account()
            employee = rng.choice(self.employees[account])
            injury = rng.random() < 0.45
            if index < RECENT_WALK_INS:
                visited_at = self.day_at(1, rng.randint(19 * 60, 23 * 60))
            else:
                visited_at = self.day_at(rng.randint(1, 180), rng.randint(13 * 60, 22 * 60))
            visit = _Visit(
                account=account,
                employee=employee,
                center=self._pick_center(employee.location.state),
                visited_at=visited_at,
                visit_type=VisitType.INJURY if injury else VisitType.NON_INJURY,
                services=self._injury_services() if injury else self._non_injury_bundle(),
                checked_in_only=index < 2,
            )
            visits.append(visit)
        # Injury episodes: a claim number, and sometimes a recheck (or a missed one).
        rechecks: list[_Visit] = []
        for visit in visits:
            visit.provider = rng.choice(PROVIDERS)
            if visit.visit_type is VisitType.NON_INJURY:
                visit.missing_results = rng.random() < 0.04
                continue
            self._injury_details(visit)
            visit.first_of_episode = True
            visit.claim_number = self._new_claim() if rng.random() < 0.95 else None
            if visit.checked_in_only or rng.random() >= 0.3:
                continue
            recheck_at = visit.visited_at + timedelta(
                days=rng.randint(7, 14), minutes=rng.randint(-90, 90)
            )
            visit.recheck_on = recheck_at
            if recheck_at >= self.anchor - timedelta(hours=2):
                continue  # still ahead: the reminder letter is all there is
            if rng.random() < 0.12:
                visit.no_show = True
                continue
            recheck = _Visit(
                account=visit.account,
                employee=visit.employee,
                center=visit.center,
                visited_at=recheck_at,
                visit_type=VisitType.INJURY,
                services=("INJURY_RECHECK",),
                claim_number=visit.claim_number,
            )
            self._injury_details(recheck)
            rechecks.append(recheck)
        visits.extend(rechecks)
        visits.sort(key=lambda v: (v.visited_at, v.employee.number))
        for seq, visit in enumerate(visits, start=1):
            visit.seq = seq
            visit.id = demo_id("visit", f"{seq:05d}")
        return visits

    # -- documents ----------------------------------------------------------------------------

    def _plan_documents(self, visit: _Visit, checked_out_at: datetime) -> list[_Doc]:
        rng = self.rng
        docs: list[_Doc] = []

        def add(code: str, posted_at: datetime) -> None:
            if all(doc.code != code for doc in docs):
                docs.append(_Doc(code, posted_at))

        minutes = timedelta(minutes=1)
        if visit.visit_type is VisitType.INJURY:
            add("INJURY_ACTIVITY_STATUS_REPORT", checked_out_at + rng.randint(5, 30) * minutes)
            if visit.first_of_episode and rng.random() < 0.35:
                add(
                    "FIRST_NOTICE_OF_INJURY_LETTER",
                    checked_out_at + rng.randint(900, 1800) * minutes,
                )
            if visit.recheck_on is not None and (visit.no_show or rng.random() < 0.5):
                add(
                    "RECHECK_APPOINTMENT_REMINDER_LETTER",
                    checked_out_at + rng.randint(10, 40) * minutes,
                )
            if visit.no_show and visit.recheck_on is not None:
                add("EMPLOYEE_NO_SHOW_LETTER", visit.recheck_on + rng.randint(600, 1400) * minutes)
            if visit.first_of_episode and rng.random() < 0.2:
                add("STATE_INJURY_REPORT", checked_out_at + rng.randint(2, 4) * timedelta(days=1))
            if rng.random() < 0.08:
                add("PATIENT_REFERRAL_REPORT", checked_out_at + rng.randint(60, 1400) * minutes)
            if rng.random() < 0.1:
                at = checked_out_at + rng.randint(1200, 2800) * minutes
                add("TRANSCRIPTION", at)
                if rng.random() < 0.5:
                    add("TRANSCRIPTION_SUMMARY", at + timedelta(hours=1))
            for service in visit.services:
                for code in SERVICE_REPORTS.get(service, ()):
                    add(code, checked_out_at + rng.randint(10, 40) * minutes)
        else:
            if rng.random() < 0.15:
                add(
                    "NON_INJURY_ACTIVITY_STATUS_REPORT",
                    checked_out_at + rng.randint(10, 60) * minutes,
                )
            for service in visit.services:
                for code in SERVICE_REPORTS.get(service, ()):
                    # The MER long form is sent only to employers that ask for it.
                    if code != "MER_LONG_FORM" or rng.random() < 0.5:
                        add(code, checked_out_at + rng.randint(10, 68 * 60) * minutes)
            if visit.account == "globex" and rng.random() < 0.15:
                add("CUSTOMER_SPECIFIC_FORM", checked_out_at + rng.randint(30, 600) * minutes)
            if rng.random() < 0.05:
                add(
                    "OTHER_PHYSICALS_AND_ANCILLARY_RESULTS",
                    checked_out_at + rng.randint(30, 600) * minutes,
                )
            if visit.missing_results and len(docs) > 1:
                docs.pop()
        return docs

    def _documents(self, visits: list[_Visit]) -> list[tuple[_Visit, _Doc]]:
        rng = self.rng
        documents: list[tuple[_Visit, _Doc]] = []
        for visit in visits:
            if visit.checked_in_only:
                visit.status = VisitStatus.CHECKED_IN
                visit.status_changed_at = visit.visited_at
                continue
            checked_out_at = visit.visited_at + timedelta(minutes=rng.randint(40, 150))
            if checked_out_at >= self.anchor:
                checked_out_at = self.anchor - timedelta(minutes=rng.randint(5, 30))
            visit.checked_out_at = max(checked_out_at, visit.visited_at)
            planned = self._plan_documents(visit, visit.checked_out_at)
            posted = [doc for doc in planned if doc.posted_at < self.anchor]
            waiting = [
                doc for doc in planned if doc not in posted and doc.code not in CORRESPONDENCE
            ]
            if visit.missing_results or waiting:
                since_checkout = self.anchor - visit.checked_out_at
                any_result = any(doc.code not in CORRESPONDENCE for doc in posted)
                if not any_result and since_checkout < timedelta(hours=24):
                    visit.status = VisitStatus.CHECKED_OUT
                else:
                    visit.status = VisitStatus.RESULTS_PENDING
                visit.status_changed_at = visit.checked_out_at
            else:
                visit.status = VisitStatus.COMPLETE
                results = [doc.posted_at for doc in posted if doc.code not in CORRESPONDENCE]
                visit.status_changed_at = max([visit.checked_out_at, *results])
            for doc in posted:
                doc.id = demo_id("document", f"{visit.seq:05d}", doc.code)
                visit.documents.append(doc)
                documents.append((visit, doc))
        # One document posted to Acme in error, retracted by support.
        retracted = next(
            doc
            for visit, doc in documents
            if visit.account == "acme"
            and visit.visit_type is VisitType.NON_INJURY
            and timedelta(days=20) < self.anchor - doc.posted_at < timedelta(days=40)
        )
        retracted.retracted = True
        for visit in visits:
            self._visit_row(visit)
        for visit, doc in sorted(documents, key=lambda item: (item[1].posted_at, item[1].id)):
            self._document_row(visit, doc)
        return documents

    def _visit_row(self, visit: _Visit) -> None:
        status_changed_at = visit.status_changed_at or visit.visited_at
        self.plan.add(
            "visits",
            {
                "id": visit.id,
                "account_id": demo_id("account", visit.account),
                "employee_id": visit.employee.id,
                "location_id": demo_id("location", visit.account, visit.employee.location.key),
                "medical_center_id": visit.center.id,
                "authorization_id": visit.authorization.id if visit.authorization else None,
                "visited_at": visit.visited_at,
                "visit_type": visit.visit_type,
                "claim_number": visit.claim_number,
                "status": visit.status,
                "checked_out_at": visit.checked_out_at,
                "status_changed_at": status_changed_at,
                "created_at": visit.visited_at,
                "updated_at": status_changed_at,
            },
        )

    def _document_row(self, visit: _Visit, doc: _Doc) -> None:
        name = f"{REPORT_TYPE_NAMES[doc.code]} - {visit.visited_at.date().isoformat()}"
        retracted_at = doc.posted_at + timedelta(days=1, hours=3) if doc.retracted else None
        self.plan.add(
            "documents",
            {
                "id": doc.id,
                "account_id": demo_id("account", visit.account),
                "visit_id": visit.id,
                "employee_id": visit.employee.id,
                "location_id": demo_id("location", visit.account, visit.employee.location.key),
                "report_type_id": self.report_type_ids[doc.code],
                "name": name,
                "posted_at": doc.posted_at,
                # page_count, size_bytes, sha256 and storage_key come from the rendered PDF.
                "page_count": None,
                "size_bytes": None,
                "sha256": None,
                "storage_key": None,
                "retracted_at": retracted_at,
                "retraction_reason": (
                    "Information received in error: the result is for another employer's employee."
                    if doc.retracted
                    else None
                ),
                "retracted_by_staff_id": self.staff_id if doc.retracted else None,
                "created_at": doc.posted_at,
                "updated_at": retracted_at or doc.posted_at,
            },
        )
        pages, lines = _report_content(
            self.rng, doc.code, visit, ACCOUNT_BY_KEY[visit.account].name
        )
        self.plan.renders.append(
            {
                "title": name,
                "employee_name": visit.employee.name,
                "date_of_birth": visit.employee.date_of_birth,
                "visit_date": visit.visited_at.date(),
                "center_name": visit.center.name,
                "report_type_name": REPORT_TYPE_NAMES[doc.code],
                "pages": pages,
                "lines": lines,
            }
        )

    # -- support requests ---------------------------------------------------------------------

    def _support_requests(self, visits: list[_Visit], documents: list[tuple[_Visit, _Doc]]) -> None:
        rng = self.rng
        old_enough = self.anchor - timedelta(days=3)
        drafts: list[tuple[datetime, _SupportSpec, _Visit | None, _Doc | None]] = []
        for spec in SUPPORT_REQUESTS:
            visit: _Visit | None = None
            doc: _Doc | None = None
            if spec.ref == "retracted":
                visit, doc = next((v, d) for v, d in documents if d.retracted)
                created_at = doc.posted_at + timedelta(hours=20)
            elif spec.ref in ("pending", "visit"):
                wanted = (
                    VisitStatus.RESULTS_PENDING if spec.ref == "pending" else VisitStatus.COMPLETE
                )
                candidates = [
                    v
                    for v in visits
                    if v.account == spec.account
                    and v.status is wanted
                    and v.checked_out_at is not None
                    and v.checked_out_at < old_enough
                ] or [
                    v
                    for v in visits
                    if v.account == spec.account and v.status is VisitStatus.COMPLETE
                ]
                visit = rng.choice(candidates)
                assert visit.checked_out_at is not None
                created_at = visit.checked_out_at + timedelta(days=3, minutes=rng.randint(0, 600))
            elif spec.ref == "document":
                candidates_docs = [
                    (v, d)
                    for v, d in documents
                    if v.account == spec.account and not d.retracted and d.posted_at < old_enough
                ]
                visit, doc = rng.choice(candidates_docs)
                created_at = doc.posted_at + timedelta(hours=rng.randint(2, 48))
            else:
                created_at = self.day_at(spec.days_ago, rng.randint(13 * 60, 22 * 60))
            created_at = min(created_at, self.anchor - timedelta(hours=30))
            drafts.append((created_at, spec, visit, doc))
        drafts.sort(key=lambda item: (item[0], item[1].subject))
        for number, (created_at, spec, visit, doc) in enumerate(drafts, start=1):
            request_number = f"SR-{number:06d}"
            request_id = demo_id("support_request", request_number)
            account_id = demo_id("account", spec.account)
            requester_user = None if spec.requester == "staff" else demo_id("user", spec.requester)
            last_activity = created_at
            for index, (author, body, hours) in enumerate(spec.comments):
                at = min(created_at + timedelta(hours=hours), self.anchor - timedelta(minutes=10))
                last_activity = max(last_activity, at)
                by_staff = author == "staff"
                self.plan.add(
                    "support_comments",
                    {
                        "id": demo_id("support_comment", request_number, index),
                        "support_request_id": request_id,
                        "account_id": account_id,
                        "author_user_id": None if by_staff else requester_user,
                        "author_staff_id": self.staff_id if by_staff else None,
                        "body": body,
                        "created_at": at,
                        "updated_at": at,
                    },
                )
            self.plan.add(
                "support_requests",
                {
                    "id": request_id,
                    "account_id": account_id,
                    "number": request_number,
                    "request_type": spec.request_type,
                    "topic": spec.topic,
                    "status": spec.status,
                    "requester_user_id": requester_user,
                    "requester_staff_id": self.staff_id if requester_user is None else None,
                    "assigned_staff_id": (
                        self.staff_id if spec.status is not SupportRequestStatus.NEW else None
                    ),
                    "document_id": doc.id if doc else None,
                    "visit_id": visit.id if visit else None,
                    "subject": spec.subject,
                    "description": spec.description,
                    "created_at": created_at,
                    "updated_at": last_activity,
                },
            )


# --------------------------------------------------------------------------------------------
# Support requests


@dataclass(frozen=True, slots=True)
class _SupportSpec:
    account: str
    requester: str  # a user's email, or "staff"
    request_type: SupportRequestType
    topic: SupportTopic
    status: SupportRequestStatus
    subject: str
    description: str
    ref: str | None = None  # "retracted", "pending", "visit", "document"
    days_ago: int = 30
    comments: tuple[tuple[str, str, int], ...] = ()  # (author: "user" | "staff", body, hours after)


def _support(
    head: str,
    subject: str,
    description: str,
    *,
    ref: str | None = None,
    days_ago: int = 30,
    comments: tuple[tuple[str, str, int], ...] = (),
) -> _SupportSpec:
    """``head`` is "account | requester | type | topic | status"."""
    account, requester, request_type, topic, status = (part.strip() for part in head.split("|"))
    return _SupportSpec(
        account=account,
        requester=requester,
        request_type=SupportRequestType(request_type),
        topic=SupportTopic(topic),
        status=SupportRequestStatus(status),
        subject=subject,
        description=description,
        ref=ref,
        days_ago=days_ago,
        comments=comments,
    )


SUPPORT_REQUESTS: tuple[_SupportSpec, ...] = (
    _support(
        "acme | basic@acme.example | TREATMENT_RESULT | PRIVACY | RESOLVED",
        "Result received for someone who is not our employee",
        "A result posted to our portal is for a person we do not employ. Please remove it.",
        ref="retracted",
        comments=(
            (
                "staff",
                "Thank you for telling us. The document was posted to your account in error "
                "and has been removed from your portal view. Our privacy office was notified.",
                6,
            ),
            ("user", "Confirmed, it no longer shows. Thanks for the quick response.", 9),
        ),
    ),
    _support(
        "acme | admin@acme.example | ACCOUNT_UPDATE | NEW_REPORT_TYPE | NEW",
        "Send fit test results for the Ontario location",
        "Please add fit test results for Ontario Fulfillment Center to our safety team's reports.",
        days_ago=4,
    ),
    _support(
        "acme | visits@acme.example | TREATMENT_RESULT | MISSING_RESULTS | IN_PROGRESS",
        "Results still pending",
        "This visit has shown results pending for several days. Can you check on the lab results?",
        ref="pending",
        comments=(("staff", "We asked the medical center to post the outstanding results.", 5),),
    ),
    _support(
        "acme | basic@acme.example | ACCOUNT_UPDATE | NOTIFICATIONS | RESOLVED",
        "Fewer emails for Houston results",
        "Please stop result emails for the Houston Cross-Dock; I only cover Dallas now.",
        days_ago=60,
        comments=(
            ("staff", "Done: you will no longer receive emails for Houston results.", 20),
            ("user", "Thank you!", 22),
        ),
    ),
    _support(
        "acme | admin@acme.example | TREATMENT_RESULT | BILLING | CLOSED",
        "Invoice question for a visit",
        "We were invoiced for two services at this visit but authorized only one.",
        ref="visit",
        comments=(("staff", "The duplicate charge was credited on the next invoice.", 30),),
    ),
    _support(
        "acme | admin@acme.example | ACCOUNT_UPDATE | ADD_REMOVE_SERVICES | IN_PROGRESS",
        "Add respirator clearance to our services",
        "Our Joliet warehouse starts a respirator program next month.",
        days_ago=9,
        comments=(("staff", "Your account manager will call you to set this up.", 26),),
    ),
    _support(
        "globex | admin@globex.example | ACCOUNT_UPDATE | EMAIL_CHANGE | RESOLVED",
        "Our safety mailbox changed",
        "Please send notifications to safety-team@globex.example instead of the old mailbox.",
        days_ago=120,
        comments=(("staff", "Updated.", 4),),
    ),
    _support(
        "globex | admin@globex.example | TREATMENT_RESULT | SERVICES_QUESTION | CLOSED",
        "Which audiogram protocol was used?",
        "Was this audiogram a baseline or an annual test?",
        ref="visit",
        comments=(
            (
                "staff",
                "The center confirmed it was an annual test compared with the 2024 baseline.",
                28,
            ),
        ),
    ),
    _support(
        "globex | admin@globex.example | TREATMENT_RESULT | MISSING_RESULTS | NEW",
        "Results not posted yet",
        "The visit is several days old and we still have no results.",
        ref="pending",
    ),
    _support(
        "globex | admin@globex.example | ACCOUNT_UPDATE | OTHER | IN_PROGRESS",
        "Update our billing address",
        "Invoices should go to our new accounts payable office in Columbus.",
        days_ago=15,
        comments=(("staff", "Forwarded to billing; we will confirm when it is changed.", 3),),
    ),
    _support(
        "northwind | admin@northwind.example | ACCOUNT_UPDATE | NOTIFICATIONS | NEW",
        "One daily email instead of one per result",
        "Our adjusters get too many emails. Is a daily digest possible?",
        days_ago=2,
    ),
    _support(
        "northwind | admin@northwind.example | ACCOUNT_UPDATE | NEW_REPORT_TYPE | RESOLVED",
        "Transcription summaries for Contoso Freight",
        "Please include transcription summaries for our client Contoso Freight.",
        days_ago=95,
        comments=(("staff", "Transcription summaries are now included for Contoso Freight.", 48),),
    ),
    _support(
        "contoso | admin@contoso.example | TREATMENT_RESULT | BILLING | IN_PROGRESS",
        "Billed twice for one injury visit",
        "We received two invoices for this visit.",
        ref="visit",
        comments=(("staff", "We are checking with the billing office.", 2),),
    ),
    _support(
        "contoso | admin@contoso.example | TREATMENT_RESULT | SERVICES_QUESTION | RESOLVED",
        "Question about work restrictions",
        "Does the restriction in this report apply to driving a forklift?",
        ref="document",
        comments=(
            ("staff", "The provider confirmed: no forklift driving until the next visit.", 24),
            ("user", "Understood, thank you.", 27),
        ),
    ),
    _support(
        "contoso | staff | ACCOUNT_UPDATE | OTHER | CLOSED",
        "Phone request: add the Phoenix terminal",
        "Customer called to add their Phoenix terminal as a location.",
        days_ago=140,
        comments=(("staff", "Location added.", 1),),
    ),
    _support(
        "initech | admin@initech.example | ACCOUNT_UPDATE | ADD_REMOVE_SERVICES | NEW",
        "Add human performance evaluations",
        "We would like HPE testing for new hires at the Tempe shop.",
        days_ago=6,
    ),
    _support(
        "initech | admin@initech.example | TREATMENT_RESULT | MISSING_RESULTS | RESOLVED",
        "Missing result for a visit",
        "One of the results for this visit did not arrive.",
        ref="visit",
        comments=(("staff", "The center re-sent the result; it is in the portal now.", 30),),
    ),
    _support(
        "acme | visits@acme.example | TREATMENT_RESULT | SERVICES_QUESTION | NEW",
        "Was a drug screen collected?",
        "The employee says a drug screen was collected at this visit; we did not authorize one.",
        ref="visit",
    ),
    _support(
        "globex | admin@globex.example | ACCOUNT_UPDATE | EMAIL_CHANGE | CLOSED",
        "Remove a former supervisor from notifications",
        "Please stop sending notifications to a supervisor who left the company.",
        days_ago=170,
        comments=(("staff", "Removed.", 5),),
    ),
    _support(
        "acme | admin@acme.example | ACCOUNT_UPDATE | OTHER | RESOLVED",
        "A second User Admin",
        "Can Priya Nair become a User Admin while I am on leave?",
        days_ago=75,
        comments=(
            ("staff", "A User Admin can change roles on the Contacts page; no support needed.", 3),
        ),
    ),
)


# --------------------------------------------------------------------------------------------
# Document content


def _us(value: date) -> str:
    return value.strftime("%m/%d/%Y")


def _report_content(
    rng: random.Random, code: str, visit: _Visit, employer: str
) -> tuple[int, list[str]]:
    """Pages and lines of a result PDF: plausible, minimum-necessary, clearly demo content."""
    day = visit.visited_at.date()
    provider = f"Provider: {visit.provider}"
    claim = f"Claim number: {visit.claim_number or 'not yet assigned'}"
    employer_line = f"Employer: {employer}"
    if code == "INJURY_ACTIVITY_STATUS_REPORT":
        next_visit = (
            _us(visit.recheck_on.date()) if visit.recheck_on else "none, released from care"
        )
        return 1, [
            employer_line,
            claim,
            f"Diagnosis: {visit.diagnosis}",
            f"Work status: {visit.work_status}",
            "Treatment: evaluation, first aid, home exercise program",
            f"Next visit: {next_visit}",
            provider,
        ]
    if code == "FIRST_NOTICE_OF_INJURY_LETTER":
        return 1, [
            "To the employer:",
            "",
            f"Your employee was seen on {_us(day)} for an injury reported as work related.",
            claim,
            "Please forward this notice to your workers' compensation carrier.",
            "",
            "Sincerely,",
            visit.provider,
        ]
    if code == "PATIENT_REFERRAL_REPORT":
        specialty = rng.choice(("Orthopedics", "Physical therapy", "Ophthalmology", "Hand surgery"))
        return 1, [claim, f"Referred to: {specialty}", f"Reason: {visit.diagnosis}", provider]
    if code == "RECHECK_APPOINTMENT_REMINDER_LETTER":
        when = _us(visit.recheck_on.date()) if visit.recheck_on else "to be scheduled"
        return 1, [
            f"A recheck appointment is scheduled for {when} at {visit.center.name}.",
            "Missed appointments delay the return to full duty.",
            claim,
        ]
    if code == "EMPLOYEE_NO_SHOW_LETTER":
        when = _us(visit.recheck_on.date()) if visit.recheck_on else "the scheduled date"
        return 1, [
            f"Your employee did not attend the recheck appointment of {when}.",
            "Please ask the employee to call the center to reschedule.",
            claim,
        ]
    if code == "STATE_INJURY_REPORT":
        return 2, [
            f"State: {visit.center.state} (employer's first report of injury, provider section)",
            employer_line,
            claim,
            f"Date of injury: {_us(day)}",
            f"Nature of injury: {visit.diagnosis}",
            f"Disability status: {visit.work_status}",
            "Treatment provided: yes",
            provider,
            "Attachments: activity status report",
            "Certification: the information above is accurate.",
        ]
    if code == "CUSTODY_AND_CONTROL_FORM":
        return 1, [
            f"Specimen ID: {rng.randint(10_000_000, 99_999_999)}",
            "Reason for test: post-accident",
            f"Collection site: {visit.center.name}",
            "Temperature within range: yes",
            "Split specimen collected: yes",
            "The pass/fail result is reported through the drug screen results portal.",
        ]
    if code == "ALCOHOL_TESTING_FORM":
        return 1, [
            "Reason for test: post-accident",
            "Screening result: 0.000",
            "Confirmation test: not required",
            f"Breath alcohol technician: {rng.choice(PROVIDERS)}",
        ]
    if code == "TRANSCRIPTION":
        return 2, [
            f"Chief complaint: {visit.diagnosis.lower()} at work.",
            "History: the employee reports the injury occurred during regular duties.",
            "No prior injury to the same body part.",
            "Examination: tenderness at the injured site, no neurovascular deficit.",
            "Range of motion mildly reduced.",
            f"Assessment: {visit.diagnosis}.",
            f"Plan: {visit.work_status.lower()}; recheck as scheduled.",
            provider,
        ]
    if code == "TRANSCRIPTION_SUMMARY":
        return 1, [f"Assessment: {visit.diagnosis}", f"Work status: {visit.work_status}", provider]
    if code == "NON_INJURY_ACTIVITY_STATUS_REPORT":
        services = ", ".join(s.replace("_", " ").lower() for s in visit.services)
        return 1, [
            employer_line,
            f"Services performed: {services}",
            "Status: see individual results",
            provider,
        ]
    if code == "MEC_DOT_CARD":
        months = rng.choice((24, 24, 24, 12))
        return 1, [
            "Medical Examiner's Certificate (demo)",
            "Meets the standards in 49 CFR 391.41",
            f"Certified for {months} months; expires {_us(day + timedelta(days=months * 30))}",
            f"Medical examiner: {visit.provider}",
            f"National Registry number: {rng.randint(1_000_000_000, 9_999_999_999)}",
        ]
    if code == "MER_LONG_FORM":
        return 3, [
            "Section 1: driver health history reviewed with the driver.",
            "Section 2: testing",
            f"Vision: right 20/{rng.choice((20, 25, 30))}, left 20/{rng.choice((20, 25, 30))}",
            "Hearing: forced whisper test passed at 5 feet, both ears",
            f"Blood pressure: {rng.randint(112, 138)}/{rng.randint(70, 88)}",
            f"Pulse: {rng.randint(60, 88)}",
            "Urinalysis: protein negative, blood negative, sugar negative",
            "Section 3: physical examination",
            "General appearance, eyes, ears, mouth and throat: normal",
            "Heart, lungs and chest, abdomen: normal",
            "Spine and musculoskeletal, extremities: normal",
            "Neurological: normal",
            "Section 4: determination",
            "Meets standards: certificate issued",
            provider,
        ]
    if code == "PRE_PLACEMENT_PHYSICAL_RESULTS":
        return 1, [
            employer_line,
            "Result: meets the physical requirements of the position",
            f"Blood pressure: {rng.randint(110, 136)}/{rng.randint(70, 86)}",
            "Vision and hearing: within normal limits",
            provider,
        ]
    if code == "AUDIOGRAM_RESULTS":

        def ear() -> str:
            return " ".join(f"{rng.choice((5, 10, 15, 20, 25, 30)):>4}" for _ in range(7))

        return 1, [
            "Frequency (Hz):    500 1000 2000 3000 4000 6000 8000",
            f"Right ear (dB HL): {ear()}",
            f"Left ear (dB HL):  {ear()}",
            f"Standard threshold shift: {rng.choice(('none', 'none', 'none', 'left ear'))}",
            "Test type: annual",
            provider,
        ]
    if code == "HUMAN_PERFORMANCE_EVALUATION_RESULTS":
        return 1, [
            f"Lift floor to waist: {rng.choice((40, 50, 60))} lb",
            "Carry 50 feet: 40 lb",
            "Push/pull: meets job demands",
            "Result: meets the physical demands of the job",
            provider,
        ]
    if code == "RESPIRATOR_CLEARANCE":
        return 1, [
            "Respirator type: half-face air-purifying",
            "Clearance: cleared without restrictions",
            f"Next evaluation due: {_us(day + timedelta(days=365))}",
            provider,
        ]
    if code == "FIT_TEST_RESULTS":
        return 1, [
            "Method: quantitative",
            "Respirator: half facepiece, size medium",
            f"Overall fit factor: {rng.randint(300, 2500)} (pass at 100 or more)",
            "Result: pass",
        ]
    if code == "MEDICAL_SURVEILLANCE_OPINION_LETTER":
        program = rng.choice(("noise", "lead", "silica", "hexavalent chromium"))
        return 1, [
            f"Program: {program} exposure medical surveillance",
            "Opinion: no detected medical condition placing the employee at increased risk.",
            "Recommended follow-up: annual",
            provider,
        ]
    if code == "TEST_AND_LAB_RESULTS":
        lines = [f"Collected: {_us(day)}"]
        if "DRUG_SCREEN" in visit.services:
            lines.append("Drug screen: see the drug screen results portal for the pass/fail result")
        if "BREATH_ALCOHOL_TEST" in visit.services:
            lines.append("Breath alcohol: 0.000 (negative)")
        if "LAB_TESTS" in visit.services:
            lines.append(f"Blood lead: {rng.randint(1, 9)} ug/dL (reference below 10)")
            lines.append("TB test (IGRA): negative")
        return 1, lines
    if code == "VACCINE_ADMINISTRATION_RECORD":
        vaccine = rng.choice(
            ("Hepatitis B, dose 1 of 3", "Tdap", "Influenza", "Hepatitis A, dose 1 of 2")
        )
        return 1, [
            f"Vaccine: {vaccine}",
            f"Lot number: {rng.choice('ABCDEFGH')}{rng.randint(10000, 99999)}",
            "Site: left deltoid",
            provider,
        ]
    if code == "OTHER_PHYSICALS_AND_ANCILLARY_RESULTS":
        return 1, ["Service: vision screening", "Result: pass", provider]
    if code == "CUSTOMER_SPECIFIC_FORM":
        return 1, [f"{employer} fitness-for-duty form", "Cleared for: full duty", provider]
    return 1, [provider]


# --------------------------------------------------------------------------------------------
# Seeding


INSERT_ORDER = (
    "accounts",
    "locations",
    "service_packages",
    "service_package_items",
    "staff_users",
    "contacts",
    "portal_users",
    "user_permissions",
    "report_subscriptions",
    "notification_preferences",
    "medical_centers",
    "employees",
    "authorizations",
    "authorization_services",
    "authorization_recipients",
    "authorization_events",
    "visits",
    "documents",
    "support_requests",
    "support_comments",
)


async def seed_demo(
    session: AsyncSession, *, password: str, storage: DocumentStorage, today: date
) -> DemoSummary:
    """Load the demo data set (after the reference data) and commit; return what exists.

    The session is switched to the all-accounts scope: the seed writes every tenant's rows.
    """
    set_scope(session, AccountScope.everything())
    await session.execute(
        sa.text("SELECT set_config(:ids_key, '', true), set_config(:all_key, 'on', true)"),
        {"ids_key": ACCOUNT_IDS_SETTING, "all_key": ALL_ACCOUNTS_SETTING},
    )
    await seed_reference_data(session)
    already_seeded = await session.scalar(
        sa.select(sa.literal(True)).where(col(Account.id) == MARKER_ACCOUNT_ID)
    )
    if not already_seeded:
        await insert_demo_data(session, password=password, storage=storage, today=today)
    summary = await demo_summary(session, today=today)
    await session.commit()
    return summary


async def insert_demo_data(
    session: AsyncSession, *, password: str, storage: DocumentStorage, today: date
) -> None:
    """Insert every demo row that does not exist yet (no commit) and store the PDFs."""
    report_type_ids = await _ids_by_code(session, ReportType)
    service_ids = await _ids_by_code(session, Service)
    plan = _Builder(today=today, report_type_ids=report_type_ids, service_ids=service_ids).build()

    # Hash the passwords and render the PDFs in worker threads, side by side.
    hashes, pdfs = await asyncio.gather(
        asyncio.to_thread(lambda: [hash_password(password) for _ in plan.users]),
        asyncio.to_thread(lambda: [render_document_pdf(**render) for render in plan.renders]),
    )
    password_hashes = {
        user_id: digest for (user_id, _), digest in zip(plan.users, hashes, strict=True)
    }
    for table in ("staff_users", "portal_users"):
        for row in plan.rows[table]:
            row["password_hash"] = password_hashes[row["id"]]

    keys = await asyncio.gather(*(storage.put(pdf) for pdf in pdfs))
    for row, render, pdf, key in zip(plan.rows["documents"], plan.renders, pdfs, keys, strict=True):
        row["page_count"] = render["pages"]
        row["size_bytes"] = len(pdf)
        row["sha256"] = key
        row["storage_key"] = key

    for table in INSERT_ORDER:
        await _insert(session, table, plan.rows.get(table, []))


async def demo_summary(session: AsyncSession, *, today: date) -> DemoSummary:
    archive_before = datetime.combine(
        today - timedelta(days=ARCHIVE_AFTER_DAYS), time(0, 0), tzinfo=UTC
    )

    def count(table: str) -> sa.ScalarSelect[int]:
        return (
            sa.select(sa.func.count())
            .select_from(SQLModel.metadata.tables[table])
            .scalar_subquery()
        )

    archived = (
        sa.select(sa.func.count())
        .select_from(Document)
        .where(col(Document.posted_at) < archive_before)
        .scalar_subquery()
    )
    row = (
        await session.execute(
            sa.select(
                count("accounts"),
                count("portal_users"),
                count("staff_users"),
                count("employees"),
                count("medical_centers"),
                count("authorizations"),
                count("visits"),
                count("documents"),
                archived,
                count("support_requests"),
            )
        )
    ).one()
    return DemoSummary(*(int(value) for value in row))


async def _ids_by_code(
    session: AsyncSession, model: type[ReportType] | type[Service]
) -> dict[str, uuid.UUID]:
    rows = await session.execute(sa.select(col(model.code), col(model.id)))
    return {row[0]: row[1] for row in rows}


async def _insert(session: AsyncSession, table_name: str, rows: Sequence[Row]) -> None:
    if not rows:
        return
    table = SQLModel.metadata.tables[table_name]
    await session.execute(pg_insert(table).on_conflict_do_nothing(), list(rows))
