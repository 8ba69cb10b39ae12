"""Authorizations in every status and of every owner, and HR systems with and without the
authorization scopes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.tokens import SubjectKind, TokenService
from portal.models import (
    ApiClient,
    Authorization,
    AuthorizationEvent,
    AuthorizationRecipient,
    AuthorizationService,
    Employee,
    PortalUser,
)
from portal.models.enums import (
    AuthorizationEventKind,
    AuthorizationState,
    Modality,
    RecipientKind,
)
from portal.schema.authorizations import Authorization as AuthorizationNode
from portal.schema.relay import global_id
from portal.seed.reference import reference_id
from tests.mail.conftest import inbox, mail_settings  # noqa: F401 -- re-exported fixtures
from tests.schema.users.conftest import clients  # noqa: F401 -- re-exported fixture
from tests.support.graphql import GraphQLClient
from tests.support.world import PASSWORD, World

READ_WRITE = ("authorizations:read", "authorizations:write")


def gid(row_id: uuid.UUID) -> str:
    return global_id(AuthorizationNode, row_id)


@dataclass(frozen=True)
class Authorizations:
    basic_active: Authorization  # by basic@acme, Dallas, Alice, ACTIVE, emailed to Alice
    basic_expired: Authorization  # by basic@acme, ended yesterday
    admin_active: Authorization  # by admin@acme, telemedicine, Bob
    admin_cancelled: Authorization  # by admin@acme, cancelled
    admin_deleted: Authorization  # by admin@acme, deleted
    globex_active: Authorization  # Globex's
    contoso_active: Authorization  # Contoso's (Northwind's client)


async def make_authorization(
    db: AsyncSession,
    *,
    employee: Employee,
    creator: PortalUser | None,
    number: str,
    modality: Modality = Modality.IN_CENTER,
    center_id: uuid.UUID | None = None,
    valid_from: date | None = None,
    valid_until: date | None = None,
    cancelled: bool = False,
    deleted_by: PortalUser | None = None,
    client: ApiClient | None = None,
) -> Authorization:
    today = datetime.now(UTC).date()
    now = datetime.now(UTC)
    row = Authorization(
        account_id=employee.account_id,
        number=number,
        employee_id=employee.id,
        location_id=employee.location_id,
        modality=modality,
        medical_center_id=center_id,
        valid_from=valid_from or today - timedelta(days=2),
        valid_until=valid_until or today + timedelta(days=28),
        state=AuthorizationState.CANCELLED if cancelled else AuthorizationState.ACTIVE,
        cancelled_at=now if cancelled else None,
        created_by_user_id=creator.id if creator else None,
        created_by_client_id=client.id if client else None,
        deleted_at=now if deleted_by else None,
        deleted_by_user_id=deleted_by.id if deleted_by else None,
        special_instructions="Use the side entrance.",
    )
    db.add(row)
    await db.flush()
    db.add(
        AuthorizationService(
            authorization_id=row.id,
            service_id=reference_id("service", "DRUG_SCREEN"),
            account_id=row.account_id,
        )
    )
    db.add(
        AuthorizationEvent(
            authorization_id=row.id,
            account_id=row.account_id,
            kind=AuthorizationEventKind.CREATED,
            actor_user_id=creator.id if creator else None,
            actor_client_id=client.id if client else None,
        )
    )
    await db.flush()
    return row


@pytest.fixture
async def authorizations(db: AsyncSession, world: World) -> Authorizations:
    r = world.results
    today = datetime.now(UTC).date()
    dallas = world.centers[0].id
    basic_active = await make_authorization(
        db, employee=r.alice, creator=world.acme_basic, number="T-AUTH-0101", center_id=dallas
    )
    db.add(
        AuthorizationRecipient(
            authorization_id=basic_active.id,
            account_id=world.acme.id,
            kind=RecipientKind.EMPLOYEE,
            name="Alice Smith",
            email=r.alice.email or "",
            sent_at=datetime.now(UTC),
        )
    )
    made = Authorizations(
        basic_active=basic_active,
        basic_expired=await make_authorization(
            db,
            employee=r.alice,
            creator=world.acme_basic,
            number="T-AUTH-0102",
            center_id=dallas,
            valid_from=today - timedelta(days=30),
            valid_until=today - timedelta(days=1),
        ),
        admin_active=await make_authorization(
            db,
            employee=r.bob,
            creator=world.acme_admin,
            number="T-AUTH-0103",
            modality=Modality.TELEMEDICINE,
        ),
        admin_cancelled=await make_authorization(
            db,
            employee=r.bob,
            creator=world.acme_admin,
            number="T-AUTH-0104",
            center_id=dallas,
            cancelled=True,
        ),
        admin_deleted=await make_authorization(
            db,
            employee=r.bob,
            creator=world.acme_admin,
            number="T-AUTH-0105",
            center_id=dallas,
            deleted_by=world.acme_admin,
        ),
        globex_active=await make_authorization(
            db,
            employee=r.gina,
            creator=world.globex_admin,
            number="T-AUTH-0106",
            center_id=world.centers[4].id,
        ),
        contoso_active=await make_authorization(
            db, employee=r.carl, creator=None, number="T-AUTH-0107", center_id=dallas
        ),
    )
    await db.commit()
    return made


async def hr_client(
    db: AsyncSession,
    world: World,
    tokens: TokenService,
    http: httpx.AsyncClient,
    scopes: tuple[str, ...],
) -> tuple[ApiClient, GraphQLClient]:
    from portal.auth.passwords import hash_password

    client = ApiClient(
        account_id=world.acme.id,
        client_id="acme-authz-" + uuid.uuid4().hex[:8],
        secret_hash=hash_password(PASSWORD),
        name="Acme onboarding system",
        scopes=list(scopes),
        created_by_user_id=world.acme_admin.id,
    )
    db.add(client)
    await db.commit()
    token, _ = tokens.mint(kind=SubjectKind.CLIENT, subject_id=client.id, scopes=frozenset(scopes))
    return client, GraphQLClient(http, token)


@pytest.fixture
async def writer(
    db: AsyncSession, world: World, tokens: TokenService, http: httpx.AsyncClient
) -> tuple[ApiClient, GraphQLClient]:
    """An Acme HR system holding `authorizations:read` and `authorizations:write`."""
    return await hr_client(db, world, tokens, http, READ_WRITE)


@pytest.fixture
async def reader(
    db: AsyncSession, world: World, tokens: TokenService, http: httpx.AsyncClient
) -> tuple[ApiClient, GraphQLClient]:
    """An Acme HR system holding `authorizations:read` only."""
    return await hr_client(db, world, tokens, http, ("authorizations:read",))


CREATE = """
mutation ($input: CreateAuthorizationInput!) {
  createAuthorization(input: $input) {
    authorization {
      id number status modality validFrom validUntil sentAt
      employee { id firstName lastName }
      services { code }
      medicalCenter { name }
      recipients { kind email sentAt }
      createdBy { kind name }
      history { kind recipientEmail }
    }
    userErrors { field code message }
  }
}
"""


def service_gid(code: str) -> str:
    from portal.schema.catalog import Service

    return global_id(Service, reference_id("service", code))


def center_gid(center_id: uuid.UUID) -> str:
    from portal.schema.catalog import MedicalCenter

    return global_id(MedicalCenter, center_id)


def employee_gid(employee_id: uuid.UUID) -> str:
    from portal.schema.employees import Employee as EmployeeNode

    return global_id(EmployeeNode, employee_id)


def base_input(world: World, **changes: object) -> dict[str, object]:
    """Alice, a drug screen at Dallas, sent to her."""
    given: dict[str, object] = {
        "employeeId": employee_gid(world.results.alice.id),
        "serviceIds": [service_gid("DRUG_SCREEN")],
        "modality": "IN_CENTER",
        "medicalCenterId": center_gid(world.centers[0].id),
        "specialInstructions": "Use the side entrance.",
    }
    given.update(changes)
    return {key: value for key, value in given.items() if value is not None}


@pytest.fixture
def endpoint_in_transaction(app: Any, sessionmaker: Any) -> Any:
    """The download route inside the test's transaction (as `http` does for /graphql)."""
    endpoint = app.state.downloads
    saved = endpoint.sessionmaker
    endpoint.sessionmaker = sessionmaker
    yield endpoint
    endpoint.sessionmaker = saved


async def see_everything(db: AsyncSession) -> None:
    """Requests in the test's one transaction leave their own account scope on the shared
    connection (transaction-local settings): counting across accounts resets it first."""
    import sqlalchemy as sa

    await db.execute(sa.text("SELECT set_config('portal.all_accounts', 'on', true)"))


async def counts(db: AsyncSession) -> tuple[int, int, int]:
    """How many authorizations, employees and outbox messages exist (every account)."""
    import sqlalchemy as sa

    from portal.models import OutboxMessage

    await see_everything(db)
    found = []
    for table in (Authorization, Employee, OutboxMessage):
        found.append(int(await db.scalar(sa.select(sa.func.count()).select_from(table)) or 0))
    return found[0], found[1], found[2]
