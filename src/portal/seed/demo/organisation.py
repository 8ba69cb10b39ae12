"""Building the demo's accounts, locations, people, medical centres and employees."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta

from portal.models.enums import AccessRequestStatus, Permission, UserStatus
from portal.seed.demo.facts import (
    ACCESS_REQUESTS,
    ACCOUNT_BY_KEY,
    ACCOUNTS,
    ARCHIVE_AFTER_DAYS,
    CENTER_CITIES,
    CENTER_HOURS,
    CENTER_STREETS,
    DEMO_SEED,
    FIRST_NAMES,
    LAST_NAMES,
    NOTIFICATION_PREFERENCES,
    PEOPLE,
    SERVICE_PACKAGES,
    STAFF_EMAIL,
    SUBSCRIPTIONS,
    demo_id,
)
from portal.seed.demo.plan import CenterPlan, EmployeePlan, Plan


class OrganisationBuilder:
    """Accounts, people, medical centres and employees, from one seeded random generator."""

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
        self.plan = Plan()
        self.employees: dict[str, list[EmployeePlan]] = {}
        self.centers: list[CenterPlan] = []
        self.centers_by_state: dict[str, list[CenterPlan]] = {}
        self.account_users: dict[str, list[str]] = {}
        self.staff_id = demo_id("staff", STAFF_EMAIL)

    # -- time helpers -------------------------------------------------------------------------

    def day_at(self, days_ago: int, minute_of_day: int) -> datetime:
        return self.anchor - timedelta(days=days_ago) + timedelta(minutes=minute_of_day)

    def long_ago(self, days: int) -> datetime:
        return self.anchor - timedelta(days=days, hours=7)

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
                    # Authorizations may be emailed to addresses at the account's own domain.
                    "email_domains": [f"{spec.key}.example"],
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
        requested = self.long_ago(2)
        for email, role, note in ACCESS_REQUESTS:
            self.plan.add(
                "access_requests",
                {
                    "id": demo_id("access_request", email),
                    "account_id": demo_id("account", people[email].account),
                    "contact_id": demo_id("contact", email),
                    "requested_role": role,
                    "requested_by_staff_id": self.staff_id,
                    "status": AccessRequestStatus.PENDING,
                    "note": note,
                    "created_at": requested,
                    "updated_at": requested,
                },
            )
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
            center = CenterPlan(
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
                employee = EmployeePlan(
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

    def _pick_center(self, state: str, *, telemedicine: bool = False) -> CenterPlan:
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
