"""Prometheus metrics of one app process, served at ``/metrics`` when ``PORTAL_METRICS_ENABLED``.

Requests by route, operation and outcome with latency histograms; the database pool (in use, idle,
overflow, waiting); the outbox (pending messages and the oldest one's age by channel and topic,
read from the database at scrape time on a connection of its own); delivery outcomes; live
subscriptions; merges and downloads in flight. Every metric lives in the app's own registry.

Each app process has its own numbers: behind ``portal serve --workers N`` a scrape reaches one
worker; run one process per container (or host) to scrape each one (docs/operations.md)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

import asyncpg
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.requests import Request
from starlette.responses import Response

from portal.observability.access import RequestRecord

logger = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# Client-chosen operation names: the first this many distinct ones get their own label value.
MAX_OPERATION_LABELS = 200
OUTBOX_CACHE_SECONDS = 5.0
OUTBOX_QUERY = """
SELECT channel::text AS channel, topic, count(*) AS pending,
       coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest
FROM outbox_messages WHERE status = 'PENDING' GROUP BY channel, topic
"""


class _PoolCollector(Collector):
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    def collect(self) -> Iterable[GaugeMetricFamily]:
        pool: Any = self.engine.pool
        family = GaugeMetricFamily(
            "portal_db_pool_connections",
            "Connections of the request pool by state.",
            labels=["state"],
        )
        for state, reader in (
            ("in_use", "checkedout"),
            ("idle", "checkedin"),
            ("overflow", "overflow"),
            ("size", "size"),
        ):
            method = getattr(pool, reader, None)
            if method is not None:
                family.add_metric([state], float(method()))
        yield family
        waiting = GaugeMetricFamily(
            "portal_db_pool_waiting",
            "Requests waiting for a connection of the request pool.",
        )
        waiting.add_metric([], float(_pool_waiters(pool)))
        yield waiting


def _pool_waiters(pool: Any) -> int:
    """Tasks waiting on the pool's queue (SQLAlchemy's asyncio queue keeps them in getters)."""
    queue = getattr(getattr(pool, "_pool", None), "_queue", None)
    getters = getattr(queue, "_getters", None)
    try:
        return sum(1 for waiter in getters or () if not waiter.done())
    except Exception:  # a different pool class: no waiters to report
        return 0


class _OutboxCollector(Collector):
    """Pending outbox messages by channel and topic, refreshed by ``refresh`` before a scrape."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, int, float]] = []

    def collect(self) -> Iterable[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "portal_outbox_pending",
            "Outbox messages waiting for delivery.",
            labels=["channel", "topic"],
        )
        age = GaugeMetricFamily(
            "portal_outbox_oldest_pending_age_seconds",
            "Age of the oldest outbox message waiting for delivery.",
            labels=["channel", "topic"],
        )
        for channel, topic, pending, oldest in self.rows:
            depth.add_metric([channel, topic], pending)
            age.add_metric([channel, topic], oldest)
        yield depth
        yield age


class Metrics:
    def __init__(self, *, engine: AsyncEngine, database_url: str, timeout: float) -> None:
        self.registry = CollectorRegistry()
        self.database_url = make_url(database_url).set(drivername="postgresql")
        self.timeout = timeout
        self.requests = Counter(
            "portal_requests",
            "HTTP requests by route, GraphQL operation and outcome.",
            ["route", "operation", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "portal_request_duration_seconds",
            "HTTP request latency by route and GraphQL operation.",
            ["route", "operation"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.deliveries = Counter(
            "portal_outbox_deliveries",
            "Outbox delivery attempts by channel and outcome (delivered, retrying, failed).",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.subscriptions = Gauge(
            "portal_live_subscriptions",
            "Live GraphQL subscriptions of this process.",
            registry=self.registry,
        )
        self.merges_running = Gauge(
            "portal_download_merges_running",
            "PDF merges running in worker processes.",
            registry=self.registry,
        )
        self.merges_waiting = Gauge(
            "portal_download_merges_waiting",
            "Downloads waiting for a merge worker.",
            registry=self.registry,
        )
        self.registry.register(_PoolCollector(engine))
        self._outbox = _OutboxCollector()
        self.registry.register(self._outbox)
        self._outbox_read_at = 0.0
        self._operations: set[str] = set()
        self._request_children: dict[tuple[str, str, str], tuple[Any, Any]] = {}

    def watch(
        self,
        *,
        subscriptions: Callable[[], float],
        merges_running: Callable[[], float],
        merges_waiting: Callable[[], float],
    ) -> None:
        self.subscriptions.set_function(subscriptions)
        self.merges_running.set_function(merges_running)
        self.merges_waiting.set_function(merges_waiting)

    def _operation_label(self, operation: str | None) -> str:
        if operation is None:
            return ""
        if operation in self._operations:
            return operation
        if len(self._operations) < MAX_OPERATION_LABELS:
            self._operations.add(operation)
            return operation
        return "(other)"

    def observe_request(self, record: RequestRecord) -> None:
        operation = self._operation_label(record.operation)
        key = (record.route, operation, record.outcome)
        children = self._request_children.get(key)
        if children is None:
            # Each label set's counter and histogram, looked up once (routes, operations and
            # outcomes are bounded: unmatched paths share one route; MAX_OPERATION_LABELS).
            children = self._request_children[key] = (
                self.requests.labels(record.route, operation, record.outcome),
                self.latency.labels(record.route, operation),
            )
        children[0].inc()
        children[1].observe(record.duration_seconds)

    def observe_deliveries(
        self, channel: str, *, delivered: int, retrying: int, failed: int
    ) -> None:
        for outcome, count in (
            ("delivered", delivered),
            ("retrying", retrying),
            ("failed", failed),
        ):
            if count:
                self.deliveries.labels(channel, outcome).inc(count)

    async def refresh_outbox(self) -> None:
        if time.monotonic() - self._outbox_read_at < OUTBOX_CACHE_SECONDS:
            return
        try:
            connection = await asyncpg.connect(  # type: ignore[no-untyped-call]
                self.database_url.render_as_string(hide_password=False), timeout=self.timeout
            )
            try:
                # The outbox is a tenant table: this reader sees every account's messages.
                await connection.execute("SELECT set_config('portal.all_accounts', 'on', false)")
                rows = await connection.fetch(OUTBOX_QUERY, timeout=self.timeout)
            finally:
                await connection.close(timeout=self.timeout)
        except Exception as error:  # a scrape must answer even when the database does not
            logger.warning("metrics: could not read the outbox: %s", type(error).__name__)
            return
        self._outbox.rows = [
            (row["channel"], row["topic"], int(row["pending"]), float(row["oldest"]))
            for row in rows
        ]
        self._outbox_read_at = time.monotonic()

    async def endpoint(self, request: Request) -> Response:
        await self.refresh_outbox()
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)
