"""Attachments named by reference in an outbox email, rendered when the email is delivered.

The outbox keeps ``{"kind": ..., "id": ...}`` only, so the bytes (an authorization PDF holds PHI)
never wait in the database. An attachment that can no longer be rendered (its authorization was
deleted) fails the attempt, and the email is not sent without it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.models.db import AccountScope, scoped_session
from portal.resolvers.authorizations.pdf import load_printable, render_authorization_pdf
from portal.resolvers.outbox import AUTHORIZATION_PDF


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str = "application"
    subtype: str = "pdf"


class AttachmentUnavailable(RuntimeError):
    """The referenced object is gone (or the reference is malformed)."""


async def render_attachments(
    sessionmaker: async_sessionmaker[AsyncSession], references: Sequence[Any]
) -> list[Attachment]:
    rendered: list[Attachment] = []
    for reference in references:
        if not isinstance(reference, dict) or reference.get("kind") != AUTHORIZATION_PDF:
            raise AttachmentUnavailable(f"unknown attachment {reference!r}")
        try:
            authorization_id = uuid.UUID(str(reference.get("id")))
        except ValueError as error:
            raise AttachmentUnavailable("malformed attachment reference") from error
        async with scoped_session(sessionmaker, AccountScope.everything()) as session:
            printable = await load_printable(session=session, authorization_id=authorization_id)
        if printable is None:
            raise AttachmentUnavailable(f"authorization {authorization_id} is gone")
        content = await asyncio.to_thread(render_authorization_pdf, printable)
        rendered.append(Attachment(filename=printable.filename, content=content))
    return rendered
