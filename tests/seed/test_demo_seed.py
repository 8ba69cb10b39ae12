"""The demo seed against a real PostgreSQL: idempotent, consistent, and its PDFs are real."""

from __future__ import annotations

import hashlib
import io
import time
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pypdf
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from portal.auth.passwords import verify_password
from portal.models import (
    AccessRequest,
    Account,
    Authorization,
    Contact,
    Document,
    Employee,
    MedicalCenter,
    PortalLink,
    PortalUser,
    ReportSubscription,
    ReportType,
    Service,
    ServicePackage,
    SQLModel,
    StaffUser,
    SupportComment,
    SupportRequest,
    SupportRequestStatusChange,
    UserPermission,
    Visit,
)
from portal.models.db import AccountScope, scoped_session
from portal.models.enums import (
    AccessRequestStatus,
    AuthorizationState,
    AuthorizationStatus,
    Permission,
    Role,
    SupportRequestStatus,
    SupportTopic,
    UserStatus,
)
from portal.seed.demo import DemoSummary, demo_id, insert_demo_data, seed_demo
from portal.seed.pdfs import render_document_pdf
from portal.seed.reference import REPORT_TYPES, SERVICES, seed_reference_data
from portal.storage import DocumentNotFoundError, InvalidStorageKeyError, LocalDocumentStorage

PASSWORD = "Demo-Passw0rd!"
TODAY = date(2026, 9, 15)
MIDNIGHT = datetime.combine(TODAY, datetime.min.time(), tzinfo=UTC)

Sessions = async_sessionmaker[AsyncSession]


@dataclass(frozen=True)
class Seeded:
    first: DemoSummary
    second: DemoSummary
    counts_after_first: dict[str, int]
    counts_after_second: dict[str, int]
    storage: LocalDocumentStorage
    seconds: float


async def table_counts(session: AsyncSession) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in SQLModel.metadata.sorted_tables:
        counts[table.name] = int(
            await session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
        )
    return counts


def everything(sessionmaker: Sessions) -> AbstractAsyncContextManager[AsyncSession]:
    return scoped_session(sessionmaker, AccountScope.everything())


