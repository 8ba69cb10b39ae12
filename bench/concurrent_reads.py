"""Many audited reads at once against a running server: who is served, who is refused, how long.

Run against any server (``make run`` serves the demo on port 8000):
``.venv/bin/python -m bench.concurrent_reads --url http://127.0.0.1:8000 \\
--token "$(.venv/bin/portal token admin@acme.example)" --requests 200``.
Every request is a documents search (a PHI read, so it writes an audit entry). Prints how many
were served (200), refused inside the contract (503 ``SERVICE_UNAVAILABLE``) or anything else,
the latencies and the wall time. A benchmark: it never fails on time."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import Counter

import httpx

QUERY = '{ documents(first: 5, filter: {employeeName: "a"}) { totalCount nodes { id } } }'


async def run(url: str, token: str, requests: int) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=requests, max_keepalive_connections=requests)
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:

        async def one() -> tuple[str, float]:
            started = time.monotonic()
            try:
                response = await client.post("/graphql", json={"query": QUERY}, headers=headers)
            except httpx.HTTPError as error:
                return type(error).__name__, time.monotonic() - started
            kind = str(response.status_code)
            if not response.headers.get("content-type", "").startswith("application/json"):
                kind += " (not JSON)"
            elif response.status_code == 200 and "errors" in response.json():
                kind += " (with errors)"
            return kind, time.monotonic() - started

        started = time.monotonic()
        results = await asyncio.gather(*(one() for _ in range(requests)))
        elapsed = time.monotonic() - started
    outcomes = Counter(kind for kind, _ in results)
    latencies = sorted(seconds for _, seconds in results)
    print(f"{requests} concurrent audited searches in {elapsed:.2f} s")
    for kind, count in sorted(outcomes.items()):
        print(f"  {kind}: {count}")
    print(
        f"  latency p50 {statistics.median(latencies):.2f} s, "
        f"p99 {latencies[int(len(latencies) * 0.99) - 1]:.2f} s, max {latencies[-1]:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--token", required=True)
    parser.add_argument("--requests", type=int, default=200)
    arguments = parser.parse_args()
    asyncio.run(run(arguments.url, arguments.token, arguments.requests))


if __name__ == "__main__":
    main()
