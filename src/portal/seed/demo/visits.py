"""Building the demo's visits and documents."""

from __future__ import annotations

from datetime import datetime, timedelta

from portal.models.enums import VisitStatus, VisitType
from portal.seed.demo.authorizations import AuthorizationBuilder
from portal.seed.demo.facts import (
    ACCOUNT_BY_KEY,
    CORRESPONDENCE,
    DIAGNOSES,
    PROVIDERS,
    RECENT_WALK_INS,
    REPORT_TYPE_NAMES,
    SERVICE_REPORTS,
    WALK_IN_VISITS,
    WORK_STATUSES,
    demo_id,
)
from portal.seed.demo.plan import AuthorizationPlan, DocumentPlan, VisitPlan
from portal.seed.demo.report_text import report_content


class VisitBuilder(AuthorizationBuilder):
    """Visits and the result documents posted for them."""

    # -- visits -------------------------------------------------------------------------------

    def _new_claim(self) -> str:
        return f"WC-{self.rng.randint(1_000_000, 9_999_999)}"

    def _injury_details(self, visit: VisitPlan) -> None:
        rng = self.rng
        visit.diagnosis = rng.choice(DIAGNOSES)
        visit.work_status = rng.choice(WORK_STATUSES)
        visit.provider = rng.choice(PROVIDERS)

    def _visits(self, authorizations: list[AuthorizationPlan]) -> list[VisitPlan]:
        rng = self.rng
        visits: list[VisitPlan] = []
        for auth in authorizations:
            if auth.visit_at is None:
                continue
            injury = auth.services[0] in ("INJURY_CARE", "PHYSICAL_THERAPY")
            center = auth.center or self._pick_center(
                auth.employee.location.state, telemedicine=True
            )
            visit = VisitPlan(
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
            visit = VisitPlan(
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
        rechecks: list[VisitPlan] = []
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
            recheck = VisitPlan(
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
        visits.extend(self._showcase_visits())
        visits.sort(key=lambda v: (v.visited_at, v.employee.number))
        for seq, visit in enumerate(visits, start=1):
            visit.seq = seq
            visit.id = demo_id("visit", f"{seq:05d}")
        return visits

    def _showcase_visits(self) -> list[VisitPlan]:
        """Visits the README's walk-throughs rely on, placed on purpose (no random draw):

        - Tamika Martinez (Acme, Houston) had a DOT physical two days ago and her MEC DOT card is
          posted: the Basic user's search "martinez tam" finds it, and both of that user's
          locations (Dallas and Houston) have current results;
        - an Acme Dallas employee had an audiogram 30 hours ago whose results are still pending:
          one visit inside its 72-hour window (`resultsExpectedAt` ahead)."""
        acme = self.employees["acme"]
        houston = [e for e in acme if e.location.key == "houston"]
        dallas = [e for e in acme if e.location.key == "dallas"]
        martinez = next(
            (e for e in houston if (e.first_name, e.last_name) == ("Tamika", "Martinez")),
            houston[0],
        )
        texas = sorted(self.centers_by_state.get("TX") or self.centers, key=lambda c: c.code)
        hour = timedelta(hours=1)
        dot = VisitPlan(
            account="acme",
            employee=martinez,
            center=texas[0],
            visited_at=self.anchor - 2 * timedelta(days=1) + 15 * hour,
            visit_type=VisitType.NON_INJURY,
            services=("DOT_PHYSICAL",),
            showcase_documents=(("MEC_DOT_CARD", 3 * hour),),
        )
        pending = VisitPlan(
            account="acme",
            employee=dallas[0],
            center=texas[-1],
            visited_at=self.anchor - 30 * hour,
            visit_type=VisitType.NON_INJURY,
            services=("AUDIOGRAM",),
            missing_results=True,
            showcase_documents=(),
        )
        for visit in (dot, pending):
            visit.provider = PROVIDERS[0]
        return [dot, pending]

    # -- documents ----------------------------------------------------------------------------

    def _plan_documents(self, visit: VisitPlan, checked_out_at: datetime) -> list[DocumentPlan]:
        rng = self.rng
        docs: list[DocumentPlan] = []

        def add(code: str, posted_at: datetime) -> None:
            if all(doc.code != code for doc in docs):
                docs.append(DocumentPlan(code, posted_at))

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

    def _documents(self, visits: list[VisitPlan]) -> list[tuple[VisitPlan, DocumentPlan]]:
        rng = self.rng
        documents: list[tuple[VisitPlan, DocumentPlan]] = []
        for visit in visits:
            if visit.checked_in_only:
                visit.status = VisitStatus.CHECKED_IN
                visit.status_changed_at = visit.visited_at
                continue
            checked_out_at = visit.visited_at + timedelta(minutes=rng.randint(40, 150))
            if checked_out_at >= self.anchor:
                checked_out_at = self.anchor - timedelta(minutes=rng.randint(5, 30))
            visit.checked_out_at = max(checked_out_at, visit.visited_at)
            if visit.showcase_documents is not None:
                planned = [
                    DocumentPlan(code, visit.checked_out_at + after)
                    for code, after in visit.showcase_documents
                ]
            else:
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

    def _visit_row(self, visit: VisitPlan) -> None:
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

    def _document_row(self, visit: VisitPlan, doc: DocumentPlan) -> None:
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
        pages, lines = report_content(self.rng, doc.code, visit, ACCOUNT_BY_KEY[visit.account].name)
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
