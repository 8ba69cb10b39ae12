"""OpenTelemetry traces, exported over OTLP/HTTP when ``PORTAL_OTLP_ENDPOINT`` is set.

Spans: each GraphQL operation with its parse, validation and resolver steps (Strawberry's
extension), each SQL statement (the SQLAlchemy and asyncpg instrumentations). Nothing of PHI:
the operation's document and the resolvers' arguments are not recorded (a query can inline a
name), and statements carry their placeholders, never the values."""

from __future__ import annotations

import logging
from collections.abc import Generator, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncEngine
from strawberry.extensions import LifecycleStep
from strawberry.extensions.tracing import OpenTelemetryExtension

logger = logging.getLogger(__name__)


def _no_arguments(args: dict[str, Any], info: Any) -> dict[str, Any]:
    return {}


class GraphQLTracing(OpenTelemetryExtension):
    """Strawberry's extension without the operation's document or the resolvers' arguments."""

    def __init__(self, *, tracer_provider: trace.TracerProvider) -> None:
        super().__init__(arg_filter=_no_arguments, tracer_provider=tracer_provider)

    def on_operation(self) -> Generator[None, None, None]:
        name = self.execution_context.operation_name
        span = self._tracer.start_span(
            f"GraphQL Query: {name}" if name else "GraphQL Query", kind=SpanKind.SERVER
        )
        span.set_attribute("component", "graphql")
        self._operation_name = name
        self._span_holder[LifecycleStep.OPERATION] = span
        yield
        if not name and self.execution_context.operation_name:
            span.update_name(f"GraphQL Query: {self.execution_context.operation_name}")
        span.end()


def start_tracing(
    *,
    endpoint: str,
    service_name: str,
    engines: Sequence[AsyncEngine],
    timeout: float = 10.0,
) -> TracerProvider:
    """A tracer provider exporting to ``endpoint`` (the collector's base URL), with the
    database instrumented."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces", timeout=timeout)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    SQLAlchemyInstrumentor().instrument(
        engines=[engine.sync_engine for engine in engines], tracer_provider=provider
    )
    instrumentor = AsyncPGInstrumentor()  # type: ignore[no-untyped-call]
    if not instrumentor.is_instrumented_by_opentelemetry:
        # Patches asyncpg for the whole process: the first app's provider is the one used.
        instrumentor.instrument(tracer_provider=provider)
    logger.info("tracing: exporting spans to %s", endpoint)
    return provider
