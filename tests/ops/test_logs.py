"""Logs: one structured line per request without PHI or tokens, errors deduplicated, client
disconnects as INFO, a human format in development."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import pytest
from starlette.applications import Starlette

from portal.observability.logs import DeduplicateFilter, HumanFormatter, JsonFormatter
from portal.settings import Settings
from tests.support.graphql import GraphQLClient
from tests.support.world import World

SEARCH = """
query FindResults($name: String!) {
  documents(first: 5, filter: {employeeName: $name}) { totalCount }
}
"""


def _served(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What the server logged (the test's HTTP client logs its own requests too)."""
    return [record for record in caplog.records if not record.name.startswith("httpx")]


def _access(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "portal.access"]


async def test_each_request_logs_one_structured_line_without_phi_or_tokens(
    admin_client: GraphQLClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    # when a User Admin searches by an employee's name
    response = await admin_client(
        SEARCH, {"name": "Garcia-Phi-Marker"}, operation_name="FindResults"
    )

    # then one access line describes the request
    (line,) = _access(caplog)
    fields: dict[str, Any] = json.loads(JsonFormatter().format(line))
    assert fields["message"] == "request"
    assert fields["request_id"] == response.headers["x-request-id"]
    assert fields["method"] == "POST"
    assert fields["route"] == "/graphql"
    assert fields["operation"] == "FindResults"
    assert fields["principal_kind"] == "USER"
    assert fields["principal_id"] == str(world.acme_admin.id)
    assert fields["status"] == 200
    assert fields["outcome"] == "ok"
    assert isinstance(fields["duration_ms"], float)
    # and nothing logged while serving it holds the search term or the access token
    assert admin_client.token is not None
    for record in _served(caplog):
        text = JsonFormatter().format(record) + HumanFormatter().format(record)
        assert "Garcia-Phi-Marker" not in text
        assert admin_client.token not in text


async def test_a_refused_operation_is_logged_with_its_outcome(
    basic_client: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    # when a Basic user without VIEW_VISIT_ACTIVITY asks for visits
    await basic_client("query Visits { visits(first: 1) { totalCount } }", operation_name="Visits")

    # then the line says the operation was denied
    (line,) = _access(caplog)
    assert line.__dict__["operation"] == "Visits"
    assert line.__dict__["outcome"] == "denied"


async def test_a_download_line_names_the_route_not_the_token(
    anonymous_client: GraphQLClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    # when a download link is opened
    await anonymous_client.http.get("/downloads/secret-token-in-the-url")

    # then the line carries the route template, never the token
    (line,) = _access(caplog)
    assert line.__dict__["route"] == "/downloads/{token}"
    assert line.__dict__["status"] == 404
    for record in _served(caplog):
        assert "secret-token-in-the-url" not in JsonFormatter().format(record)


async def test_a_client_that_disconnects_is_an_info_line_without_traceback(
    app: Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    # given a client that sends headers of a POST, then goes away before its body
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"t"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 50000),
        "server": ("t", 80),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        pass

    # when the app serves it
    await app(scope, receive, send)

    # then no error and no traceback is logged, and one INFO line says what happened
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    (line,) = _access(caplog)
    assert line.levelno == logging.INFO
    assert line.getMessage() == "client disconnected"
    assert line.exc_info is None


def test_similar_errors_are_logged_once_per_window_with_a_count() -> None:
    # given a logger behind the deduplicating filter
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    handler = Keep()
    handler.addFilter(DeduplicateFilter(window_seconds=0.3))
    log = logging.getLogger("tests.dedup")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        # when a database outage fails 100 requests alike
        for n in range(100):
            try:
                raise ConnectionRefusedError("refused")
            except ConnectionRefusedError:
                log.exception("unexpected error in %s (request %s)", "documents", f"req-{n}")
            log.info("request %s", n)
        # and one more after the window
        time.sleep(0.35)
        try:
            raise ConnectionRefusedError("refused")
        except ConnectionRefusedError:
            log.exception("unexpected error in %s (request %s)", "documents", "req-last")
    finally:
        log.removeHandler(handler)
        log.propagate = True

    # then the error is logged twice, the second saying how many were suppressed, and the
    # INFO lines all pass
    errors = [record for record in seen if record.levelno == logging.ERROR]
    assert len(errors) == 2
    assert errors[1].__dict__["suppressed_similar"] == 99
    assert len([record for record in seen if record.levelno == logging.INFO]) == 100


def test_json_errors_carry_their_type_and_stack_but_not_their_message() -> None:
    # given an error whose message quotes a database row
    try:
        raise ValueError('duplicate key value (email)=("maria.garcia@acme.example")')
    except ValueError as error:
        record = logging.LogRecord(
            "portal.graphql",
            logging.ERROR,
            __file__,
            1,
            "unexpected error",
            None,
            (type(error), error, error.__traceback__),
        )

    # when it is formatted as JSON
    entry = json.loads(JsonFormatter().format(record))

    # then it is one line with the type and the stack, and without the row
    assert entry["exception"]["type"] == "builtins.ValueError"
    assert entry["exception"]["stack"]
    assert "maria.garcia" not in json.dumps(entry)


def test_development_logs_are_human_and_production_logs_json() -> None:
    # given a request line
    record = logging.LogRecord("portal.access", logging.INFO, __file__, 1, "request", None, None)
    record.__dict__.update({"request_id": "abc12345", "operation": "Viewer", "status": 200})

    # then development reads as text with the fields, production as JSON
    assert not Settings(environment="development").logs_as_json
    assert Settings(environment="production").logs_as_json
    assert Settings(environment="development", log_format="json").logs_as_json
    human = HumanFormatter().format(record)
    assert "INFO portal.access: request [request_id=abc12345 operation=Viewer status=200]" in human
    assert json.loads(JsonFormatter().format(record))["operation"] == "Viewer"
