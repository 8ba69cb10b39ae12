"""Fixed facts of the demo: ids, accounts, people, names and the tables rows are drawn from."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from portal.models.enums import Role
from portal.seed.reference import REPORT_TYPES

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
class LocationSpec:
    key: str
    name: str
    street: str
    city: str
    state: str
    postal_code: str
    area_code: str


@dataclass(frozen=True, slots=True)
class AccountSpec:
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
    locations: tuple[LocationSpec, ...]

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

ACCOUNTS: tuple[AccountSpec, ...] = tuple(
    AccountSpec(
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
            LocationSpec(*location[1:]) for location in _LOCATION_TABLE if location[0] == key
        ),
    )
    for key, name, number, parent, street, city, state, postal_code, area_code, prefix, count in (
        _ACCOUNT_TABLE
    )
)
ACCOUNT_BY_KEY = {spec.key: spec for spec in ACCOUNTS}


@dataclass(frozen=True, slots=True)
class PersonSpec:
    account: str
    first_name: str
    last_name: str
    email: str
    title: str
    role: Role | None  # None: a contact without a portal login


# account | first | last | work email | title | portal role (empty: no login)
PEOPLE: tuple[PersonSpec, ...] = tuple(
    PersonSpec(account, first, last, email, title, Role(role) if role else None)
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

# Support's requests to enable portal access, waiting for a User Admin (contact email, role,
# note): admin@acme.example approves or declines Tom's in GraphiQL.
ACCESS_REQUESTS: tuple[tuple[str, Role, str], ...] = (
    (
        "tom.becker@acme.example",
        Role.BASIC,
        "Tom called support: he needs the Joliet injury reports.",
    ),
    (
        "linda.park@globex.example",
        Role.BASIC,
        "Linda asked for access to follow up on pre-placement physicals.",
    ),
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
