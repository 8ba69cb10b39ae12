"""Company information and locations over HTTP: `updateAccount`, `addLocation`,
`updateLocation`, `removeLocation` (User Admins of the account, and staff)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from portal.models import Account, Document, Employee, Location, ReportSubscription, Visit
from portal.schema.accounts import Account as AccountNode
from portal.schema.accounts import Location as LocationNode
from portal.schema.relay import global_id
from tests.schema.accounts.conftest import ERRORS, audit_events, user_errors
from tests.support.graphql import GraphQLClient, assert_forbidden, assert_unauthenticated
from tests.support.world import World

UPDATE_ACCOUNT = f"""
mutation ($input: UpdateAccountInput!) {{
  updateAccount(input: $input) {{
    account {{ id name mainPhone fax mailingAddress {{ street city state postalCode }} }}
    {ERRORS}
  }}
}}
"""
ADD_LOCATION = f"""
mutation ($input: AddLocationInput!) {{
  addLocation(input: $input) {{
    location {{ id name state phone address {{ city postalCode }} }}
    {ERRORS}
  }}
}}
"""
UPDATE_LOCATION = f"""
mutation ($input: UpdateLocationInput!) {{
  updateLocation(input: $input) {{ location {{ id name phone state }} {ERRORS} }}
}}
"""
REMOVE_LOCATION = f"""
mutation ($input: RemoveLocationInput!) {{
  removeLocation(input: $input) {{
    removedLocationId
    movedTo {{ name }}
    moved {{ employees authorizations reportSubscriptions visits documents }}
    inUse {{ employees authorizations reportSubscriptions visits documents }}
    {ERRORS}
  }}
}}
"""
ADDRESS = {"street": "500 Commerce St", "city": "Fort Worth", "state": "tx", "postalCode": "76102"}


def location_id(location: Location | uuid.UUID) -> str:
    return global_id(LocationNode, location if isinstance(location, uuid.UUID) else location.id)


async def fresh(db: AsyncSession, model: Any, row_id: uuid.UUID) -> Any:
    return await db.get(model, row_id, populate_existing=True)


# -- updateAccount --


async def test_admin_updates_company_information_and_it_is_audited(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # When a User Admin changes the name, mailing address, phone and fax
    result = (
        await admin_client(
            UPDATE_ACCOUNT,
            {
                "input": {
                    "name": "  Acme  Logistics Inc. ",
                    "mailingAddress": ADDRESS,
                    "mainPhone": "214.555.0199",
                    "fax": "(214) 555 0198",
                }
            },
        )
    ).ok()["updateAccount"]
    # Then the answer and the row carry the normalised values
    assert result["userErrors"] == []
    account = result["account"]
    assert account["name"] == "Acme Logistics Inc."
    assert account["mainPhone"] == "(214) 555-0199"
    assert account["fax"] == "(214) 555-0198"
    assert account["mailingAddress"] == {
        "street": "500 Commerce St",
        "city": "Fort Worth",
        "state": "TX",
        "postalCode": "76102",
    }
    row = await fresh(db, Account, world.acme.id)
    assert (row.name, row.mailing_state) == ("Acme Logistics Inc.", "TX")
    # And the audit trail holds only what changed, before and after, in Acme's account
    [event] = await audit_events(db, "account.updated")
    assert event.account_id == world.acme.id
    assert event.details["before"]["name"] == "Acme Logistics"
    assert event.details["after"]["name"] == "Acme Logistics Inc."
    assert event.details["before"]["mainPhone"] == "214-555-0100"
    assert event.details["after"]["mailingAddress"]["city"] == "Fort Worth"
    assert "billingAddress" not in event.details["after"]


async def test_an_empty_fax_clears_it(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    await admin_client(UPDATE_ACCOUNT, {"input": {"fax": "214-555-0198"}})
    result = (await admin_client(UPDATE_ACCOUNT, {"input": {"fax": ""}})).ok()["updateAccount"]
    assert result["account"]["fax"] is None
    assert (await fresh(db, Account, world.acme.id)).fax is None


async def test_staff_update_any_account_by_id(
    staff_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    variables = {"input": {"accountId": global_id(AccountNode, world.globex.id), "name": "Globex"}}
    result = (await staff_client(UPDATE_ACCOUNT, variables)).ok()["updateAccount"]
    assert result["userErrors"] == []
    assert (await fresh(db, Account, world.globex.id)).name == "Globex"
    [event] = await audit_events(db, "account.updated")
    assert event.account_id == world.globex.id


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mailingAddress": {**ADDRESS, "state": "XX"}}, "mailingAddress.state"),
        ({"billingAddress": {**ADDRESS, "postalCode": "7510"}}, "billingAddress.postalCode"),
        ({"billingAddress": {**ADDRESS, "city": "  "}}, "billingAddress.city"),
        ({"mainPhone": "555-0100"}, "mainPhone"),
        ({"fax": "not a number"}, "fax"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 500}, "name"),
    ],
)
async def test_bad_company_information_is_refused_and_nothing_written(
    change: dict[str, Any], field: str, admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    result = (await admin_client(UPDATE_ACCOUNT, {"input": {"name": "Renamed", **change}})).ok()
    payload = result["updateAccount"]
    assert payload["account"] is None
    assert user_errors(payload) == [(field, "BAD_USER_INPUT")]
    assert (await fresh(db, Account, world.acme.id)).name == "Acme Logistics"


async def test_staff_must_name_the_account(staff_client: GraphQLClient) -> None:
    payload = (await staff_client(UPDATE_ACCOUNT, {"input": {"name": "X"}})).ok()["updateAccount"]
    assert user_errors(payload) == [("accountId", "BAD_USER_INPUT")]


async def test_another_accounts_admin_cannot_update_acme(
    globex_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    variables = {"input": {"accountId": global_id(AccountNode, world.acme.id), "name": "Hacked"}}
    payload = (await globex_client(UPDATE_ACCOUNT, variables)).ok()["updateAccount"]
    assert user_errors(payload) == [("accountId", "NOT_FOUND")]
    assert (await fresh(db, Account, world.acme.id)).name == "Acme Logistics"


async def test_a_tpa_admin_does_not_edit_its_clients_information(
    tpa_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    variables = {"input": {"accountId": global_id(AccountNode, world.contoso.id), "name": "X"}}
    payload = (await tpa_client(UPDATE_ACCOUNT, variables)).ok()["updateAccount"]
    assert user_errors(payload) == [("accountId", "NOT_FOUND")]
    assert (await fresh(db, Account, world.contoso.id)).name == "Contoso Freight"


@pytest.mark.parametrize("actor", ["basic", "visits", "api_client", "provider_client"])
async def test_others_may_not_update_the_account(
    actor: str, clients: dict[str, GraphQLClient], db: AsyncSession, world: World
) -> None:
    assert_forbidden(
        await clients[actor](UPDATE_ACCOUNT, {"input": {"name": "X"}}), ["updateAccount"]
    )
    assert (await fresh(db, Account, world.acme.id)).name == "Acme Logistics"


async def test_anonymous_may_not_update_the_account(anonymous_client: GraphQLClient) -> None:
    assert_unauthenticated(await anonymous_client(UPDATE_ACCOUNT, {"input": {"name": "X"}}))


# -- addLocation / updateLocation --


async def test_admin_adds_a_location(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    variables = {"input": {"name": "Fort Worth Depot", "address": ADDRESS, "phone": "817 555 0101"}}
    payload = (await admin_client(ADD_LOCATION, variables)).ok()["addLocation"]
    assert payload["userErrors"] == []
    location = payload["location"]
    assert (location["name"], location["state"], location["phone"]) == (
        "Fort Worth Depot",
        "TX",
        "(817) 555-0101",
    )
    count = await db.scalar(
        sa.select(sa.func.count()).where(col(Location.account_id) == world.acme.id)
    )
    assert count == 3
    [event] = await audit_events(db, "location.added")
    assert event.details["after"]["name"] == "Fort Worth Depot"
    assert event.details["before"] is None


async def test_staff_add_a_location_to_a_named_account(
    staff_client: GraphQLClient, world: World
) -> None:
    variables = {
        "input": {
            "accountId": global_id(AccountNode, world.globex.id),
            "name": "Joliet Annex",
            "address": {**ADDRESS, "state": "IL", "postalCode": "60431-1234"},
        }
    }
    payload = (await staff_client(ADD_LOCATION, variables)).ok()["addLocation"]
    query = "query ($id: ID!) { node(id: $id) { ... on Location { account { name } } } }"
    node = (await staff_client(query, {"id": payload["location"]["id"]})).ok()["node"]
    assert node["account"]["name"] == "Globex Manufacturing"


@pytest.mark.parametrize(
    ("change", "field", "code"),
    [
        ({"name": "dallas hub"}, "name", "BAD_USER_INPUT"),
        ({"address": {**ADDRESS, "state": "Texas"}}, "address.state", "BAD_USER_INPUT"),
        ({"address": {**ADDRESS, "postalCode": "ABCDE"}}, "address.postalCode", "BAD_USER_INPUT"),
        ({"phone": "12"}, "phone", "BAD_USER_INPUT"),
        ({"accountId": "not-an-id"}, "accountId", "BAD_USER_INPUT"),
    ],
)
async def test_bad_locations_are_refused(
    change: dict[str, Any],
    field: str,
    code: str,
    admin_client: GraphQLClient,
    db: AsyncSession,
    world: World,
) -> None:
    variables = {"input": {"name": "New Place", "address": ADDRESS, **change}}
    payload = (await admin_client(ADD_LOCATION, variables)).ok()["addLocation"]
    assert user_errors(payload) == [(field, code)]
    count = await db.scalar(
        sa.select(sa.func.count()).where(col(Location.account_id) == world.acme.id)
    )
    assert count == 2


async def test_admin_updates_a_location_with_before_and_after(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    variables = {
        "input": {"id": location_id(world.acme_dallas), "name": "Dallas Hub North", "phone": ""}
    }
    payload = (await admin_client(UPDATE_LOCATION, variables)).ok()["updateLocation"]
    assert payload["userErrors"] == []
    assert payload["location"]["name"] == "Dallas Hub North"
    assert (await fresh(db, Location, world.acme_dallas.id)).name == "Dallas Hub North"
    [event] = await audit_events(db, "location.updated")
    assert event.details == {
        "before": {"name": "Dallas Hub"},
        "after": {"name": "Dallas Hub North"},
    }


async def test_updating_a_location_to_a_taken_name_is_refused(
    admin_client: GraphQLClient, world: World
) -> None:
    variables = {"input": {"id": location_id(world.acme_dallas), "name": "Phoenix Yard"}}
    payload = (await admin_client(UPDATE_LOCATION, variables)).ok()["updateLocation"]
    assert user_errors(payload) == [("name", "BAD_USER_INPUT")]


@pytest.mark.parametrize("mutation", ["updateLocation", "removeLocation"])
async def test_another_accounts_location_answers_like_an_unknown_one(
    mutation: str, globex_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    query = UPDATE_LOCATION if mutation == "updateLocation" else REMOVE_LOCATION
    extra = {"name": "Mine now"} if mutation == "updateLocation" else {}
    for target in (world.acme_dallas.id, uuid.uuid4()):
        variables = {"input": {"id": location_id(target), **extra}}
        payload = (await globex_client(query, variables)).ok()[mutation]
        assert user_errors(payload) == [("id", "NOT_FOUND")]
    assert (await fresh(db, Location, world.acme_dallas.id)).name == "Dallas Hub"


@pytest.mark.parametrize("actor", ["basic", "api_client"])
@pytest.mark.parametrize("mutation", ["addLocation", "updateLocation", "removeLocation"])
async def test_others_may_not_change_locations(
    actor: str, mutation: str, clients: dict[str, GraphQLClient], world: World
) -> None:
    query, variables = {
        "addLocation": (ADD_LOCATION, {"name": "X", "address": ADDRESS}),
        "updateLocation": (UPDATE_LOCATION, {"id": location_id(world.acme_dallas), "name": "X"}),
        "removeLocation": (REMOVE_LOCATION, {"id": location_id(world.acme_phoenix)}),
    }[mutation]
    assert_forbidden(await clients[actor](query, {"input": variables}), [mutation])
    assert_unauthenticated(await clients["anonymous"](query, {"input": variables}))


# -- removeLocation --


async def test_an_unused_location_is_removed(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    added = (
        await admin_client(ADD_LOCATION, {"input": {"name": "Spare", "address": ADDRESS}})
    ).ok()["addLocation"]["location"]
    payload = (await admin_client(REMOVE_LOCATION, {"input": {"id": added["id"]}})).ok()[
        "removeLocation"
    ]
    assert payload["userErrors"] == []
    assert payload["removedLocationId"] == added["id"]
    assert payload["moved"] == {
        "employees": 0,
        "authorizations": 0,
        "reportSubscriptions": 0,
        "visits": 0,
        "documents": 0,
    }
    [event] = await audit_events(db, "location.removed")
    assert event.details["before"]["name"] == "Spare"


async def test_a_location_in_use_says_what_holds_it_and_stays(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # Given Dallas: Alice, her authorization and visits and documents, Basic's subscription
    payload = (
        await admin_client(REMOVE_LOCATION, {"input": {"id": location_id(world.acme_dallas)}})
    ).ok()["removeLocation"]
    # Then nothing is removed and the user error names what holds it
    assert user_errors(payload) == [("id", "LOCATION_IN_USE")]
    message = payload["userErrors"][0]["message"]
    assert "1 employee" in message
    assert "1 authorization" in message
    assert "1 report subscription" in message
    assert "moveTo" in message
    assert payload["inUse"] == {
        "employees": 1,
        "authorizations": 1,
        "reportSubscriptions": 1,
        "visits": 3,
        "documents": 5,
    }
    assert await fresh(db, Location, world.acme_dallas.id) is not None


async def test_move_to_moves_every_reference_in_one_transaction(
    admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    # Given Basic already subscribed to the same report type at Phoenix (it merges)
    existing = await db.scalar(
        sa.select(ReportSubscription).where(
            col(ReportSubscription.location_id) == world.acme_dallas.id
        )
    )
    assert existing is not None
    db.add(
        ReportSubscription(
            account_id=world.acme.id,
            contact_id=existing.contact_id,
            report_type_id=existing.report_type_id,
            location_id=world.acme_phoenix.id,
        )
    )
    await db.commit()
    # When Dallas is removed with moveTo Phoenix
    variables = {
        "input": {"id": location_id(world.acme_dallas), "moveTo": location_id(world.acme_phoenix)}
    }
    payload = (await admin_client(REMOVE_LOCATION, variables)).ok()["removeLocation"]
    # Then it is gone and everything that referred to it is at Phoenix
    assert payload["userErrors"] == []
    assert payload["movedTo"] == {"name": "Phoenix Yard"}
    assert payload["moved"]["documents"] == 5
    assert await fresh(db, Location, world.acme_dallas.id) is None
    assert (await fresh(db, Employee, world.results.alice.id)).location_id == world.acme_phoenix.id
    assert (
        await fresh(db, Visit, world.results.alice_injury.id)
    ).location_id == world.acme_phoenix.id
    assert (
        await fresh(db, Document, world.results.subscribed.id)
    ).location_id == world.acme_phoenix.id
    pairs = (
        (
            await db.execute(
                sa.select(col(ReportSubscription.location_id)).where(
                    col(ReportSubscription.contact_id) == existing.contact_id
                )
            )
        )
        .scalars()
        .all()
    )
    assert pairs == [world.acme_phoenix.id]
    [event] = await audit_events(db, "location.removed")
    assert event.details["movedTo"] == str(world.acme_phoenix.id)


@pytest.mark.parametrize("target", ["same", "unknown", "foreign"])
async def test_a_bad_move_to_is_refused(
    target: str, admin_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    move_to = {
        "same": world.acme_dallas.id,
        "unknown": uuid.uuid4(),
        "foreign": world.globex_chicago.id,
    }[target]
    variables = {"input": {"id": location_id(world.acme_dallas), "moveTo": location_id(move_to)}}
    payload = (await admin_client(REMOVE_LOCATION, variables)).ok()["removeLocation"]
    code = "BAD_USER_INPUT" if target == "same" else "NOT_FOUND"
    assert user_errors(payload) == [("moveTo", code)]
    assert await fresh(db, Location, world.acme_dallas.id) is not None


async def test_another_accounts_admin_cannot_add_a_location_to_acme(
    globex_client: GraphQLClient, db: AsyncSession, world: World
) -> None:
    variables = {
        "input": {
            "accountId": global_id(AccountNode, world.acme.id),
            "name": "Sneaky",
            "address": ADDRESS,
        }
    }
    payload = (await globex_client(ADD_LOCATION, variables)).ok()["addLocation"]
    assert user_errors(payload) == [("accountId", "NOT_FOUND")]
    count = await db.scalar(
        sa.select(sa.func.count()).where(col(Location.account_id) == world.acme.id)
    )
    assert count == 2
