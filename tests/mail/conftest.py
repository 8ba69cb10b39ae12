"""Mail tests talk to a real SMTP server on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from portal.settings import Settings
from tests.support.mail import Inbox, serve_inbox, smtp_settings


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with serve_inbox() as server:
        yield server


@pytest.fixture
def mail_settings(settings: Settings, inbox: Inbox) -> Settings:
    return smtp_settings(settings, inbox.port)
