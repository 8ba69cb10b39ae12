"""A page of 50 documents with everything nested costs the same statements as a page of 5."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import Document, Employee, Visit
from portal.models.enums import VisitStatus, VisitType
from portal.seed.reference import REPORT_TYPES, reference_id
from tests.conftest import StatementCounter
from tests.support.graphql import GraphQLClient
from tests.support.world import World

PAGE = """
query ($first: Int!) {
  documents(first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id name postedAt pageCount
      reportType { code name category }
      employee { id firstName lastName dateOfBirth }
      visit { id visitType claimNumber status }
      medicalCenter { id name state }
      location { id name state }
    } }
  }
}
"""


async def _add_documents(db: AsyncSession, world: World, count: int) -> None:
    """``count`` documents, each with its own employee and visit, over centers, locations and
    report types, so every loader sees many keys."""
    now = datetime.now(UTC)
    locations = [world.acme_dallas, world.acme_phoenix]
    for n in range(count):
        location = locations[n % 2]
        employee = Employee(
            account_id=world.acme.id,
            location_id=location.id,
            first_name=f"Batch{n}",
            last_name="Person",
            date_of_birth=date(1980, 1, 1) + timedelta(days=n),
            employee_number=f"B-{n:04d}",
        )
        db.add(employee)
        await db.flush()
        visit = Visit(
            account_id=world.acme.id,
            employee_id=employee.id,
            location_id=location.id,
            medical_center_id=world.centers[n % len(world.centers)].id,
            visited_at=now - timedelta(hours=n + 5),
            visit_type=VisitType.NON_INJURY,
            status=VisitStatus.COMPLETE,
            checked_out_at=now - timedelta(hours=n + 4),
        )
        db.add(visit)
        await db.flush()
        db.add(
            Document(
                account_id=world.acme.id,
                visit_id=visit.id,
                employee_id=employee.id,
                location_id=location.id,
                report_type_id=reference_id("report_type", REPORT_TYPES[n % 7].code),
                name=f"Result {n}",
                posted_at=now - timedelta(minutes=n),
                page_count=1,
                size_bytes=1000,
                sha256=f"{n:064x}",
                storage_key=f"{n:064x}",
            )
        )
    await db.commit()


async def test_a_page_of_50_documents_costs_the_same_statements_as_a_page_of_5(
    db: AsyncSession, world: World, admin_client: GraphQLClient, count_queries: StatementCounter
) -> None:
    # given more than 50 Acme documents, each with its own employee and visit
    await _add_documents(db, world, 60)

    # when a page of 5 and a page of 50 are asked for with every relation nested
    count_queries.reset()
    small = (await admin_client(PAGE, {"first": 5})).ok()
    small_statements = count_queries.count
    count_queries.reset()
    large = (await admin_client(PAGE, {"first": 50})).ok()
    large_statements = count_queries.count

    # then both cost the same, small, fixed number of statements
    assert len(small["documents"]["edges"]) == 5
    assert len(large["documents"]["edges"]) == 50
    assert all(edge["node"]["employee"]["firstName"] for edge in large["documents"]["edges"])
    assert large_statements == small_statements, count_queries.statements
    # principal (scope, then the user with permissions and account family), request scope, the
    # page with its count, one for report types, employees, visits, centers and locations
    # together (schema/related.py); the audit write runs on its own connection here
    assert large_statements <= 6, count_queries.statements
