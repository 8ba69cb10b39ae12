"""A token's signature is checked once and remembered (auth/tokens.py ``VerifiedTokens``); the
clock is checked again on every use, and who the token names is still read every request."""

from __future__ import annotations

import time
import uuid

import pytest
from joserfc import jwt
from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.keys import SigningKeys
from portal.auth.tokens import LEEWAY_SECONDS, InvalidTokenError, SubjectKind, TokenService
from portal.models.enums import UserStatus
from tests.support.graphql import GraphQLClient
from tests.support.world import World


@pytest.fixture
def service(tokens: TokenService) -> TokenService:
    """A service of its own (an empty memory), with the app's keys."""
    keys: SigningKeys = tokens.keys
    return TokenService(keys=keys, issuer=tokens.issuer, audience=tokens.audience, ttl_seconds=60)


def test_a_token_is_verified_once_then_remembered(
    service: TokenService, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a token, and a count of signature checks
    token, _ = service.mint(kind=SubjectKind.USER, subject_id=uuid.uuid4())
    decoded = jwt.decode
    checks: list[str] = []

    def counted(value: str, *args: object, **kwargs: object) -> object:
        checks.append(value)
        return decoded(value, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(jwt, "decode", counted)

    # when it is verified three times
    first = service.verify(token)
    again = [service.verify(token) for _ in range(2)]

    # then its signature was checked once, and every answer is the same
    assert len(checks) == 1
    assert all(claims == first for claims in again)


def test_a_remembered_token_is_refused_once_it_expires(
    service: TokenService, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a remembered token that lives 60 seconds
    token, ttl = service.mint(kind=SubjectKind.USER, subject_id=uuid.uuid4())
    claims = service.verify(token)

    # when the clock passes its expiry and the leeway
    later = claims.expires_at + LEEWAY_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: float(later))

    # then it is refused, as a fresh check would refuse it
    with pytest.raises(InvalidTokenError):
        service.verify(token)
    with pytest.raises(InvalidTokenError):
        service.verify(token)
    assert ttl == 60


def test_a_token_changed_by_one_character_is_checked_afresh_and_refused(
    service: TokenService,
) -> None:
    # given a remembered token
    token, _ = service.mint(kind=SubjectKind.USER, subject_id=uuid.uuid4())
    service.verify(token)

    # when its signature is altered
    head, payload, signature = token.split(".")
    altered = (
        f"{head}.{payload}.{signature[:-2]}{'A' if signature[-2] != 'A' else 'B'}{signature[-1]}"
    )

    # then the altered text is verified on its own, and refused
    with pytest.raises(InvalidTokenError):
        service.verify(altered)


async def test_a_remembered_token_of_a_deactivated_user_is_refused_on_the_next_request(
    admin_client: GraphQLClient, world: World, db: AsyncSession
) -> None:
    # given the admin's token, used once (so remembered)
    assert (await admin_client("{ viewer { email } }")).ok()["viewer"]["email"]

    # when the user is deactivated
    world.acme_admin.status = UserStatus.DEACTIVATED
    db.add(world.acme_admin)
    await db.flush()

    # then the same token is refused on the next request
    response = await admin_client("{ viewer { email } }")
    assert response.status_code == 401, response.body
