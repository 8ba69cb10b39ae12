"""Bearer tokens: only our own, unexpired, correctly signed access tokens for live subjects pass."""

from __future__ import annotations

import base64
import json
import time
import uuid

from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from portal.auth.tokens import SubjectKind, TokenService
from tests.support.graphql import GraphQLClient
from tests.support.world import World

VIEWER = "{ viewer { email role } }"


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(tokens: TokenService, subject: str, **overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": tokens.issuer,
        "aud": tokens.audience,
        "sub": subject,
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return claims


async def _assert_rejected(client: GraphQLClient) -> None:
    response = await client(VIEWER)
    assert response.status_code == 401
    assert response.error_codes() == ["UNAUTHENTICATED"]
    assert response.data is None
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_valid_token_identifies_the_user(admin_client: GraphQLClient) -> None:
    data = (await admin_client(VIEWER)).ok()
    assert data["viewer"] == {"email": "admin@acme.example", "role": "USER_ADMIN"}


async def test_no_token_is_anonymous_not_an_error(anonymous_client: GraphQLClient) -> None:
    assert (await anonymous_client(VIEWER)).ok() == {"viewer": None}


async def test_alg_none_is_rejected(
    anonymous_client: GraphQLClient, tokens: TokenService, world: World
) -> None:
    claims = _claims(tokens, f"user:{world.acme_admin.id}")
    anonymous_client.token = f"{_b64({'alg': 'none', 'typ': 'at+jwt'})}.{_b64(claims)}."
    await _assert_rejected(anonymous_client)


async def test_a_token_signed_by_another_key_is_rejected(
    anonymous_client: GraphQLClient, tokens: TokenService, world: World
) -> None:
    forger = ECKey.generate_key("P-256", parameters={"kid": tokens.keys.kid})
    header = {"alg": "ES256", "kid": tokens.keys.kid, "typ": "at+jwt"}
    anonymous_client.token = jwt.encode(
        header, _claims(tokens, f"user:{world.acme_admin.id}"), forger
    )
    await _assert_rejected(anonymous_client)


async def test_an_hmac_token_using_the_public_key_as_secret_is_rejected(
    anonymous_client: GraphQLClient, tokens: TokenService, world: World
) -> None:
    public = json.dumps(tokens.keys.public_jwks()).encode()
    header = {"alg": "HS256", "kid": tokens.keys.kid, "typ": "at+jwt"}
    anonymous_client.token = jwt.encode(
        header,
        _claims(tokens, f"user:{world.acme_admin.id}"),
        OctKey.import_key(public),
        algorithms=["HS256"],
    )
    await _assert_rejected(anonymous_client)


async def test_an_expired_token_is_rejected(
    anonymous_client: GraphQLClient, tokens: TokenService, world: World
) -> None:
    past = int(time.time()) - 3600
    claims = _claims(
        tokens, f"user:{world.acme_admin.id}", iat=past - 900, nbf=past - 900, exp=past
    )
    header = {"alg": "ES256", "kid": tokens.keys.kid, "typ": "at+jwt"}
    anonymous_client.token = jwt.encode(header, claims, tokens.keys.current)
    await _assert_rejected(anonymous_client)


async def test_a_token_for_another_audience_is_rejected(
    anonymous_client: GraphQLClient, tokens: TokenService, world: World
) -> None:
    claims = _claims(tokens, f"user:{world.acme_admin.id}", aud="someone-else")
    header = {"alg": "ES256", "kid": tokens.keys.kid, "typ": "at+jwt"}
    anonymous_client.token = jwt.encode(header, claims, tokens.keys.current)
    await _assert_rejected(anonymous_client)


async def test_a_token_from_another_issuer_is_rejected(
    anonymous_client: GraphQLClient, tokens: TokenService, world: World
) -> None:
    claims = _claims(tokens, f"user:{world.acme_admin.id}", iss="https://evil.example")
    header = {"alg": "ES256", "kid": tokens.keys.kid, "typ": "at+jwt"}
    anonymous_client.token = jwt.encode(header, claims, tokens.keys.current)
    await _assert_rejected(anonymous_client)


async def test_garbage_and_malformed_headers_are_rejected(anonymous_client: GraphQLClient) -> None:
    anonymous_client.token = "not-a-jwt"
    await _assert_rejected(anonymous_client)
    anonymous_client.token = None
    response = await anonymous_client(VIEWER, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert response.status_code == 401


async def test_a_deactivated_users_token_stops_working_at_once(
    anonymous_client: GraphQLClient, tokens: TokenService, world: World
) -> None:
    token, _ = tokens.mint(kind=SubjectKind.USER, subject_id=world.acme_deactivated.id)
    anonymous_client.token = token
    await _assert_rejected(anonymous_client)


async def test_a_token_for_an_unknown_subject_is_rejected(
    anonymous_client: GraphQLClient, tokens: TokenService
) -> None:
    token, _ = tokens.mint(kind=SubjectKind.STAFF, subject_id=uuid.uuid4())
    anonymous_client.token = token
    await _assert_rejected(anonymous_client)
