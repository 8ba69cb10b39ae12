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
from portal.auth.resolve import principal_from_claims
from portal.auth.tokens import InvalidTokenError, TokenService
from portal.models.db import AccountScope, rescope, set_scope
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
    client address and minute: see ``portal.auth.rejections``). The lookup runs in
    ``session`` with the system scope; the same transaction is then scoped to the principal for
    the rest of the request."""
    if token is None:
        return Principal.anonymous()
    # The subject is named by a verified token; its row is read before any tenant scope is known,
    # so this one lookup runs with the system scope.
    set_scope(session, AccountScope.everything())
    try:
        if not token:
            raise InvalidTokenError("malformed Authorization header")
        claims = tokens.verify(token)
        principal = await principal_from_claims(session, claims)
    except InvalidTokenError as error:
        logger.info("rejected bearer token: %s", error)
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
    # The principal lookup ran unscoped; the request goes on in the same transaction, in the
    # principal's scope (it read plain rows only, nothing that could outlive the re-scoping).
    await rescope(session, principal.scope)
    return principal
