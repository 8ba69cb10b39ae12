"""The ``@requires`` rule of every guarded field is readable in introspection (GraphiQL's docs,
generated clients), not only in the printed SDL."""

from __future__ import annotations

from portal.schema import print_sdl
from tests.support.graphql import GraphQLClient

INTROSPECT = """
{ __schema { types { name fields { name description } } } }
"""


async def test_introspection_shows_who_may_read_each_guarded_field(
    admin_client: GraphQLClient,
) -> None:
    # When a signed-in client introspects the schema (anonymous callers may not)
    types = (await admin_client(INTROSPECT)).ok()["__schema"]["types"]
    fields = {
        f"{type_['name']}.{field['name']}": field["description"] or ""
        for type_ in types
        for field in type_["fields"] or []
    }
    # Then each guarded field's description ends with its rule in words
    assert fields["Query.visits"].endswith(
        "Requires: STAFF, USER_ADMIN, or a user holding VIEW_VISIT_ACTIVITY; "
        "API clients: scope visits:read."
    )
    assert fields["Query.documents"].endswith(
        "Requires: BASIC, STAFF, or USER_ADMIN; API clients: scope documents:read."
    )
    assert fields["Mutation.inviteUser"].endswith("Requires: USER_ADMIN; API clients: not allowed.")
    assert fields["Query.medicalCenters"].endswith(
        "Requires: any signed-in caller (API clients too)."
    )
    # And the description written by hand is kept before it
    assert fields["Query.visits"].startswith("Visits of your account(s)")
    # And fields without a rule say nothing of the kind
    assert "Requires:" not in fields["Query.signOnLinks"]


def test_every_field_with_the_directive_describes_its_rule() -> None:
    sdl = print_sdl()
    guarded_lines = [line for line in sdl.splitlines() if "@requires" in line and ":" in line]
    assert len(guarded_lines) > 30
    # Each directive use is preceded by a description block holding "Requires:"
    for line in guarded_lines:
        if line.startswith("directive @requires"):
            continue
        index = sdl.index(line)
        before = sdl[:index].rstrip()
        assert before.endswith('"""'), line
        description = before[: -len('"""')].rsplit('"""', 1)[-1]
        assert "Requires:" in description, line