@pytest.fixture(scope="session")
async def seeded(sessionmaker: Sessions, tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    storage = LocalDocumentStorage(root=tmp_path_factory.mktemp("documents"))
    started = time.perf_counter()
    async with sessionmaker() as session:
        first = await seed_demo(session, password=PASSWORD, storage=storage, today=TODAY)
    seconds = time.perf_counter() - started
    async with everything(sessionmaker) as session:
        counts_after_first = await table_counts(session)
    async with sessionmaker() as session:
        second = await seed_demo(session, password=PASSWORD, storage=storage, today=TODAY)
    async with everything(sessionmaker) as session:
        counts_after_second = await table_counts(session)
    return Seeded(first, second, counts_after_first, counts_after_second, storage, seconds)


async def test_seeding_twice_changes_nothing(seeded: Seeded) -> None:
    assert seeded.first == seeded.second
    assert seeded.counts_after_first == seeded.counts_after_second
    assert seeded.seconds < 60, f"seeding took {seeded.seconds:.1f} s"


async def test_inserting_again_on_another_day_duplicates_nothing(
    seeded: Seeded, sessionmaker: Sessions, tmp_path: Path
) -> None:
    # Ids and numbers do not depend on the date, so every row conflicts and is skipped.
    async with everything(sessionmaker) as session:
        await insert_demo_data(
            session,
            password=PASSWORD,
            storage=LocalDocumentStorage(root=tmp_path),
            today=TODAY + timedelta(days=3),
        )
        assert await table_counts(session) == seeded.counts_after_first
        await session.rollback()


async def test_summary_matches_the_tables(seeded: Seeded, sessionmaker: Sessions) -> None:
    async def count(model: type[SQLModel], *where: sa.ColumnElement[bool]) -> int:
        statement = sa.select(sa.func.count()).select_from(model).where(*where)
        return int(await session.scalar(statement) or 0)

    async with everything(sessionmaker) as session:
        archive_before = MIDNIGHT - timedelta(days=90)
        expected = DemoSummary(
            accounts=await count(Account),
            users=await count(PortalUser),
            staff=await count(StaffUser),
            employees=await count(Employee),
            medical_centers=await count(MedicalCenter),
            authorizations=await count(Authorization),
            visits=await count(Visit),
            documents=await count(Document),
            archived_documents=await count(Document, col(Document.posted_at) < archive_before),
            support_requests=await count(SupportRequest),
        )
    summary = seeded.first
    assert summary == expected
    assert (summary.accounts, summary.staff, summary.employees) == (5, 1, 300)
    assert summary.users >= 4
    assert summary.medical_centers == 50
    assert 140 <= summary.authorizations <= 160
    assert 200 <= summary.visits <= 300
    assert 350 <= summary.documents <= 550
    assert summary.support_requests == 20


async def test_documents_span_six_months_and_some_are_archived(
    seeded: Seeded, sessionmaker: Sessions
) -> None:
    assert 0 < seeded.first.archived_documents < seeded.first.documents
    async with everything(sessionmaker) as session:
        oldest, newest = (
            await session.execute(
                sa.select(
                    sa.func.min(col(Document.posted_at)), sa.func.max(col(Document.posted_at))
                )
            )
        ).one()
    assert newest < MIDNIGHT, "nothing is posted in the future"
    assert MIDNIGHT - timedelta(days=185) < oldest < MIDNIGHT - timedelta(days=150)


async def test_stored_documents_hash_to_their_sha256_and_open(
    seeded: Seeded, sessionmaker: Sessions
) -> None:
    async with everything(sessionmaker) as session:
        rows = (
            await session.execute(
                sa.select(
                    col(Document.storage_key),
                    col(Document.sha256),
                    col(Document.size_bytes),
                    col(Document.page_count),
                )
                .order_by(col(Document.id))
                .limit(10)
            )
        ).all()
        page_counts = set(
            (await session.scalars(sa.select(col(Document.page_count)).distinct())).all()
        )
    assert len(rows) == 10
    assert len(page_counts) > 1, "documents have different page counts"
    for storage_key, sha256, size_bytes, page_count in rows:
        data = await seeded.storage.get(storage_key)
        assert hashlib.sha256(data).hexdigest() == sha256
        assert len(data) == size_bytes
        reader = pypdf.PdfReader(io.BytesIO(data))
        assert len(reader.pages) == page_count


async def test_documents_belong_to_their_visit(seeded: Seeded, sessionmaker: Sessions) -> None:
    async with everything(sessionmaker) as session:
        mismatched = await session.scalar(
            sa.select(sa.func.count())
            .select_from(Document)
            .join(Visit, col(Visit.id) == col(Document.visit_id))
            .join(ReportType, col(ReportType.id) == col(Document.report_type_id))
            .where(
                sa.or_(
                    col(Visit.employee_id) != col(Document.employee_id),
                    col(Visit.location_id) != col(Document.location_id),
                    sa.cast(col(ReportType.category), sa.String)
                    != sa.cast(col(Visit.visit_type), sa.String),
                )
            )
        )
        unused = await session.scalar(
            sa.select(sa.func.count())
            .select_from(Visit)
            .join(Authorization, col(Authorization.id) == col(Visit.authorization_id))
            .where(col(Authorization.state) != AuthorizationState.USED)
        )
    assert mismatched == 0
    assert unused == 0


async def test_one_document_is_retracted_by_staff(seeded: Seeded, sessionmaker: Sessions) -> None:
    async with everything(sessionmaker) as session:
        retracted = (
            await session.execute(
                sa.select(
                    col(Document.retracted_by_staff_id), col(Document.retraction_reason)
                ).where(col(Document.retracted_at).is_not(None))
            )
        ).all()
        privacy = (
            await session.execute(
                sa.select(col(SupportRequest.document_id), col(SupportRequest.urgent)).where(
                    col(SupportRequest.topic) == SupportTopic.PRIVACY
                )
            )
        ).all()
    assert len(retracted) == 1
    assert retracted[0].retracted_by_staff_id == demo_id("staff", "support@portal.example")
    assert retracted[0].retraction_reason
    assert len(privacy) == 1
    assert privacy[0].urgent is True
    assert privacy[0].document_id is not None


async def test_the_tpa_has_two_employer_clients(seeded: Seeded, sessionmaker: Sessions) -> None:
    async with everything(sessionmaker) as session:
        tpa = (
            await session.execute(
                sa.select(col(Account.id)).where(col(Account.is_third_party_administrator))
            )
        ).scalar_one()
        clients = (
            await session.scalars(
                sa.select(col(Account.name))
                .where(col(Account.parent_account_id) == tpa)
                .order_by(col(Account.name))
            )
        ).all()
    assert tpa == demo_id("account", "northwind")
    assert list(clients) == ["Contoso Freight", "Initech Fabrication"]


async def test_demo_logins_have_their_roles_and_password(
    seeded: Seeded, sessionmaker: Sessions
) -> None:
    expected = {
        "admin@acme.example": Role.USER_ADMIN,
        "basic@acme.example": Role.BASIC,
        "visits@acme.example": Role.BASIC,
        "admin@globex.example": Role.USER_ADMIN,
        "admin@northwind.example": Role.USER_ADMIN,
    }
    async with everything(sessionmaker) as session:
        users = {
            row.email: row
            for row in (
                await session.execute(
                    sa.select(
                        col(PortalUser.email),
                        col(PortalUser.role),
                        col(PortalUser.status),
                        col(PortalUser.password_hash),
                    )
                )
            ).all()
        }
        staff_hash = await session.scalar(
            sa.select(col(StaffUser.password_hash)).where(
                col(StaffUser.email) == "support@portal.example"
            )
        )
    for email, role in expected.items():
        user = users[email]
        assert user.role == role
        assert user.status == UserStatus.ACTIVE
        assert verify_password(user.password_hash, PASSWORD)
        assert not verify_password(user.password_hash, "wrong password")
    assert staff_hash is not None
    assert verify_password(staff_hash, PASSWORD)


async def test_basic_user_has_subscriptions_but_not_visit_activity(
    seeded: Seeded, sessionmaker: Sessions
) -> None:
    async with everything(sessionmaker) as session:
        subscriptions = (
            await session.execute(
                sa.select(
                    col(ReportSubscription.report_type_id), col(ReportSubscription.location_id)
                ).where(
                    col(ReportSubscription.contact_id) == demo_id("contact", "basic@acme.example")
                )
            )
        ).all()
        matching_documents = await session.scalar(
            sa.select(sa.func.count())
            .select_from(Document)
            .join(
                ReportSubscription,
                sa.and_(
                    col(ReportSubscription.report_type_id) == col(Document.report_type_id),
                    col(ReportSubscription.location_id) == col(Document.location_id),
                ),
            )
            .where(col(ReportSubscription.contact_id) == demo_id("contact", "basic@acme.example"))
        )
        granted = (
            await session.scalars(
                sa.select(col(PortalUser.email))
                .join(UserPermission, col(UserPermission.user_id) == col(PortalUser.id))
                .where(col(UserPermission.permission) == Permission.VIEW_VISIT_ACTIVITY)
            )
        ).all()
    assert len(subscriptions) >= 2
    assert (matching_documents or 0) > 0
    assert "visits@acme.example" in granted
    assert "basic@acme.example" not in granted


async def test_reference_data_is_complete_and_upserts_in_place(sessionmaker: Sessions) -> None:
    async with everything(sessionmaker) as session:
        await seed_reference_data(session)
        await seed_reference_data(session)
        codes = set((await session.scalars(sa.select(col(ReportType.code)))).all())
        services = set((await session.scalars(sa.select(col(Service.code)))).all())
        links = (
            await session.execute(sa.select(col(PortalLink.url), col(PortalLink.published_at)))
        ).all()
        await session.commit()
    assert codes == {spec.code for spec in REPORT_TYPES}
    assert len(codes) == 24
    assert "EMPLOYER_PATIENT_VISIT_REPORT" in codes
    assert services == {spec.code for spec in SERVICES}
    assert len(services) >= 15
    assert links
    for url, published_at in links:
        assert url.startswith("https://")
        assert ".example/" in url
        assert published_at is not None


def test_pdf_rendering_is_deterministic() -> None:
    arguments = {
        "title": "Audiogram Results - 2026-08-14",
        "employee_name": "Maria O'Brien",
        "date_of_birth": date(1984, 3, 9),
        "visit_date": date(2026, 8, 14),
        "center_name": "Dallas Occupational Health",
        "report_type_name": "Audiogram Results",
        "pages": 3,
        "lines": [f"Line {number}" for number in range(12)],
    }
    first = render_document_pdf(**arguments)  # type: ignore[arg-type]
    assert first == render_document_pdf(**arguments)  # type: ignore[arg-type]
    assert first.startswith(b"%PDF-")
    assert len(pypdf.PdfReader(io.BytesIO(first)).pages) == 3


def stored_files(root: Path) -> list[str]:
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file())


