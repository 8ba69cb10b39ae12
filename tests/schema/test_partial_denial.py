"""A denied field is null with FORBIDDEN at its path; the rest of the answer still arrives.

For that, every field that can be denied is nullable: a non-null one would null its parent (for
a root field, the whole ``data``) and take the fields asked beside it down with it."""

from __future__ import annotations

from graphql import GraphQLNonNull, GraphQLObjectType
from strawberry.permission import PermissionExtension

from portal.schema import build_schema
from tests.support.graphql import GraphQLClient, assert_forbidden


def guarded_non_null_fields() -> list[str]:
    schema = build_schema()
    found: list[str] = []
    for type_name, graphql_type in schema._schema.type_map.items():
        if not isinstance(graphql_type, GraphQLObjectType) or type_name == "Subscription":
            # A denied subscription is refused before it starts: no ``data`` to lose.
            continue
        for field_name, field in graphql_type.fields.items():
            definition = (field.extensions or {}).get("strawberry-definition")
            extensions = getattr(definition, "extensions", None) or []
            guarded = any(isinstance(extension, PermissionExtension) for extension in extensions)
            if guarded and isinstance(field.type, GraphQLNonNull):
                found.append(f"{type_name}.{field_name}")
    return found


def test_every_field_that_can_be_denied_is_nullable() -> None:
    # Given the schema / When its guarded fields are listed / Then none of them is non-null.
    assert guarded_non_null_fields() == []


async def test_viewer_arrives_beside_denied_root_lists(api_client: GraphQLClient) -> None:
    # Given an API client holding account:read and documents:read only
    # When it asks for its viewer beside lists its scopes do not cover
    response = await api_client(
        "{ viewer { role } employees { totalCount } visits { totalCount } "
        "auditEvents { totalCount } documents(first: 1) { totalCount } }"
    )
    # Then each denied list is null with FORBIDDEN at its own path, and the rest arrives
    for denied in ("employees", "visits", "auditEvents"):
        assert_forbidden(response, [denied])
    assert response.data["viewer"] == {"role": "API_CLIENT"}
    assert response.data["documents"]["totalCount"] >= 0
    assert len(response.errors) == 3


async def test_basic_user_keeps_viewer_when_visits_are_denied(basic_client: GraphQLClient) -> None:
    # Given a Basic user without VIEW_VISIT_ACTIVITY
    # When visits are asked beside the viewer
    response = await basic_client("{ viewer { email } visits(first: 5) { totalCount } }")
    # Then visits alone is null and FORBIDDEN; the viewer arrives
    assert_forbidden(response, ["visits"])
    assert response.data["viewer"] == {"email": "basic@acme.example"}


async def test_a_denied_mutation_does_not_hide_the_one_run_beside_it(
    anonymous_client: GraphQLClient,
) -> None:
    # Given a caller without a token
    # When one request runs a mutation open to anyone and one that needs a sign-in
    response = await anonymous_client(
        'mutation { requestPasswordReset(input: {email: "nobody@example.com"}) '
        "{ userErrors { code } } logout { userErrors { code } } }"
    )
    # Then the open one's payload arrives and only the other is null, UNAUTHENTICATED
    assert response.status_code == 200, response.body
    assert response.data["requestPasswordReset"] == {"userErrors": []}
    assert response.data["logout"] is None
    assert response.error_codes() == ["UNAUTHENTICATED"]
    assert response.errors[0]["path"] == ["logout"]
