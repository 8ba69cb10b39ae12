"""Account administration tests: every role's client, a real SMTP server on loopback, and a
helper to run the outbox worker once."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import col
from starlette.applications import Starlette

from portal.auth.tokens import SubjectKind, TokenService
from portal.models import AuditEvent
from portal.models.db import AccountScope, create_sessionmaker, set_scope
from portal.settings import Settings
from tests.schema.users.conftest import clients, second_admin, second_admin_client
from tests.support.graphql import GraphQLClient
from tests.support.mail import Inbox, serve_inbox, smtp_settings
from tests.support.world import World

__all__ = ["clients", "second_admin", "second_admin_client"]

ERRORS = "userErrors { field code message }"


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with serve_inbox() as server:
        yield server


@pytest.fixture
def mail_settings(settings: Settings, inbox: Inbox) -> Settings:
    return smtp_settings(settings, inbox.port)


async def audit_events(db: AsyncSession, action: str) -> list[AuditEvent]:
    return list(
        (
            await db.scalars(
                sa.select(AuditEvent)
                .where(col(AuditEvent.action) == action)
                .order_by(col(AuditEvent.occurred_at))
            )
        ).all()
    )


def user_errors(payload: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(error["field"], error["code"]) for error in payload["userErrors"]]


@pytest.fixture
async def committing_clients(
    app: Starlette, engine: AsyncEngine, tokens: TokenService, world: World
) -> AsyncIterator[dict[str, GraphQLClient]]:
    """Clients whose requests run on their own connections, as in production, so that the audit
    of a read (written after the request's own transaction) is really committed. They only read;
    the audit trail is append-only, so the rows they leave disturb no other test."""
    graphql = app.state.graphql
    graphql.sessionmaker = create_sessionmaker(engine)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:

        def mint(
            kind: SubjectKind, subject: uuid.UUID, scopes: frozenset[str] = frozenset()
        ) -> str:
            return tokens.mint(kind=kind, subject_id=subject, scopes=scopes)[0]

        yield {
            "staff": GraphQLClient(client, mint(SubjectKind.STAFF, world.staff.id)),
            "api_client": GraphQLClient(
                client,
                mint(SubjectKind.CLIENT, world.acme_client.id, frozenset(world.acme_client.scopes)),
            ),
            "provider_client": GraphQLClient(
                client,
                mint(
                    SubjectKind.PROVIDER_CLIENT,
                    world.lab_system.id,
                    frozenset(world.lab_system.scopes),
                ),
            ),
        }


async def committed_events(
    engine: AsyncEngine, *, action: str, since: datetime
) -> list[AuditEvent]:
    """Audit events really committed (by ``committing_clients``) since ``since``."""
    async with AsyncSession(engine) as session:
        set_scope(session, AccountScope.everything())
        rows = await session.scalars(
            sa.select(AuditEvent)
            .where(col(AuditEvent.action) == action, col(AuditEvent.occurred_at) >= since)
            .order_by(col(AuditEvent.occurred_at))
        )
        return list(rows.all())