async def test_local_storage_round_trip_and_dedupe(tmp_path: Path) -> None:
    storage = LocalDocumentStorage(root=tmp_path)
    key = await storage.put(b"%PDF-1.3 demo")
    assert key == hashlib.sha256(b"%PDF-1.3 demo").hexdigest()
    assert await storage.put(b"%PDF-1.3 demo") == key
    assert await storage.exists(key)
    assert await storage.get(key) == b"%PDF-1.3 demo"
    assert stored_files(tmp_path) == [f"{key[:2]}/{key[2:4]}/{key}.pdf"]
    missing = "0" * 64
    assert not await storage.exists(missing)
    with pytest.raises(DocumentNotFoundError):
        await storage.get(missing)


@pytest.mark.parametrize(
    "key",
    ["../../etc/passwd", "A" * 64, "0" * 63, "0" * 65, "", f"{'0' * 62}/..", "0" * 63 + "\n"],
)
async def test_local_storage_refuses_keys_that_are_not_a_sha256(tmp_path: Path, key: str) -> None:
    storage = LocalDocumentStorage(root=tmp_path)
    with pytest.raises(InvalidStorageKeyError):
        await storage.get(key)
    with pytest.raises(InvalidStorageKeyError):
        await storage.exists(key)


async def test_access_requests_wait_for_a_user_admin(
    seeded: Seeded, sessionmaker: Sessions
) -> None:
    # Support asked for Tom Becker (Acme, no login yet): admin@acme.example decides in GraphiQL
    async with everything(sessionmaker) as session:
        rows = (
            await session.execute(
                sa.select(col(Contact.work_email), col(AccessRequest.status)).join(
                    Contact, col(Contact.id) == col(AccessRequest.contact_id)
                )
            )
        ).all()
        logins = (await session.scalars(sa.select(col(PortalUser.email)))).all()
    assert ("tom.becker@acme.example", AccessRequestStatus.PENDING) in rows
    assert all(status is AccessRequestStatus.PENDING for _, status in rows)
    assert "tom.becker@acme.example" not in logins


