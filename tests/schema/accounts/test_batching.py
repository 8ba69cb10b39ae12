"""Who receives what, for a whole page of contacts, costs a fixed number of statements."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from portal.models import Contact, NotificationPreference, ReportSubscription
from portal.seed.reference import reference_id
from tests.conftest import StatementCounter
from tests.support.graphql import GraphQLClient
from tests.support.world import SUBSCRIBED_REPORT_TYPE, World

CONTACTS = """
query ($first: Int!) {
  account {
    contacts(first: $first) {
      nodes {
        workEmail account { name }
        reportSubscriptions { reportType { code } location { name account { name } } }
        notificationPreferences { emailOnNewResults }
      }
    }
  }
}
"""


async def _add_contacts(db: AsyncSession, world: World, count: int) -> None:
    for n in range(count):
        contact = Contact(
            account_id=world.acme.id,
            first_name=f"Person{n}",
            last_name="Batch",
            work_email=f"person{n}.{uuid.uuid4().hex[:6]}@acme.example",
        )
        db.add(contact)
        await db.flush()
        db.add(
            ReportSubscription(
                account_id=world.acme.id,
                contact_id=contact.id,
                report_type_id=reference_id("report_type", SUBSCRIBED_REPORT_TYPE),
                location_id=world.acme_phoenix.id if n % 2 else world.acme_dallas.id,
            )
        )
        db.add(
            NotificationPreference(
                contact_id=contact.id, account_id=world.acme.id, email_on_new_results=n % 3 == 0
            )
        )
    await db.commit()


async def test_a_page_of_50_costs_the_same_statements_as_a_page_of_5(
    db: AsyncSession, world: World, admin_client: GraphQLClient, count_queries: StatementCounter
) -> None:
    # Given 60 contacts, each with a subscription and preferences
    await _add_contacts(db, world, 60)
    # When a page of 5 and a page of 50 are read with what each contact receives
    count_queries.reset()
    small = (await admin_client(CONTACTS, {"first": 5})).ok()
    small_statements = count_queries.count
    count_queries.reset()
    large = (await admin_client(CONTACTS, {"first": 50})).ok()
    large_statements = count_queries.count
    # Then both cost the same few statements (batch loaders, one per kind)
    assert len(small["account"]["contacts"]["nodes"]) == 5
    nodes = large["account"]["contacts"]["nodes"]
    assert len(nodes) == 50
    assert sum(1 for node in nodes if node["reportSubscriptions"]) >= 45
    assert large_statements == small_statements, count_queries.statements
    assert large_statements <= 12, count_queries.statements
