"""createAuthorizationsFromTemplate with 500 new employees: time and SQL statements per call.

Run: ``PORTAL_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
.venv/bin/python -m bench.authorizations_bulk [--employees 500] [--runs 5]``.
It creates a scratch database and a login role bound by row-level security (as in production),
migrates, seeds the demo, then has Acme's User Admin authorize ``--employees`` new hires from a
template over GraphQL HTTP (in process), first as a dry run, then for real, ``--runs`` times each,
printing the time and the statements each call sent. It drops the database and the role. A
benchmark, not a test: it never fails on time."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import event

from portal.app import create_app
from portal.auth.tokens import SubjectKind
from portal.embedded import (
    database_url,
    drop_app_role,
    drop_database,
    ensure_app_role,
    ensure_database,
)
from portal.migrations import upgrade_async
from portal.models.db import AccountScope, create_engine, create_sessionmaker, scoped_session
from portal.seed.demo import demo_id, seed_demo
from portal.settings import Settings
from portal.storage import LocalDocumentStorage

BULK = """
mutation ($input: CreateAuthorizationsFromTemplateInput!) {
  createAuthorizationsFromTemplate(input: $input) {
    authorizations { id }
    rows { index userErrors { code } }
    userErrors { field code message }
  }
}
"""
TEMPLATE = """
{ authorizations(first: 1, filter: {modality: IN_CENTER}) { nodes { id } } }
"""
LOCATION = "{ account { locations(first: 1) { nodes { id } } } }"


def hires(location_id: str, count: int, tag: str) -> list[dict[str, Any]]:
    return [
        {
            "newEmployee": {
                "firstName": f"Bench{n}",
                "lastName": f"Hire{tag}",
                "dateOfBirth": "1996-06-06",
                "locationId": location_id,
                "employeeNumber": f"{tag}-{n:05d}",
                "email": f"bench{n}.{tag.lower()}@mail.example",
            }
        }
        for n in range(count)
    ]


async def main(*, employees: int, runs: int) -> None:
    admin = os.environ.get("PORTAL_TEST_DATABASE_URL") or os.environ.get("PORTAL_DATABASE_URL")
    if not admin:
        raise SystemExit("set PORTAL_TEST_DATABASE_URL to an admin URL of a PostgreSQL server")
    name = f"portal_bench_{uuid.uuid4().hex[:8]}"
    role = f"portal_bench_{uuid.uuid4().hex[:8]}"
    await ensure_app_role(admin, role)
    await ensure_database(admin, name, owner=role)
    url = database_url(admin, name, user=role)
    try:
        await upgrade_async(url)
        settings = Settings(
            database_url=url,
            environment="test",
            mail_worker_enabled=False,
            data_dir=Path(tempfile.mkdtemp(prefix="portal-bench-")),
        )
        engine = create_engine(url)
        async with scoped_session(create_sessionmaker(engine), AccountScope.everything()) as s:
            await seed_demo(
                s,
                password=settings.demo_password.get_secret_value(),
                storage=LocalDocumentStorage(root=settings.resolved_data_dir / "documents"),
                today=date.today(),
            )
        await engine.dispose()
        app = create_app(settings)
        statements: list[str] = []

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement)

        event.listen(app.state.engine.sync_engine, "before_cursor_execute", count)
        token, _ = app.state.tokens.mint(
            kind=SubjectKind.USER, subject_id=demo_id("user", "admin@acme.example")
        )
        headers = {"Authorization": f"Bearer {token}"}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:

            async def post(query: str, variables: dict[str, Any] | None = None) -> Any:
                response = await client.post(
                    "/graphql", json={"query": query, "variables": variables}, headers=headers
                )
                body = response.json()
                if response.status_code != 200 or body.get("errors"):
                    raise SystemExit(f"failed: {response.text[:500]}")
                return body["data"]

            template = (await post(TEMPLATE))["authorizations"]["nodes"][0]["id"]
            location = (await post(LOCATION))["account"]["locations"]["nodes"][0]["id"]
            for dry_run in (True, False):
                timings: list[float] = []
                counts: list[int] = []
                for run in range(runs):
                    given = {
                        "templateId": template,
                        "employees": hires(location, employees, f"R{run}{int(dry_run)}"),
                        "dryRun": dry_run,
                    }
                    statements.clear()
                    started = time.perf_counter()
                    data = await post(BULK, {"input": given})
                    timings.append((time.perf_counter() - started) * 1000)
                    counts.append(len(statements))
                    payload = data["createAuthorizationsFromTemplate"]
                    if payload["userErrors"]:
                        raise SystemExit(f"refused: {payload['userErrors'][:3]}")
                    made = payload["authorizations"] or []
                    if not dry_run and len(made) != employees:
                        raise SystemExit(f"made {len(made)} of {employees}")
                label = "dry run" if dry_run else "create "
                print(
                    f"{label} {employees} employees: runs={runs} "
                    f"mean={statistics.mean(timings):8.1f} ms "
                    f"min={min(timings):8.1f} ms max={max(timings):8.1f} ms "
                    f"statements per call={sorted(set(counts))}"
                )
        await app.state.engine.dispose()
    finally:
        await drop_database(admin, name)
        await drop_app_role(admin, role)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--employees", type=int, default=500)
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    asyncio.run(main(employees=arguments.employees, runs=arguments.runs))