async def test_the_readme_walk_throughs_find_what_they_describe(
    seeded: Seeded, sessionmaker: Sessions
) -> None:
    """Walk-through 2: the Basic user's search "martinez tam" finds a current result, and both of
    that user's locations have current results; walk-through 4: a visit inside its 72 hours."""
    basic = demo_id("contact", "basic@acme.example")
    current = MIDNIGHT - timedelta(days=30)
    async with everything(sessionmaker) as session:
        subscribed = (
            sa.select(
                col(Document.location_id),
                col(Employee.first_name),
                col(Employee.last_name),
                col(Document.name),
            )
            .join(Employee, col(Employee.id) == col(Document.employee_id))
            .join(
                ReportSubscription,
                sa.and_(
                    col(ReportSubscription.report_type_id) == col(Document.report_type_id),
                    col(ReportSubscription.location_id) == col(Document.location_id),
                ),
            )
            .where(
                col(ReportSubscription.contact_id) == basic,
                col(Document.posted_at) > current,
                col(Document.retracted_at).is_(None),
            )
        )
        rows = (await session.execute(subscribed)).all()
        subscription_locations = set(
            await session.scalars(
                sa.select(col(ReportSubscription.location_id)).where(
                    col(ReportSubscription.contact_id) == basic
                )
            )
        )
        pending = (
            await session.scalars(
                sa.select(Visit).where(
                    col(Visit.status) == "RESULTS_PENDING",
                    col(Visit.visit_type) == "NON_INJURY",
                    col(Visit.visited_at) > MIDNIGHT - timedelta(hours=72),
                )
            )
        ).all()
    assert {row.location_id for row in rows} == subscription_locations
    assert any(
        "tam" in f"{row.first_name} {row.last_name}".lower() and "martinez" in row.last_name.lower()
        for row in rows
    )
    # Document names carry the service date.
    assert all(row.name[-10:].count("-") == 2 for row in rows)
    assert pending


