"""PORTAL_REQUIRE_MFA_FOR_ADMINS: staff and User Admins without a confirmed second factor get a
session restricted to enrolment, derived per request, lifted as soon as the factor is confirmed."""

from __future__ import annotations

from typing import Any

import pyotp
import pytest

from portal.schema.accounts import Account
from portal.schema.relay import global_id
from portal.schema.users import PortalUser as PortalUserNode
from portal.settings import Settings
from tests.support.graphql import GraphQLClient, GraphQLResponse
from tests.support.world import PASSWORD, World


@pytest.fixture
def mfa_required(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "require_mfa_for_admins", True)


def assert_enrolment_required(response: GraphQLResponse, path: list[str | int]) -> None:
    errors = [error for error in response.errors if error.get("path") == path]
    assert errors, response.body
    assert errors[0]["extensions"] == {"code": "FORBIDDEN", "reason": "MFA_ENROLLMENT_REQUIRED"}
    assert "beginTotpEnrollment" in errors[0]["message"]


async def _sign_in(client: GraphQLClient, email: str) -> GraphQLClient:
    result: dict[str, Any] = (
        await client(
            "mutation ($e: String!, $p: String!) "
            "{ login(input: {email: $e, password: $p}) { accessToken userErrors { code } } }",
            {"e": email, "p": PASSWORD},
        )
    ).ok()["login"]
    assert result["userErrors"] == []
    return GraphQLClient(client.http, result["accessToken"])


@pytest.mark.usefixtures("mfa_required")
async def test_an_admin_without_a_factor_is_restricted_to_enrolment_until_it_is_confirmed(
    anonymous_client: GraphQLClient, world: World
) -> None:
    # Given MFA is mandatory and the admin signs in with a password only
    admin = await _sign_in(anonymous_client, "admin@acme.example")
    # Then viewer says enrolment is required
    viewer = (await admin("{ viewer { email mfaEnrollmentRequired } }")).ok()["viewer"]
    assert viewer == {"email": "admin@acme.example", "mfaEnrollmentRequired": True}
    # And every other field is FORBIDDEN with the reason, and node() answers null
    assert_enrolment_required(await admin("{ account { name } }"), ["account"])
    assert_enrolment_required(await admin("{ auditEvents { totalCount } }"), ["auditEvents"])
    node = await admin(
        "query ($id: ID!) { node(id: $id) { id } }", {"id": global_id(Account, world.acme.id)}
    )
    assert node.ok()["node"] is None
    # When they enrol and confirm
    begun = (await admin("mutation { beginTotpEnrollment { secret userErrors { code } } }")).ok()
    secret = begun["beginTotpEnrollment"]["secret"]
    confirmed = (
        await admin(
            "mutation ($c: String!) { confirmTotpEnrollment(input: {code: $c}) "
            "{ recoveryCodes userErrors { code } } }",
            {"c": pyotp.TOTP(secret).now()},
        )
    ).ok()["confirmTotpEnrollment"]
    assert len(confirmed["recoveryCodes"]) == 10
    # Then the very next request, with the same token, has a full session
    assert (await admin("{ account { name } }")).ok()["account"]["name"] == "Acme Logistics"
    viewer = (await admin("{ viewer { mfaEnrollmentRequired secondFactorEnabled } }")).ok()
    assert viewer["viewer"] == {"mfaEnrollmentRequired": False, "secondFactorEnabled": True}


@pytest.mark.usefixtures("mfa_required")
async def test_staff_without_a_factor_are_restricted_and_may_sign_out(
    anonymous_client: GraphQLClient,
) -> None:
    staff = await _sign_in(anonymous_client, "support@portal.example")
    assert_enrolment_required(await staff("{ auditEvents { totalCount } }"), ["auditEvents"])
    logout = (await staff("mutation { logout { userErrors { code } } }")).ok()
    assert logout["logout"]["userErrors"] == []


@pytest.mark.usefixtures("mfa_required")
async def test_a_basic_user_is_not_restricted(basic_client: GraphQLClient) -> None:
    data = (await basic_client("{ viewer { mfaEnrollmentRequired } account { name } }")).ok()
    assert data == {
        "viewer": {"mfaEnrollmentRequired": False},
        "account": {"name": "Acme Logistics"},
    }


@pytest.mark.usefixtures("mfa_required")
async def test_a_restricted_admin_cannot_manage_users(
    admin_client: GraphQLClient, world: World
) -> None:
    response = await admin_client(
        "mutation ($id: ID!) { deactivateUser(input: {userId: $id}) { userErrors { code } } }",
        {"id": global_id(PortalUserNode, world.acme_basic.id)},
    )
    assert_enrolment_required(response, ["deactivateUser"])


async def test_without_the_setting_an_admin_without_a_factor_has_a_full_session(
    admin_client: GraphQLClient,
) -> None:
    data = (await admin_client("{ viewer { mfaEnrollmentRequired } account { name } }")).ok()
    assert data["viewer"]["mfaEnrollmentRequired"] is False
    assert data["account"]["name"] == "Acme Logistics"
