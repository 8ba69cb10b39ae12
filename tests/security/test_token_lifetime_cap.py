"""Hardening 9, token lifetime capped on verification: a token signed with the server's key but
living longer than the server issues (``exp - iat`` beyond ``PORTAL_ACCESS_TOKEN_TTL_SECONDS``) is
refused, so a leaked signing key or a minting bug cannot hand out tokens that never expire."""

from __future__ import annotations

import time

import pytest
from joserfc import jwt

from portal.auth.tokens import InvalidTokenError, TokenService
from tests.auth.test_bearer_tokens import _assert_rejected, _claims
from tests.support.graphql import GraphQLClient
from tests.support.world import World

HEADER_TYP = "at+jwt"


def _signed(tokens: TokenService, claims: dict[str, object]) -> str:
    header = {"alg": "ES256", "kid": tokens.keys.kid, "typ": HEADER_TYP}
    return jwt.encode(header, claims, tokens.keys.current)


async def test_a_token_living_longer_than_configured_is_refused(
    anonymous_client: GraphQLClient, tokens: TokenService, world: World
) -> None:
    # Given a correctly signed token whose lifetime is a year, not the configured minutes
    now = int(time.time())
    claims = _claims(tokens, f"user:{world.acme_admin.id}", exp=now + 365 * 24 * 3600)
    anonymous_client.token = _signed(tokens, claims)
    # When it is used, then it is refused like any invalid token
    await _assert_rejected(anonymous_client)


async def test_a_token_of_exactly_the_configured_lifetime_passes(
    anonymous_client: GraphQLClient, tokens: TokenService, world: World
) -> None:
    now = int(time.time())
    claims = _claims(tokens, f"user:{world.acme_admin.id}", exp=now + tokens.ttl_seconds)
    anonymous_client.token = _signed(tokens, claims)
    response = await anonymous_client("{ viewer { email } }")
    assert response.ok()["viewer"]["email"] == "admin@acme.example"


def test_a_non_numeric_time_claim_is_refused(tokens: TokenService, world: World) -> None:
    claims = _claims(tokens, f"user:{world.acme_admin.id}")
    claims["iat"] = True
    with pytest.raises(InvalidTokenError):
        tokens.verify(_signed(tokens, claims))