# Support requests: every status, internal notes, the privacy request resolved by a retraction,
# a history for each, and numbering that continues after them.
async def test_every_status_an_internal_note_and_a_history_each(
    seeded: Seeded, sessionmaker: Sessions
) -> None:
    async with everything(sessionmaker) as session:
        statuses = set(await session.scalars(sa.select(col(SupportRequest.status)).distinct()))
        notes = await session.scalar(
            sa.select(sa.func.count())
            .select_from(SupportComment)
            .where(col(SupportComment.internal).is_(True))
        )
        without_history = await session.scalar(
            sa.select(sa.func.count())
            .select_from(SupportRequest)
            .where(
                ~sa.exists().where(
                    col(SupportRequestStatusChange.support_request_id) == col(SupportRequest.id),
                    col(SupportRequestStatusChange.to_status) == col(SupportRequest.status),
                )
            )
        )
        unresolved_resolved = await session.scalar(
            sa.select(sa.func.count())
            .select_from(SupportRequest)
            .where(
                col(SupportRequest.status).in_(
                    [SupportRequestStatus.RESOLVED, SupportRequestStatus.CLOSED]
                ),
                col(SupportRequest.resolved_at).is_(None),
            )
        )
    assert statuses == set(SupportRequestStatus)
    assert notes is not None
    assert notes >= 2
    assert without_history == 0
    assert unresolved_resolved == 0


async def test_the_privacy_request_retracted_its_document(
    seeded: Seeded, sessionmaker: Sessions
) -> None:
    async with everything(sessionmaker) as session:
        request = (
            await session.scalars(
                sa.select(SupportRequest).where(col(SupportRequest.topic) == SupportTopic.PRIVACY)
            )
        ).one()
        document = await session.get(Document, request.document_id)
    assert request.status is SupportRequestStatus.RESOLVED
    assert request.resolution == "Removed from your view."
    assert document is not None
    assert document.retraction_reason == f"Support request {request.number}"


async def test_new_request_numbers_continue_after_the_demos(
    seeded: Seeded, sessionmaker: Sessions
) -> None:
    async with everything(sessionmaker) as session:
        highest = await session.scalar(sa.select(sa.func.max(col(SupportRequest.number))))
        following = await session.scalar(sa.text("SELECT nextval('support_request_numbers')"))
    assert highest == "SR-000020"
    assert following is not None
    assert following > 20


async def test_acme_has_authorizations_in_every_status_and_a_template(
    seeded: Seeded, sessionmaker: Sessions
) -> None:
    acme = demo_id("account", "acme")
    basic = demo_id("user", "basic@acme.example")

    def status(state: AuthorizationState, valid_until: date) -> str:
        # As `authorizations` derives it, on the demo's day.
        if state is AuthorizationState.ACTIVE and valid_until < TODAY:
            return AuthorizationStatus.EXPIRED.value
        return state.value

    async with everything(sessionmaker) as session:
        rows = (
            await session.execute(
                sa.select(
                    col(Authorization.state),
                    col(Authorization.valid_until),
                    col(Authorization.created_by_user_id),
                    col(Authorization.template_id),
                ).where(col(Authorization.account_id) == acme)
            )
        ).all()
        packages = await session.scalar(
            sa.select(sa.func.count())
            .select_from(ServicePackage)
            .where(col(ServicePackage.account_id) == acme)
        )
    assert {status(r.state, r.valid_until) for r in rows} == {s.value for s in AuthorizationStatus}
    by_basic = {status(r.state, r.valid_until) for r in rows if r.created_by_user_id == basic}
    assert {AuthorizationStatus.ACTIVE.value, AuthorizationStatus.EXPIRED.value} <= by_basic
    assert len([r for r in rows if r.template_id is not None]) >= 3
    assert (packages or 0) >= 1
