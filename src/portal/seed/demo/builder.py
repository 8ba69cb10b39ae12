"""The whole demo plan: support requests last, since they refer to visits and documents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from portal.models.enums import (
    SupportRequestStatus,
    SupportRequestType,
    SupportTopic,
    VisitStatus,
)
from portal.seed.demo.facts import demo_id
from portal.seed.demo.plan import DocumentPlan, Plan, VisitPlan
from portal.seed.demo.visits import VisitBuilder


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
    # (author: "user" | "staff" | "note" (an internal staff note), body, hours after opening)
    comments: tuple[tuple[str, str, int], ...] = ()


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
            ("note", "Urgent: privacy office informed; retracting the document now.", 2),
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
        comments=(
            ("note", "Lab interface shows the specimen received; chasing the center.", 3),
            ("staff", "We asked the medical center to post the outstanding results.", 5),
        ),
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
        comments=(
            ("staff", "We are checking with the billing office.", 2),
            ("note", "Billing ticket BL-2291 opened.", 3),
        ),
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


class DemoBuilder(VisitBuilder):
    """Builds every demo row in a fixed order from one seeded random generator."""

    # -- build --------------------------------------------------------------------------------

    def build(self) -> Plan:
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

    # -- support requests ---------------------------------------------------------------------

    def _support_requests(
        self, visits: list[VisitPlan], documents: list[tuple[VisitPlan, DocumentPlan]]
    ) -> None:
        rng = self.rng
        old_enough = self.anchor - timedelta(days=3)
        drafts: list[tuple[datetime, _SupportSpec, VisitPlan | None, DocumentPlan | None]] = []
        for spec in SUPPORT_REQUESTS:
            visit: VisitPlan | None = None
            doc: DocumentPlan | None = None
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
            self._support_request(number, created_at, spec, visit, doc)

    def _support_request(
        self,
        number: int,
        created_at: datetime,
        spec: _SupportSpec,
        visit: VisitPlan | None,
        doc: DocumentPlan | None,
    ) -> None:
        request_number = f"SR-{number:06d}"
        request_id = demo_id("support_request", request_number)
        account_id = demo_id("account", spec.account)
        requester_user = None if spec.requester == "staff" else demo_id("user", spec.requester)
        latest = self.anchor - timedelta(minutes=10)
        last_activity = created_at
        staff_times: list[datetime] = []
        for index, (author, body, hours) in enumerate(spec.comments):
            at = min(created_at + timedelta(hours=hours), latest)
            last_activity = max(last_activity, at)
            by_staff = author in ("staff", "note")
            if by_staff:
                staff_times.append(at)
            self.plan.add(
                "support_comments",
                {
                    "id": demo_id("support_comment", request_number, index),
                    "support_request_id": request_id,
                    "account_id": account_id,
                    "author_user_id": None if by_staff else requester_user,
                    "author_staff_id": self.staff_id if by_staff else None,
                    "body": body,
                    "internal": author == "note",
                    "created_at": at,
                    "updated_at": at,
                },
            )
        history = self._status_history(spec, created_at, staff_times, last_activity)
        resolved_at = next(
            (at for _, to, _, at in reversed(history) if to is SupportRequestStatus.RESOLVED), None
        )
        for index, (from_status, to_status, by_requester, at) in enumerate(history):
            self.plan.add(
                "support_request_status_changes",
                {
                    "id": demo_id("support_status_change", request_number, index),
                    "support_request_id": request_id,
                    "account_id": account_id,
                    "from_status": from_status,
                    "to_status": to_status,
                    "changed_by_user_id": requester_user if by_requester else None,
                    "changed_by_staff_id": None if by_requester else self.staff_id,
                    "changed_at": at,
                },
            )
            last_activity = max(last_activity, at)
        retracted = spec.ref == "retracted" and doc is not None
        if retracted and doc is not None:
            # The privacy path: the document was retracted from this request.
            for row in self.plan.rows["documents"]:
                if row["id"] == doc.id:
                    row["retraction_reason"] = f"Support request {request_number}"
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
                "visit_status": (
                    visit.status
                    if visit is not None and spec.topic is SupportTopic.MISSING_RESULTS
                    else None
                ),
                "resolved_at": resolved_at,
                "resolution": "Removed from your view." if retracted else None,
                "created_at": created_at,
                "updated_at": last_activity,
            },
        )

    def _status_history(
        self,
        spec: _SupportSpec,
        created_at: datetime,
        staff_times: list[datetime],
        last_activity: datetime,
    ) -> list[tuple[SupportRequestStatus | None, SupportRequestStatus, bool, datetime]]:
        """(from, to, by the requester, when) for each step up to the request's status."""
        latest = self.anchor - timedelta(minutes=5)
        steps: list[tuple[SupportRequestStatus | None, SupportRequestStatus, bool, datetime]] = [
            (None, SupportRequestStatus.NEW, spec.requester != "staff", created_at)
        ]
        chain = (
            SupportRequestStatus.IN_PROGRESS,
            SupportRequestStatus.RESOLVED,
            SupportRequestStatus.CLOSED,
        )
        order = (SupportRequestStatus.NEW, *chain)
        wanted = order.index(spec.status)
        taken = min(staff_times[0] if staff_times else created_at + timedelta(hours=1), latest)
        resolved = min(max(staff_times[-1] if staff_times else taken, taken), latest)
        times = {
            SupportRequestStatus.IN_PROGRESS: min(taken, resolved),
            SupportRequestStatus.RESOLVED: resolved,
            SupportRequestStatus.CLOSED: min(
                max(last_activity, resolved) + timedelta(days=2), latest
            ),
        }
        previous = SupportRequestStatus.NEW
        for status in chain[:wanted]:
            by_requester = status is SupportRequestStatus.CLOSED and spec.requester != "staff"
            steps.append((previous, status, by_requester, times[status]))
            previous = status
        return steps
