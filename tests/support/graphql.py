"""A GraphQL-over-HTTP client for tests, and assertions on its answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class GraphQLResponse:
    status_code: int
    body: dict[str, Any]
    headers: httpx.Headers
    # The answer's top-level ``extensions`` (``cost``: the caller's query budget), kept apart
    # from ``body`` so answers that must be identical compare data and errors only.
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        errors: list[dict[str, Any]] = self.body.get("errors") or []
        return errors

    def error_codes(self) -> list[str]:
        return [error.get("extensions", {}).get("code") for error in self.errors]

    def ok(self) -> Any:
        assert self.status_code == 200, self.body
        assert not self.errors, self.errors
        return self.data


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.http = http
        self.token = token

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        operation_name: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> GraphQLResponse:
        request_headers = dict(headers or {})
        if self.token is not None:
            request_headers.setdefault("Authorization", f"Bearer {self.token}")
        payload: dict[str, Any] = {"query": query}
        if variables is not None:
            payload["variables"] = variables
        if operation_name is not None:
            payload["operationName"] = operation_name
        response = await self.http.post("/graphql", json=payload, headers=request_headers)
        body = response.json()
        extensions = body.pop("extensions", None) or {}
        return GraphQLResponse(response.status_code, body, response.headers, extensions)


def assert_forbidden(response: GraphQLResponse, path: list[str | int] | None = None) -> None:
    """The field (or the whole operation) was refused with FORBIDDEN, and nothing leaked there."""
    assert response.status_code == 200, response.body
    forbidden = [
        error for error in response.errors if error.get("extensions", {}).get("code") == "FORBIDDEN"
    ]
    assert forbidden, f"expected a FORBIDDEN error, got {response.errors}"
    if path is not None:
        assert any(error.get("path") == path for error in forbidden), forbidden
        value: Any = response.data
        for part in path:
            if value is None:
                break
            value = value[part]
        assert value is None


def assert_unauthenticated(response: GraphQLResponse) -> None:
    assert "UNAUTHENTICATED" in response.error_codes(), response.body
