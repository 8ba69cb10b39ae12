"""The committed SDL is the printed schema: clients code against it, so drift must be deliberate."""

from __future__ import annotations

from portal.schema import SCHEMA_FILE, print_sdl


def test_committed_sdl_matches_the_schema() -> None:
    assert SCHEMA_FILE.read_text() == print_sdl(), (
        "run `portal export-schema` and commit the result"
    )


def test_permission_directive_prints_in_the_sdl() -> None:
    sdl = print_sdl()
    assert "directive @requires(" in sdl
    assert '@requires(roles: [BASIC, STAFF, USER_ADMIN], scope: "account:read")' in sdl
    # A role admitted to its own record only prints too (a Basic user's own contact)
    assert "@requires(roles: [STAFF, USER_ADMIN], ownRecordRoles: [BASIC])" in sdl
