"""A small, fixed world that every test starts from (committed once per test run)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.passwords import hash_password
from portal.models import (
    Account,
    ApiClient,
    Authorization,
    Contact,
    Document,
    Employee,
    Location,
    MedicalCenter,
    PortalUser,
    ProviderClient,
    ReportSubscription,
    StaffUser,
    UserPermission,
    Visit,
)
from portal.models.enums import (
    AuthorizationState,
    Modality,
    Permission,
    Role,
    UserStatus,
    VisitStatus,
    VisitType,
)
from portal.seed.pdfs import render_document_pdf
from portal.seed.reference import reference_id, seed_reference_data
from portal.storage import DocumentStorage, storage_key_for

PASSWORD = "correct horse battery staple 2026"


@dataclass(frozen=True)
class World:
    acme: Account
    globex: Account
    northwind: Account
    contoso: Account
    acme_dallas: Location
    acme_phoenix: Location
    globex_chicago: Location
    contoso_denver: Location
    acme_admin: PortalUser
    acme_basic: PortalUser
    acme_visits: PortalUser
    globex_admin: PortalUser
    northwind_admin: PortalUser
    acme_deactivated: PortalUser
    staff: StaffUser
    acme_client: ApiClient
    # One of the provider's own systems, holding `ingestion:write`.
    lab_system: ProviderClient
    centers: list[MedicalCenter]
    results: Results


# The Basic user (basic@acme.example) subscribes to this report type at Acme's Dallas Hub only.
SUBSCRIBED_REPORT_TYPE = "INJURY_ACTIVITY_STATUS_REPORT"


@dataclass(frozen=True)
class Results:
    """Employees, visits and documents covering each visibility edge.

    Who sees which document (archive: Acme's retention is 90 days):
    - ``subscribed`` (Acme, Dallas, the subscribed report type): admin, basic, API client, staff;
    - ``other_location`` (same report type, Phoenix) and ``other_type`` (Dallas, MEC DOT card):
      admin, API client, staff; not basic;
    - ``archived`` (subscribed pair, posted 120 days ago): staff only;
    - ``restored`` (subscribed pair, posted 110 days ago, restored by staff): like ``subscribed``;
    - ``retracted`` (subscribed pair, posted yesterday, retracted): staff only;
    - ``globex``: Globex's admin and staff; ``contoso``: Northwind (TPA) admin and staff.
    """

    alice: Employee  # Acme, Dallas
    bob: Employee  # Acme, Phoenix
    gina: Employee  # Globex, Chicago
    carl: Employee  # Contoso (Northwind's client), Denver
    alice_injury: Visit  # checked out, claim CLM-1001, authorization by visits@acme
    alice_physical: Visit  # non-injury, results pending
    alice_old_injury: Visit  # 125 days ago
    bob_injury: Visit  # checked in only, authorization by admin@acme
    gina_physical: Visit
    carl_hearing: Visit
    visits_authorization: Authorization  # created by visits@acme, USED by alice_injury
    admin_authorization: Authorization  # created by admin@acme, USED by bob_injury
    subscribed: Document
    other_type: Document
    other_location: Document
    archived: Document
    restored: Document
    retracted: Document
    globex: Document
    contoso: Document
    # The stored PDF bytes of each document, by document id.
    pdfs: dict[uuid.UUID, bytes]

    @property
    def acme_documents(self) -> list[Document]:
        return [self.subscribed, self.other_type, self.other_location, self.restored]


def _account(
    name: str, number: str, *, parent: Account | None = None, tpa: bool = False
) -> Account:
    return Account(
        name=name,
        account_number=number,
        parent_account_id=parent.id if parent else None,
        is_third_party_administrator=tpa,
        mailing_street="1 Main St",
        mailing_city="Dallas",
        mailing_state="TX",
        mailing_postal_code="75201",
        main_phone="214-555-0100",
    )


def _location(account: Account, name: str, city: str, state: str) -> Location:
    return Location(
        account_id=account.id,
        name=name,
        street="10 Industrial Way",
        city=city,
        state=state,
        postal_code="00001",
    )


async def build_world(session: AsyncSession, storage: DocumentStorage | None = None) -> World:
    await seed_reference_data(session)
    acme = _account("Acme Logistics", "T-ACME")
    # Where authorizations may be emailed besides the employee and the contacts.
    acme.email_domains = ["acme.example"]
    globex = _account("Globex Manufacturing", "T-GLOBEX")
    northwind = _account("Northwind TPA", "T-NORTHWIND", tpa=True)
    session.add_all([acme, globex, northwind])
    await session.flush()
    contoso = _account("Contoso Freight", "T-CONTOSO", parent=northwind)
    session.add(contoso)
    await session.flush()

    acme_dallas = _location(acme, "Dallas Hub", "Dallas", "TX")
    acme_phoenix = _location(acme, "Phoenix Yard", "Phoenix", "AZ")
    globex_chicago = _location(globex, "Chicago Plant", "Chicago", "IL")
    contoso_denver = _location(contoso, "Denver Depot", "Denver", "CO")
    session.add_all([acme_dallas, acme_phoenix, globex_chicago, contoso_denver])

    password_hash = hash_password(PASSWORD)

    async def person(
        account: Account, email: str, role: Role, *, status: UserStatus = UserStatus.ACTIVE
    ) -> PortalUser:
        first, _, last = email.partition("@")[0].partition(".")
        contact = Contact(
            account_id=account.id,
            first_name=first.title(),
            last_name=(last or account.name.split()[0]).title(),
            work_email=email,
        )
        session.add(contact)
        await session.flush()
        user = PortalUser(
            contact_id=contact.id,
            account_id=account.id,
            email=email,
            role=role,
            status=status,
            password_hash=password_hash,
            deactivated_at=datetime.now(UTC) if status is UserStatus.DEACTIVATED else None,
        )
        session.add(user)
        await session.flush()
        return user

    acme_admin = await person(acme, "admin@acme.example", Role.USER_ADMIN)
    acme_basic = await person(acme, "basic@acme.example", Role.BASIC)
    acme_visits = await person(acme, "visits@acme.example", Role.BASIC)
    acme_deactivated = await person(
        acme, "gone@acme.example", Role.BASIC, status=UserStatus.DEACTIVATED
    )
    globex_admin = await person(globex, "admin@globex.example", Role.USER_ADMIN)
    northwind_admin = await person(northwind, "admin@northwind.example", Role.USER_ADMIN)
    session.add(
        UserPermission(
            user_id=acme_visits.id, account_id=acme.id, permission=Permission.VIEW_VISIT_ACTIVITY
        )
    )
    staff = StaffUser(
        email="support@portal.example",
        first_name="Sam",
        last_name="Support",
        password_hash=password_hash,
    )
    acme_client = ApiClient(
        account_id=acme.id,
        client_id="acme-hr-" + uuid.uuid4().hex[:8],
        secret_hash=password_hash,
        name="Acme HRIS",
        scopes=["account:read", "documents:read"],
        created_by_user_id=acme_admin.id,
    )
    lab_system = ProviderClient(
        client_id="ehp-provider-" + uuid.uuid4().hex[:8],
        secret_hash=password_hash,
        name="Dallas clinic EHR",
        scopes=["ingestion:write"],
    )
    session.add_all([staff, acme_client, lab_system])
    centers = [
        MedicalCenter(
            code=f"MC{n:03d}",
            name=f"{city} Occupational Health",
            street=f"{n} Clinic Rd",
            city=city,
            state=state,
            postal_code=f"{70000 + n}",
            phone="555-0100",
            hours="Mon-Fri 7am-6pm",
            telemedicine_capable=n % 2 == 0,
        )
        for n, (city, state) in enumerate(
            [
                ("Dallas", "TX"),
                ("Houston", "TX"),
                ("Austin", "TX"),
                ("Phoenix", "AZ"),
                ("Chicago", "IL"),
            ],
            start=1,
        )
    ]
    session.add_all(centers)
    await session.flush()
    basic_contact_id = acme_basic.contact_id
    session.add(
        ReportSubscription(
            account_id=acme.id,
            contact_id=basic_contact_id,
            report_type_id=reference_id("report_type", SUBSCRIBED_REPORT_TYPE),
            location_id=acme_dallas.id,
        )
    )
    results = await _build_results(
        session,
        storage,
        acme_dallas=acme_dallas,
        acme_phoenix=acme_phoenix,
        globex_chicago=globex_chicago,
        contoso_denver=contoso_denver,
        acme_admin=acme_admin,
        acme_visits=acme_visits,
        staff=staff,
        centers=centers,
    )
    return World(
        acme=acme,
        globex=globex,
        northwind=northwind,
        contoso=contoso,
        acme_dallas=acme_dallas,
        acme_phoenix=acme_phoenix,
        globex_chicago=globex_chicago,
        contoso_denver=contoso_denver,
        acme_admin=acme_admin,
        acme_basic=acme_basic,
        acme_visits=acme_visits,
        globex_admin=globex_admin,
        northwind_admin=northwind_admin,
        acme_deactivated=acme_deactivated,
        staff=staff,
        acme_client=acme_client,
        lab_system=lab_system,
        centers=centers,
        results=results,
    )


def _employee(location: Location, first: str, last: str, born: date, number: str) -> Employee:
    return Employee(
        account_id=location.account_id,
        location_id=location.id,
        first_name=first,
        last_name=last,
        date_of_birth=born,
        employee_number=number,
        email=f"{first.lower()}.{last.lower()}@mail.example",
        phone="555-0142",
    )


def _visit(
    employee: Employee,
    center: MedicalCenter,
    *,
    visited_at: datetime,
    kind: VisitType,
    status: VisitStatus,
    claim: str | None = None,
    authorization: Authorization | None = None,
) -> Visit:
    checked_out = visited_at + timedelta(hours=2) if status is not VisitStatus.CHECKED_IN else None
    return Visit(
        account_id=employee.account_id,
        employee_id=employee.id,
        location_id=employee.location_id,
        medical_center_id=center.id,
        authorization_id=authorization.id if authorization else None,
        visited_at=visited_at,
        visit_type=kind,
        claim_number=claim,
        status=status,
        checked_out_at=checked_out,
    )


async def _build_results(
    session: AsyncSession,
    storage: DocumentStorage | None,
    *,
    acme_dallas: Location,
    acme_phoenix: Location,
    globex_chicago: Location,
    contoso_denver: Location,
    acme_admin: PortalUser,
    acme_visits: PortalUser,
    staff: StaffUser,
    centers: list[MedicalCenter],
) -> Results:
    now = datetime.now(UTC)
    dallas_center, houston_center, _, phoenix_center, chicago_center = centers
    alice = _employee(acme_dallas, "Alice", "Smith", date(1985, 4, 12), "E-1001")
    bob = _employee(acme_phoenix, "Bob", "Jones", date(1979, 11, 30), "E-1002")
    gina = _employee(globex_chicago, "Gina", "Lopez", date(1990, 1, 5), "G-2001")
    carl = _employee(contoso_denver, "Carl", "Meyer", date(1972, 7, 21), "C-3001")
    session.add_all([alice, bob, gina, carl])
    await session.flush()

    def authorization(
        employee: Employee, center: MedicalCenter, creator: PortalUser, number: str
    ) -> Authorization:
        return Authorization(
            account_id=employee.account_id,
            number=number,
            employee_id=employee.id,
            location_id=employee.location_id,
            modality=Modality.IN_CENTER,
            medical_center_id=center.id,
            valid_from=(now - timedelta(days=10)).date(),
            valid_until=(now + timedelta(days=20)).date(),
            state=AuthorizationState.USED,
            created_by_user_id=creator.id,
        )

    visits_authorization = authorization(alice, dallas_center, acme_visits, "T-AUTH-0001")
    admin_authorization = authorization(bob, phoenix_center, acme_admin, "T-AUTH-0002")
    session.add_all([visits_authorization, admin_authorization])
    await session.flush()

    alice_injury = _visit(
        alice,
        dallas_center,
        visited_at=now - timedelta(days=5),
        kind=VisitType.INJURY,
        status=VisitStatus.CHECKED_OUT,
        claim="CLM-1001",
        authorization=visits_authorization,
    )
    alice_physical = _visit(
        alice,
        houston_center,
        visited_at=now - timedelta(days=4),
        kind=VisitType.NON_INJURY,
        status=VisitStatus.RESULTS_PENDING,
    )
    alice_old_injury = _visit(
        alice,
        dallas_center,
        visited_at=now - timedelta(days=125),
        kind=VisitType.INJURY,
        status=VisitStatus.COMPLETE,
        claim="CLM-0999",
    )
    bob_injury = _visit(
        bob,
        phoenix_center,
        visited_at=now - timedelta(days=3, hours=6),
        kind=VisitType.INJURY,
        status=VisitStatus.CHECKED_IN,
        claim="CLM-2002",
        authorization=admin_authorization,
    )
    gina_physical = _visit(
        gina,
        chicago_center,
        visited_at=now - timedelta(days=6),
        kind=VisitType.NON_INJURY,
        status=VisitStatus.COMPLETE,
    )
    carl_hearing = _visit(
        carl,
        dallas_center,
        visited_at=now - timedelta(days=7),
        kind=VisitType.NON_INJURY,
        status=VisitStatus.COMPLETE,
    )
    session.add_all(
        [alice_injury, alice_physical, alice_old_injury, bob_injury, gina_physical, carl_hearing]
    )
    await session.flush()

    pdfs: dict[uuid.UUID, bytes] = {}
    employees = {e.id: e for e in (alice, bob, gina, carl)}
    all_centers = {c.id: c for c in centers}

    async def document(
        visit: Visit, code: str, name: str, *, days_ago: float, pages: int = 1
    ) -> Document:
        employee = employees[visit.employee_id]
        pdf = render_document_pdf(
            title=name,
            employee_name=f"{employee.last_name}, {employee.first_name}",
            date_of_birth=employee.date_of_birth,
            visit_date=visit.visited_at.date(),
            center_name=all_centers[visit.medical_center_id].name,
            report_type_name=code.replace("_", " ").title(),
            pages=pages,
            lines=[f"{name}: test result line {n}" for n in range(1, 4 * pages)],
        )
        key = await storage.put(pdf) if storage is not None else storage_key_for(pdf)
        row = Document(
            account_id=visit.account_id,
            visit_id=visit.id,
            employee_id=visit.employee_id,
            location_id=visit.location_id,
            report_type_id=reference_id("report_type", code),
            name=name,
            posted_at=now - timedelta(days=days_ago),
            page_count=pages,
            size_bytes=len(pdf),
            sha256=storage_key_for(pdf),
            storage_key=key,
        )
        pdfs[row.id] = pdf
        return row

    subscribed = await document(
        alice_injury, SUBSCRIBED_REPORT_TYPE, "Work Status Report", days_ago=1, pages=2
    )
    other_type = await document(alice_physical, "MEC_DOT_CARD", "DOT Medical Card", days_ago=2)
    other_location = await document(
        bob_injury, SUBSCRIBED_REPORT_TYPE, "Work Status Report", days_ago=3
    )
    archived = await document(
        alice_old_injury, SUBSCRIBED_REPORT_TYPE, "Initial Work Status", days_ago=120
    )
    restored = await document(
        alice_old_injury, SUBSCRIBED_REPORT_TYPE, "Final Work Status", days_ago=110, pages=3
    )
    restored.restored_at = now - timedelta(days=10)
    retracted = await document(
        alice_injury, SUBSCRIBED_REPORT_TYPE, "Work Status Report (wrong patient)", days_ago=1.5
    )
    retracted.retracted_at = now - timedelta(hours=12)
    retracted.retraction_reason = "Posted to the wrong patient's record."
    retracted.retracted_by_staff_id = staff.id
    globex = await document(
        gina_physical, "PRE_PLACEMENT_PHYSICAL_RESULTS", "Pre-Placement Physical", days_ago=2.2
    )
    contoso = await document(carl_hearing, "AUDIOGRAM_RESULTS", "Audiogram", days_ago=4)
    session.add_all(
        [subscribed, other_type, other_location, archived, restored, retracted, globex, contoso]
    )
    await session.flush()
    return Results(
        alice=alice,
        bob=bob,
        gina=gina,
        carl=carl,
        alice_injury=alice_injury,
        alice_physical=alice_physical,
        alice_old_injury=alice_old_injury,
        bob_injury=bob_injury,
        gina_physical=gina_physical,
        carl_hearing=carl_hearing,
        visits_authorization=visits_authorization,
        admin_authorization=admin_authorization,
        subscribed=subscribed,
        other_type=other_type,
        other_location=other_location,
        archived=archived,
        restored=restored,
        retracted=retracted,
        globex=globex,
        contoso=contoso,
        pdfs=pdfs,
    )
