"""Building the demo's authorizations."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from portal.models.enums import (
    AuthorizationEventKind,
    AuthorizationState,
    Modality,
    RecipientKind,
)
from portal.seed.demo.facts import (
    NON_INJURY_BUNDLES,
    PEOPLE,
    RANDOM_AUTHORIZATIONS,
    SERVICE_PACKAGES,
    SPECIAL_INSTRUCTIONS,
    demo_id,
)
from portal.seed.demo.organisation import OrganisationBuilder
from portal.seed.demo.plan import AuthorizationPlan


class AuthorizationBuilder(OrganisationBuilder):
    """Authorizations with their services, recipients and history."""

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

    def _authorizations(self) -> list[AuthorizationPlan]:
        rng = self.rng
        result: list[AuthorizationPlan] = []
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
            authorization = AuthorizationPlan(
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
        result.extend(self._acme_showcase())
        result.sort(key=lambda a: (a.created_at, a.employee.number))
        for number, authorization in enumerate(result, start=1):
            authorization.number = f"AUTH-{number:06d}"
            authorization.id = demo_id("authorization", authorization.number)
        return result

    def _recipients(self, authorization: AuthorizationPlan) -> None:
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

    def _onboarding_batch(self) -> list[AuthorizationPlan]:
        """Globex onboards six new hires at once: one authorization, five made from it."""
        rng = self.rng
        columbus = [e for e in self.employees["globex"] if e.location.key == "columbus"]
        hires = rng.sample(columbus, 6)
        center = self._pick_center("OH")
        services = ("PRE_PLACEMENT_PHYSICAL", "DRUG_SCREEN", "AUDIOGRAM")
        batch: list[AuthorizationPlan] = []
        for index, employee in enumerate(hires):
            created_at = self.day_at(45, 14 * 60 + index * 4)
            authorization = AuthorizationPlan(
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

    def _acme_showcase(self) -> list[AuthorizationPlan]:
        """Acme's walk-through set, without the random generator (the rest stays as it was):
        ACTIVE and EXPIRED ones by the Basic user, a telemedicine one, a CANCELLED one, an
        extended one, and a template (the "DOT driver new hire" package) with three made from
        it. USED ones come from the random set's check-ins."""
        dallas = [e for e in self.employees["acme"] if e.location.key == "dallas"][:9]
        center = next(c for c in self.centers_by_state["TX"] if c.city == "Dallas")
        basic, admin = "basic@acme.example", "admin@acme.example"

        def make(
            index: int, days_ago: int, creator: str, *, valid_days: int = 30, **changes: object
        ) -> AuthorizationPlan:
            employee = dallas[index]
            created_at = self.day_at(days_ago, 15 * 60 + index)
            plan = AuthorizationPlan(
                account="acme",
                employee=employee,
                modality=Modality.IN_CENTER,
                center=center,
                services=("DRUG_SCREEN",),
                created_at=created_at,
                valid_from=created_at.date(),
                valid_until=created_at.date() + timedelta(days=valid_days),
                creator=creator,
            )
            for name, value in changes.items():
                setattr(plan, name, value)
            if employee.email:
                plan.recipients.append((RecipientKind.EMPLOYEE, employee.name, employee.email))
            return plan

        template = make(
            5,
            10,
            admin,
            services=("DOT_PHYSICAL", "DRUG_SCREEN"),
            package="DOT driver new hire",
            instructions="Commercial driver applicant: DOT physical and drug screen.",
        )
        extended = make(4, 20, admin, valid_days=14)
        extended.extended_at = extended.created_at + timedelta(days=10)
        extended.previous_valid_until = extended.valid_until
        extended.valid_until = extended.valid_until + timedelta(days=30)
        showcase = [
            make(0, 2, basic, instructions="Please call ahead: the employee needs an interpreter."),
            make(1, 40, basic),
            make(
                2, 1, admin, modality=Modality.TELEMEDICINE, center=None, services=("INJURY_CARE",)
            ),
            make(
                3,
                5,
                admin,
                state=AuthorizationState.CANCELLED,
                cancelled_at=self.day_at(4, 16 * 60),
            ),
            extended,
            template,
        ]
        for index in (6, 7, 8):
            showcase.append(
                make(
                    index,
                    9,
                    admin,
                    services=template.services,
                    package=template.package,
                    instructions=template.instructions,
                    template=template,
                )
            )
        return showcase

    def _authorization_rows(self, authorizations: list[AuthorizationPlan]) -> None:
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
