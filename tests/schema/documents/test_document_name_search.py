"""The employee-name search built once per shape (``name_search``) selects exactly what the
general search (``search.search_statement``) selects, and is not rebuilt per request."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from bench.document_search import admin_of, generate
from sqlalchemy.ext.asyncio import AsyncSession

from portal.auth.principal import Principal, PrincipalKind
from portal.models.db import rescope
from portal.resolvers.documents.name_search import prebuilt_name_search
from portal.resolvers.documents.search import DocumentFilter, search_statement
from portal.resolvers.documents.visibility import DOCUMENTS_READ_SCOPE

NAMES = ["smith", "Smith, Mary", "mary smi", "o", "li sm", "ith", "zzqx", "  JONES "]


def _api_client(account_ids: frozenset[uuid.UUID]) -> Principal:
    account_id = min(account_ids)
    return Principal(
        kind=PrincipalKind.API_CLIENT,
        id=uuid.uuid4(),
        account_id=account_id,
        account_ids=account_ids,
        scopes=frozenset({DOCUMENTS_READ_SCOPE}),
    )


async def _ids(db: AsyncSession, statement: sa.Select[Any], values: dict[str, Any]) -> set[Any]:
    rows = await db.execute(statement, values)
    return {row[0] for row in rows}


@pytest.mark.parametrize("caller", ["user_admin", "api_client_of_both"])
async def test_the_prebuilt_name_search_finds_what_the_general_search_finds(
    db: AsyncSession, caller: str
) -> None:
    # given 2,400 documents of 2,000 employees over 2 accounts
    connection = await db.connection()
    account_id = await generate(connection, accounts=2, employees=2_000, documents=2_400)
    other = await db.scalar(
        sa.text(
            "SELECT id FROM accounts WHERE account_number = "
            "(SELECT replace(account_number, '-1', '-2') FROM accounts WHERE id = :id)"
        ),
        {"id": account_id},
    )
    principal = (
        admin_of(account_id)
        if caller == "user_admin"
        else _api_client(frozenset({account_id, other}))
    )
    await rescope(db, principal.scope)

    for name in NAMES:
        # when the caller searches by that name, through either form, with and without a total
        prebuilt = prebuilt_name_search(principal, name, argument="employeeName", field="f")
        assert prebuilt is not None
        search, values = prebuilt
        general = await _ids(
            db, search_statement(principal, DocumentFilter(employee_name=name)), {}
        )

        # then both find the same documents, and the ids counted are the ids listed
        assert await _ids(db, search.records, values) == general, name
        assert await _ids(db, search.ids, values) == general, name
        assert await _ids(db, search.counted_records, values) == general, name
        assert await _ids(db, search.counted_ids, values) == general, name
    assert await _ids(db, search_statement(principal, DocumentFilter(employee_name="smith")), {})


def test_searches_of_the_same_shape_share_their_statements() -> None:
    # given a User Admin
    principal = admin_of(uuid.uuid4())

    # when they search for two names of one word each, then for two words
    smith = prebuilt_name_search(principal, "smith", argument="employeeName", field="f")
    jones = prebuilt_name_search(principal, "jones", argument="employeeName", field="f")
    two = prebuilt_name_search(principal, "mary jones", argument="employeeName", field="f")

    # then the one-word searches share one statement (only their values differ)
    assert smith is not None
    assert jones is not None
    assert two is not None
    assert smith[0] is jones[0]
    assert smith[1]["name_word_0"] == "%smith%"
    assert jones[1]["name_word_0"] == "%jones%"
    assert two[0] is not smith[0]


def test_staff_search_is_built_per_request() -> None:
    # staff see every account: their form of the rule has no family to bind
    staff = Principal(kind=PrincipalKind.STAFF, id=uuid.uuid4())
    assert prebuilt_name_search(staff, "smith", argument="employeeName", field="f") is None
