"""The caller of an HTTP request or a websocket connection, from its bearer access token.

Shared by /graphql (a header per request), /downloads/{token} (a header) and the websocket's
``connection_init`` payload, so every entry point verifies tokens and audits rejections alike."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.auth.principal import Principal
from portal.auth.rejections import REJECTED_TOKENS, RejectedTokens
from portal.auth.resolve import resolve_principal
from portal.auth.tokens import InvalidTokenError, TokenService
from portal.models.db import rescope, set_scope
from portal.models.enums import AuditResult
from portal.resolvers.audit import AuditEntry, RequestMeta, write_events

logger = logging.getLogger(__name__)


def bearer_token(headers: Mapping[str, Any]) -> str | None:
    """The token of an ``Authorization: Bearer`` header; '' when the header is malformed."""
    value = headers.get("authorization")
    if value is None:
        return None
    if not isinstance(value, str):
        return ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return ""
    return token.strip()


async def authenticate_bearer(
    *,
    session: AsyncSession,
    sessionmaker: async_sessionmaker[AsyncSession],
    tokens: TokenService,
    token: str | None,
    meta: RequestMeta,
    rejections: RejectedTokens = REJECTED_TOKENS,
) -> Principal:
    """The principal a token names (anonymous without one).

    Raises ``InvalidTokenError`` for a malformed, invalid or expired token, or one whose subject
    is no longer active, after auditing the rejection in its own transaction (at most once per
    client address and minute: see ``portal.auth.rejections``). The lookup runs in ``session``:
    one round trip reads the subject with the system scope and leaves the transaction scoped to
    the principal, in which the rest of the request goes on."""
    if token is None:
        return Principal.anonymous()
    try:
        if not token:
            raise InvalidTokenError("malformed Authorization header")
        claims = tokens.verify(token)
        resolved = await resolve_principal(session, claims)
    except InvalidTokenError as error:
        logger.info("rejected bearer token: %s", error)
        # The lookup left the transaction scoped to nothing; the rollback ends it.
        await session.rollback()
        verdict = rejections.note(meta.ip_address)
        if verdict.record:
            details: dict[str, object] = {"reason": str(error)[:200]}
            if verdict.suppressed_before:
                details["alsoRejectedSinceLastRecord"] = verdict.suppressed_before
            await write_events(
                sessionmaker=sessionmaker,
                principal=Principal.anonymous(),
                meta=meta,
                entries=[
                    AuditEntry(action="token.rejected", result=AuditResult.DENIED, details=details)
                ],
            )
        raise
    principal = resolved.principal
    if resolved.applied == principal.scope:
        # The lookup already scoped the open transaction to the principal: later transactions
        # of this session begin in the same scope, and this one needs no round trip.
        set_scope(session, principal.scope)
    else:
        await rescope(session, principal.scope)
    return principal
