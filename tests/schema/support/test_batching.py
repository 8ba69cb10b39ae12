"""A page of support requests with every nested field costs the same statements at any size."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import SupportComment, SupportRequest, SupportRequestStatusChange
from portal.models.base import utcnow
from portal.models.enums import SupportRequestStatus, SupportRequestType, SupportTopic
from tests.conftest import StatementCounter
from tests.support.graphql import GraphQLClient
from tests.support.world import World

PAGE = """
query ($first: Int!) {
  supportRequests(first: $first) {
    totalCount
    nodes {
      id number status urgent commentCount allowedNextStatuses
      account { name }
      requester { name }
      assignedTo { name }
      document { id name }
      visit { id status }
      comments { body author { name isStaff } }
      history { toStatus changedBy { name } }
    }
  }
}
"""


async def _add_requests(db: AsyncSession, world: World, count: int) -> None:
    now = utcnow()
    documents = [world.results.subscribed, world.results.other_type, world.results.other_location]
    for n in range(count):
        document = documents[n % len(documents)]
        request = SupportRequest(
            account_id=world.acme.id,
            number=f"SR-B{n:05d}",
            request_type=SupportRequestType.TREATMENT_RESULT,
            topic=SupportTopic.SERVICES_QUESTION,
            status=SupportRequestStatus.IN_PROGRESS,
            requester_user_id=(world.acme_basic if n % 2 else world.acme_visits).id,
            assigned_staff_id=world.staff.id,
            document_id=document.id,
            visit_id=document.visit_id,
            subject=f"Question {n}",
            description="About this result.",
            created_at=now - timedelta(minutes=n),
        )
        db.add(request)
        await db.flush()
        db.add_all(
            [
                SupportComment(
                    support_request_id=request.id,
                    account_id=world.acme.id,
                    author_staff_id=world.staff.id,
                    body="Looking into it.",
                ),
                SupportRequestStatusChange(
                    support_request_id=request.id,
                    account_id=world.acme.id,
                    to_status=SupportRequestStatus.NEW,
                    changed_by_user_id=request.requester_user_id,
                ),
            ]
        )
    await db.commit()


async def test_a_page_of_50_costs_the_same_statements_as_a_page_of_5(
    db: AsyncSession, world: World, admin_client: GraphQLClient, count_queries: StatementCounter
) -> None:
    # Given 60 Acme requests, each with a comment and a history
    await _add_requests(db, world, 60)
    # When a page of 5 and a page of 50 are read with every nested field
    count_queries.reset()
    small = (await admin_client(PAGE, {"first": 5})).ok()
    small_statements = count_queries.count
    count_queries.reset()
    large = (await admin_client(PAGE, {"first": 50})).ok()
    large_statements = count_queries.count
    # Then both cost the same, fixed number of statements
    assert len(small["supportRequests"]["nodes"]) == 5
    nodes = large["supportRequests"]["nodes"]
    assert len(nodes) == 50
    assert all(node["comments"][0]["author"]["name"] == "Sam Support" for node in nodes)
    assert all(node["requester"]["name"] for node in nodes)
    assert large_statements == small_statements, count_queries.statements
    # principal and scope, page, count, then one each for accounts, requesters, staff names,
    # documents, visits, comments and histories, and the audit write
    assert large_statements <= 16, count_queries.statements
