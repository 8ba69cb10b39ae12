"""Hardening 8: junk tokens cannot flood the append-only audit trail: rejections are recorded
at most once per client address and minute, and the next record says how many were left out."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.auth.rejections import RejectedTokens
from portal.models import AuditEvent
from tests.support.graphql import GraphQLClient


async def rejections_recorded(db: AsyncSession) -> list[AuditEvent]:
    return list(
        await db.scalars(
            sa.select(AuditEvent)
            .where(col(AuditEvent.action) == "token.rejected")
            .order_by(col(AuditEvent.occurred_at))
        )
    )


async def test_a_burst_of_junk_tokens_adds_one_audit_row(
    anonymous_client: GraphQLClient, db: AsyncSession
) -> None:
    # Given no rejection recorded yet in this test
    before = len(await rejections_recorded(db))

    # When one address sends 50 requests with junk tokens
    for attempt in range(50):
        response = await anonymous_client(
            "{ viewer { email } }", headers={"Authorization": f"Bearer junk-{attempt}"}
        )
        # Then each is refused as before
        assert response.status_code == 401
        assert response.error_codes() == ["UNAUTHENTICATED"]

    # And the trail holds one new row for the burst, not fifty
    assert len(await rejections_recorded(db)) == before + 1


def test_the_next_minute_records_again_with_the_count_left_out() -> None:
    # Given a ledger on a clock we move
    now = [1000.0]
    ledger = RejectedTokens(clock=lambda: now[0])

    # When an address is refused 5 times in a minute, then once more a minute later
    verdicts = [ledger.note("198.51.100.7") for _ in range(5)]
    now[0] += 61
    later = ledger.note("198.51.100.7")

    # Then the first is recorded, the next four are counted, and the later one carries the count
    assert [v.record for v in verdicts] == [True, False, False, False, False]
    assert later.record
    assert later.suppressed_before == 4
    # And another address is recorded on its own
    assert ledger.note("203.0.113.1").record


def test_the_ledger_stays_bounded() -> None:
    ledger = RejectedTokens(max_addresses=3)
    for index in range(10):
        ledger.note(f"192.0.2.{index}")
    assert ledger.note("192.0.2.0").record  # forgotten, so recorded again
