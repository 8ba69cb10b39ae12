"""Where outgoing email goes: an SMTP server (aiosmtplib), or .eml files for offline demos."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import aiosmtplib

from portal.log_redaction import DEVELOPMENT_LINKS_LOGGER
from portal.settings import Settings

if TYPE_CHECKING:
    from portal.mail.attachments import Attachment

logger = logging.getLogger(__name__)
development_links = logging.getLogger(DEVELOPMENT_LINKS_LOGGER)

_LINK = re.compile(r"https?://\S+")


def build_message(
    *,
    message_id: uuid.UUID,
    sender: str,
    payload: dict[str, Any],
    attachments: Sequence[Attachment] = (),
) -> EmailMessage:
    """A plain-text message from an outbox payload (``to``, ``subject``, ``text``), with the
    attachments its references were rendered into.

    The Message-ID derives from the outbox row, so a retried delivery carries the same id and a
    receiving server or client can recognise the duplicate.
    """
    message = EmailMessage()
    message["From"] = sender
    message["To"] = str(payload["to"])
    message["Subject"] = str(payload["subject"])
    message["Date"] = formatdate(localtime=False, usegmt=True)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<{message_id.hex}@{domain}>"
    message.set_content(str(payload["text"]))
    for item in attachments:
        message.add_attachment(
            item.content, maintype=item.maintype, subtype=item.subtype, filename=item.filename
        )
    return message


def first_link(text: str) -> str | None:
    found = _LINK.search(text)
    return found.group(0) if found else None


def is_permanent_failure(error: BaseException) -> bool:
    """Whether the server refused this message for good (a 5xx answer to its sender, its
    recipients or its content): retrying cannot help. Connection problems, 4xx answers and a
    refused login (the operator's configuration, not the message) are temporary."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return bool(error.recipients) and all(
            is_permanent_failure(refused) for refused in error.recipients
        )
    if isinstance(
        error,
        aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPSenderRefused | aiosmtplib.SMTPDataError,
    ):
        return 500 <= error.code < 600
    return False


class MailTransport(Protocol):
    async def send(self, message: EmailMessage) -> None:
        """Deliver one message or raise; any exception counts as a failed attempt."""


class SmtpTransport:
    def __init__(self, settings: Settings) -> None:
        if settings.smtp_host is None:
            raise ValueError("SmtpTransport needs PORTAL_SMTP_HOST")
        self.settings = settings

    async def send(self, message: EmailMessage) -> None:
        settings = self.settings
        await aiosmtplib.send(
            message,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value()
            if settings.smtp_password is not None
            else None,
            use_tls=settings.smtp_tls,
            # Implicit TLS and STARTTLS exclude each other; aiosmtplib refuses both at once.
            start_tls=False if settings.smtp_tls else settings.smtp_starttls,
            timeout=settings.smtp_timeout_seconds,
        )


class FileTransport:
    """Writes each message to ``<directory>/<message id>.eml`` and logs its first link.

    Only for development and demos without an SMTP server: there the log holds the link (and so
    the one-time token) that the addressee would have received. Anywhere else the log names the
    file and the addressee only.
    """

    def __init__(self, directory: Path, *, log_links: bool = False) -> None:
        self.directory = directory
        self.log_links = log_links

    async def send(self, message: EmailMessage) -> None:
        message_id = str(message["Message-ID"]).strip("<>").partition("@")[0]
        path = self.directory / f"{message_id}.eml"
        await asyncio.to_thread(self._write, path, message.as_bytes())
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        if self.log_links:
            # Said outright (this logger is exempt from redaction): a development demo needs it.
            development_links.warning(
                "no SMTP server configured: wrote %s for %s; link: %s",
                path,
                message["To"],
                first_link(text) or "(none)",
            )
        else:
            logger.warning("no SMTP server configured: wrote %s for %s", path, message["To"])

    def _write(self, path: Path, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def transport_for(settings: Settings) -> MailTransport:
    if settings.smtp_host:
        return SmtpTransport(settings)
    return FileTransport(settings.mail_dir, log_links=settings.environment == "development")
