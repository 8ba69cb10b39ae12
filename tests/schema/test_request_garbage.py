"""A request's objects are freed by their reference counts as it ends: none is left in a reference
cycle for the cyclic collector, whose full collections walk every object alive (pauses of tens
of milliseconds under load)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from typing import Any

import pytest

from portal.resolvers.errors import PortalError
from portal.resolvers.loaders import Loaders
from portal.resolvers.loading import BatchLoader
from portal.schema.execution import PortalExecutionContext
from tests.support.graphql import GraphQLClient

PAGE = """
{ documents(first: 20) { edges { node { id name reportType { code } employee { firstName }
  visit { id claimNumber } medicalCenter { name } location { name } } } } }
"""
NODE = "query ($id: ID!) { node(id: $id) { ... on Document { id employee { lastName } } } }"


# What a Basic user may not read of the page's employees and visits (FORBIDDEN field errors).
DENIED = """
{ documents(first: 20) { edges { node { id employee { id dateOfBirth } visit { claimNumber } } } } }
"""


def _watch(monkeypatch: pytest.MonkeyPatch, cls: type[Any], made: list[weakref.ref[Any]]) -> None:
    """Keep a weak reference to every instance of ``cls`` made from now on."""
    original: Callable[..., None] = cls.__init__

    def watched(self: Any, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(weakref.ref(self))

    monkeypatch.setattr(cls, "__init__", watched)


async def test_a_requests_execution_context_loaders_and_rows_are_freed_as_it_ends(
    admin_client: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given every execution context, set of loaders and batch loader a request makes, watched
    made: dict[str, list[weakref.ref[Any]]] = {"context": [], "loaders": [], "batch": []}
    _watch(monkeypatch, PortalExecutionContext, made["context"])
    _watch(monkeypatch, Loaders, made["loaders"])
    _watch(monkeypatch, BatchLoader, made["batch"])

    # when a page of documents with their nested objects, then one document, are read with the
    # cyclic collector off
    gc.collect()
    gc.disable()
    try:
        page = (await admin_client(PAGE)).ok()
        first = page["documents"]["edges"][0]["node"]
        node = (await admin_client(NODE, {"id": first["id"]})).ok()
        alive = {kind: sum(ref() is not None for ref in refs) for kind, refs in made.items()}
    finally:
        gc.enable()

    # then each was freed when its request ended
    assert node["node"]["id"] == first["id"]
    assert all(made.values())
    assert alive == {"context": 0, "loaders": 0, "batch": 0}


async def test_a_pages_denied_fields_leave_nothing_behind_either(
    basic_client: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the execution contexts and the errors a request makes, watched
    made: dict[str, list[weakref.ref[Any]]] = {"context": [], "errors": []}
    _watch(monkeypatch, PortalExecutionContext, made["context"])
    _watch(monkeypatch, PortalError, made["errors"])

    # when a Basic user reads a page holding fields they may not read, the collector off
    gc.collect()
    gc.disable()
    try:
        answer = await basic_client(DENIED)
        alive = {kind: sum(ref() is not None for ref in refs) for kind, refs in made.items()}
    finally:
        gc.enable()

    # then the denials were answered, and neither they nor the request's context outlived it
    codes = {error["extensions"]["code"] for error in answer.errors}
    assert codes == {"FORBIDDEN"}
    assert len(made["errors"]) > 1
    assert alive == {"context": 0, "errors": 0}
