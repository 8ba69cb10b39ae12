"""Webhook API tests: settings as in production (https only, no loopback) where a test asks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.applications import Starlette

from portal.settings import Settings
from tests.support.receiver import Receiver, serve_receiver


@pytest.fixture
def strict(app: Starlette, settings: Settings) -> Iterator[Settings]:
    """The API answers with production's webhook safety: https only, no internal addresses."""
    graphql = app.state.graphql
    original = graphql.settings
    graphql.settings = settings.model_copy(
        update={"webhook_allow_http": False, "webhook_allowed_networks": []}
    )
    try:
        yield graphql.settings
    finally:
        graphql.settings = original


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with serve_receiver() as server:
        yield server
