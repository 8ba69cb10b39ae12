"""Signing-key rotation: tokens signed with the previous key keep working until they expire."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from portal.app import create_app
from portal.auth.keys import generate_key
from portal.auth.tokens import SubjectKind, TokenService
from portal.settings import Settings
from tests.support.world import World


def _write_key(path: Path) -> Path:
    path.write_text(json.dumps(generate_key().as_dict(private=True)))
    return path


async def test_a_rotated_key_keeps_earlier_tokens_valid_and_publishes_both_keys(
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
    world: World,
    tmp_path: Path,
) -> None:
    # given a token signed by the old key
    old_key, new_key = _write_key(tmp_path / "old.jwk"), _write_key(tmp_path / "new.jwk")
    before = create_app(
        settings.model_copy(update={"signing_key_file": old_key}), sessionmaker=sessionmaker
    )
    old_tokens: TokenService = before.state.tokens
    token, _ = old_tokens.mint(kind=SubjectKind.USER, subject_id=world.acme_admin.id)

    # when the instance is restarted with the new key, the old one listed as previous
    after = create_app(
        settings.model_copy(
            update={"signing_key_file": new_key, "signing_key_previous_files": str(old_key)}
        ),
        sessionmaker=sessionmaker,
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=after), base_url="http://t"
    ) as client:
        viewer = await client.post(
            "/graphql",
            json={"query": "{ viewer { email } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        jwks = (await client.get("/.well-known/jwks.json")).json()

    # then the old token still works, new tokens use the new key, and both public keys are
    # published (no private part)
    assert viewer.json()["data"]["viewer"]["email"] == "admin@acme.example"
    new_tokens: TokenService = after.state.tokens
    assert new_tokens.keys.kid != old_tokens.keys.kid
    assert {key["kid"] for key in jwks["keys"]} == {old_tokens.keys.kid, new_tokens.keys.kid}
    assert all("d" not in key for key in jwks["keys"])

    # and without the old key listed, the old token is refused
    without = create_app(
        settings.model_copy(update={"signing_key_file": new_key}), sessionmaker=sessionmaker
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=without), base_url="http://t"
    ) as client:
        refused = await client.post(
            "/graphql",
            json={"query": "{ viewer { email } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert refused.status_code == 401
    for app in (before, after, without):
        await app.state.engine.dispose()
