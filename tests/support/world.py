"""A small, fixed world that every test starts from (committed once per test run)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.passwords import hash_password
from portal.models import (
    Account,
    ApiClient,
    Contact,
    Location,
    MedicalCenter,
    PortalUser,
    StaffUser,
    UserPermission,
)
from portal.models.enums import Permission, Role, UserStatus
from portal.seed.reference import seed_reference_data

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
    centers: list[MedicalCenter]


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


async def build_world(session: AsyncSession) -> World:
    await seed_reference_data(session)
    acme = _account("Acme Logistics", "T-ACME")
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
    session.add_all([staff, acme_client])
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
        centers=centers,
    )
