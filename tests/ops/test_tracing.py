"""OpenTelemetry traces over OTLP/HTTP to a real receiver on loopback, without PHI."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.app import create_app
from portal.settings import Settings


class Receiver:
    """An OTLP/HTTP trace receiver: decodes each export and keeps its spans."""

    def __init__(self) -> None:
        self.spans: list[Any] = []
        self.paths: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                receiver.paths.append(self.path)
                for resource_spans in request.resource_spans:
                    for scope_spans in resource_spans.scope_spans:
                        receiver.spans.extend(scope_spans.spans)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()
    thread.join(timeout=5)


async def test_operations_and_sql_statements_are_traced_without_phi(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    receiver: Receiver,
    admin_token: str,
) -> None:
    # given an app configured with an OTLP endpoint
    traced = settings.model_copy(update={"otlp_endpoint": f"http://127.0.0.1:{receiver.port}"})
    app = create_app(traced, sessionmaker=sessionmaker)
    provider: TracerProvider = app.state.tracer_provider
    try:
        # when a search with an employee's name written into the document is run
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            response = await client.post(
                "/graphql",
                json={
                    "query": "query FindResults { documents(first: 2, filter: {employeeName: "
                    '"Garcia-Trace-Marker"}) { totalCount } }',
                    "operationName": "FindResults",
                },
                headers={"Authorization": f"Bearer {admin_token}"},
            )
        assert response.status_code == 200, response.text
        assert provider.force_flush(timeout_millis=10_000)
    finally:
        provider.shutdown()
        SQLAlchemyInstrumentor().uninstrument()
        await app.state.engine.dispose()

    # then the receiver got the operation, its steps and its SQL statements
    assert set(receiver.paths) == {"/v1/traces"}
    names = [span.name for span in receiver.spans]
    assert "GraphQL Query: FindResults" in names
    assert "GraphQL Parsing" in names
    assert "GraphQL Validation" in names
    sql = [
        span
        for span in receiver.spans
        if any(attribute.key.startswith("db.") for attribute in span.attributes)
    ]
    assert sql, names
    # and no span holds the name written into the query, nor the document itself
    for span in receiver.spans:
        for attribute in span.attributes:
            assert "Garcia-Trace-Marker" not in str(attribute.value), (span.name, attribute.key)
            assert attribute.key != "query"
