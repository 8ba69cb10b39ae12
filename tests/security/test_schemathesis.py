"""schemathesis in GraphQL mode against the app served on loopback, signed in as staff.

Every root query and mutation field of the committed SDL (``src/portal/schema/schema.graphql``)
gets a few hypothesis-generated operations, sent over HTTP to a real server process on a database
of its own (so what the mutations write never reaches the other tests). Whatever is sent, the
answer is never a 5xx, every error carries ``extensions.code``, and none is ``INTERNAL`` (an
unexpected exception, masked). The number of examples per field is bounded
(``PORTAL_FUZZ_EXAMPLES``, default 3) so the run stays well under a minute."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes
from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.tokens import SubjectKind, TokenService
from portal.migrations import upgrade_async
from portal.models.db import AccountScope, create_engine, set_scope
from portal.settings import Settings
from portal.storage import LocalDocumentStorage
from tests.security.conftest import serving
from tests.support.database import create_database, drop
from tests.support.world import build_world

SDL = Path(__file__).resolve().parents[2] / "src" / "portal" / "schema" / "schema.graphql"
EXAMPLES = int(os.environ.get("PORTAL_FUZZ_EXAMPLES", "3"))

schemathesis.graphql.scalar(
    "Date",
    st.one_of(
        st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)).map(
            lambda day: nodes.String(day.isoformat())
        ),
        st.text(max_size=12).map(nodes.String),
    ),
)
schemathesis.graphql.scalar(
    "DateTime",
    st.one_of(
        st.datetimes(
            min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
        ).map(lambda moment: nodes.String(moment.isoformat())),
        st.text(max_size=25).map(nodes.String),
    ),
)
schemathesis.graphql.scalar(
    "JSON", st.one_of(st.text(max_size=20).map(nodes.String), st.integers().map(nodes.Int))
)
# Files travel only as multipart parts; in a JSON body an Upload is null or a stray string.
schemathesis.graphql.scalar(
    "Upload", st.one_of(st.just(nodes.Null), st.text(max_size=10).map(nodes.String))
)

SCHEMA = schemathesis.graphql.from_path(SDL)


@pytest.fixture(scope="module")
async def fuzz_settings(
    admin_database_url: str, app_role: str, settings: Settings
) -> AsyncIterator[tuple[Settings, Any]]:
    """A migrated database of its own with the test world in it (same signing key as ``settings``,
    so the session's token service mints tokens the server accepts)."""
    url = await create_database(admin_database_url, app_role, prefix="portal_fuzz")
    engine = None
    try:
        await upgrade_async(url)
        engine = create_engine(url, pool_size=1, max_overflow=0)
        storage = LocalDocumentStorage(root=settings.resolved_data_dir / "documents")
        async with AsyncSession(engine, expire_on_commit=False) as session:
            set_scope(session, AccountScope.everything())
            world = await build_world(session, storage)
            await session.commit()
        yield settings.model_copy(update={"database_url": url}), world
    finally:
        if engine is not None:
            await engine.dispose()
        await drop(admin_database_url, url)


@pytest.fixture(scope="module")
def fuzz_server(
    fuzz_settings: tuple[Settings, Any], tokens: TokenService
) -> Iterator[tuple[str, dict[str, str]]]:
    served_settings, world = fuzz_settings
    token, _ = tokens.mint(kind=SubjectKind.STAFF, subject_id=world.staff.id)
    with serving(served_settings) as url:
        yield url, {"Authorization": f"Bearer {token}"}


def assert_inside_the_contract(response: httpx.Response | Any, sent: str) -> None:
    assert response.status_code < 500, (response.status_code, sent, response.text[:500])
    body = response.json()
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        assert code, ("an error without extensions.code", sent, error)
        assert code != "INTERNAL", ("an unexpected exception", sent, error)


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_generated_operation_breaks_the_error_contract(
    case: Any, fuzz_server: tuple[str, dict[str, str]]
) -> None:
    # Given a generated operation on one root field, sent as staff
    url, headers = fuzz_server
    # When the server answers it
    response = case.call(base_url=f"{url}/graphql", headers=headers, timeout=30)
    # Then the answer is inside the error contract
    assert_inside_the_contract(response, str(case.body)[:300])
