"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, and helpers to read the
emailed links."""

from __future__ import annotations

import email
import email.policy
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from portal.settings import Settings
from tests.support.network import free_port

LINK_TOKEN = re.compile(r"#token=([A-Za-z0-9_-]+)")


class Inbox:
    """An aiosmtpd handler that keeps every message, or refuses every recipient."""

    def __init__(
        self, *, refuse: bool = False, refusal: str = "550 5.1.1 mailbox unavailable"
    ) -> None:
        self.refuse = refuse
        self.refusal = refusal
        self.port = 0
        self.messages: list[EmailMessage] = []

    async def handle_RCPT(  # noqa: N802 -- aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.refuse:
            return self.refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802 -- aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]

    def wait_for(self, count: int, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} messages, got {len(self.messages)}")
            time.sleep(0.02)


@contextmanager
def serve_inbox(
    *, refuse: bool = False, refusal: str = "550 5.1.1 mailbox unavailable"
) -> Iterator[Inbox]:
    """An SMTP server on a free loopback port, in its own thread, for the ``with`` block; with
    ``refuse`` it answers every recipient with ``refusal``."""
    inbox = Inbox(refuse=refuse, refusal=refusal)
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    try:
        yield inbox
    finally:
        controller.stop()


def smtp_settings(settings: Settings, port: int, **changes: Any) -> Settings:
    """``settings`` sending mail to the loopback SMTP server on ``port``."""
    return settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_starttls": False, **changes}
    )


def body_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    text: str = part.get_content()
    return text


def token_in(message: EmailMessage) -> str:
    """The one-time token of the link in an email."""
    found = LINK_TOKEN.search(body_of(message))
    assert found, body_of(message)
    return found.group(1)
