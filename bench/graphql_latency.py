"""In-process latency of representative GraphQL queries on the demo data.

Run: ``.venv/bin/python -m bench.graphql_latency [--requests 200]``. It uses PORTAL_DATABASE_URL,
or the embedded PostgreSQL under the data folder, seeds the demo if needed, and prints figures.
A benchmark, not a test: it never fails on time."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import date

import httpx

from portal.app import create_app
from portal.auth.tokens import SubjectKind
from portal.cli import resolve_database_url
from portal.migrations import upgrade_async
from portal.models.db import AccountScope, create_engine, create_sessionmaker, scoped_session
from portal.seed.demo import demo_id, seed_demo
from portal.settings import get_settings
from portal.storage import LocalDocumentStorage

QUERIES = {
    "viewer": "{ viewer { email role account { name } } }",
    "account+locations+contacts": (
        "{ account { name locations { totalCount nodes { name state } } "
        "contacts(first: 50) { totalCount nodes { workEmail role } } } }"
    ),
    "medicalCenters(first: 50)": (
        "{ medicalCenters(first: 50) { totalCount edges { cursor node { id name state address "
        "{ city } } } } }"
    ),
}


async def main(requests: int) -> None:
    settings = get_settings()
    url = await asyncio.to_thread(resolve_database_url, settings)
    # Budgets off: a benchmark is one caller sending as fast as it can.
    settings = settings.model_copy(update={"database_url": url, "rate_limit_points": 0})
    assert settings.database_url
    await upgrade_async(settings.database_url)
    engine = create_engine(settings.database_url)
    async with scoped_session(create_sessionmaker(engine), AccountScope.everything()) as session:
        await seed_demo(
            session,
            password=settings.demo_password.get_secret_value(),
            storage=LocalDocumentStorage(root=settings.resolved_data_dir / "documents"),
            today=date.today(),
        )
    await engine.dispose()

    app = create_app(settings)
    admin_id = demo_id("user", "admin@acme.example")
    token, _ = app.state.tokens.mint(kind=SubjectKind.USER, subject_id=admin_id)
    headers = {"Authorization": f"Bearer {token}"}
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        for name, query in QUERIES.items():
            for _ in range(10):  # warm caches and the pool
                await client.post("/graphql", json={"query": query}, headers=headers)
            timings: list[float] = []
            for _ in range(requests):
                started = time.perf_counter()
                response = await client.post("/graphql", json={"query": query}, headers=headers)
                timings.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200 or "errors" in response.json():
                    raise SystemExit(f"{name} failed: {response.text}")
            timings.sort()
            p95 = timings[int(len(timings) * 0.95) - 1]
            print(
                f"{name:<32} n={requests:<5} mean={statistics.mean(timings):7.2f} ms "
                f"p50={statistics.median(timings):7.2f} ms p95={p95:7.2f} ms"
            )
    await app.state.engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    asyncio.run(main(parser.parse_args().requests))
