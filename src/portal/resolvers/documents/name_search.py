"""The employee-name search of documents (``documents(filter: {employeeName})`` and nothing
else, the search employers run most) as statements built once per shape: the form of the
visibility rule, the number of words, whether any word is long enough to have trigram pieces.
Its values (the account family, the words' LIKE patterns, the pieces) are bound parameters, so a
request neither builds the statement nor computes its cache key again (about 2 ms of the app's
CPU a search).

It selects exactly what ``search.search_statement`` selects for the same filter: the same
visibility rule (``visibility.visible_condition``) and the same name rule as
``names.employee_name_matches`` (every word LIKE the name, the employee holding every piece, both
within the caller's account family)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import col

from portal.auth.principal import Principal
from portal.models import Document, Employee, EmployeeNameTrigram
from portal.resolvers.documents.records import document_records
from portal.resolvers.documents.visibility import (
    Visibility,
    visibility_parameters,
    visible_condition,
)
from portal.resolvers.names import checked_name_words, like_pattern, name_trigrams

# Lists expanded into one parameter each (``IN ($1, $2)``), as the general search writes them: with
# them PostgreSQL settles on a generic plan for the prepared statement, where ``= ANY($1)`` over an
# array kept it planning every execution anew (about 1.8 ms a search at 1,000,000 documents).
_FAMILY = sa.bindparam("name_family", type_=sa.Uuid(), expanding=True)
_PIECES = sa.bindparam("name_pieces", type_=sa.Text(), expanding=True)
_PIECE_COUNT = sa.bindparam("name_piece_count", type_=sa.Integer())


def _word(index: int) -> sa.BindParameter[str]:
    return sa.bindparam(f"name_word_{index}", type_=sa.Text())


@dataclass(frozen=True)
class NameSearch:
    """The search's statements for one shape: ``records`` for a page without its total (and
    ``ids``, the same rows, to count them); ``counted_records`` for a page with its total, which
    finds the matches once (``ids`` as a CTE) and counts ``counted_ids``."""

    records: sa.Select[Any]
    ids: sa.Select[Any]
    counted_records: sa.Select[Any]
    counted_ids: sa.Select[Any]


@cache
def _statements(visibility: Visibility, words: int, pieces: bool) -> NameSearch:
    in_family = col(Employee.account_id).in_(_FAMILY)
    conditions: list[sa.ColumnElement[bool]] = [
        col(Employee.full_name).like(_word(index), escape="\\") for index in range(words)
    ]
    if pieces:
        conditions.append(
            col(Employee.id).in_(
                sa.select(col(EmployeeNameTrigram.employee_id))
                .where(
                    col(EmployeeNameTrigram.account_id).in_(_FAMILY),
                    col(EmployeeNameTrigram.trigram).in_(_PIECES),
                )
                .group_by(col(EmployeeNameTrigram.employee_id))
                # One row per (piece, employee): holding them all means count = len(pieces).
                .having(sa.func.count() == _PIECE_COUNT)
            )
        )
    # Scoped by account too, so every index used starts with the tenant.
    named = col(Document.employee_id).in_(sa.select(col(Employee.id)).where(in_family, *conditions))
    visible = visible_condition(visibility)
    ids = sa.select(col(Document.id)).select_from(Document).where(visible, named)
    matching = ids.cte("matching")
    return NameSearch(
        records=document_records().where(visible, named),
        ids=ids,
        counted_records=document_records().where(col(Document.id).in_(sa.select(matching.c.id))),
        counted_ids=sa.select(matching.c.id),
    )


def prebuilt_name_search(
    principal: Principal, text: str, *, argument: str, field: str
) -> tuple[NameSearch, dict[str, Any]] | None:
    """The statements and their values for ``principal``'s search of ``text``, or None when its
    form of the visibility rule is not an employer's (staff, no access: built per request)."""
    visibility, values = visibility_parameters(principal)
    scope = principal.scope
    if visibility not in (Visibility.EMPLOYER, Visibility.SUBSCRIBER):
        return None
    if scope.all_accounts or scope.account_ids != principal.account_ids:
        return None  # the tenant condition below is the family's
    words = checked_name_words(text, argument=argument, field=field)
    pieces = name_trigrams(words)
    values[_FAMILY.key] = sorted(principal.account_ids)
    values.update({_word(index).key: like_pattern(word) for index, word in enumerate(words)})
    if pieces:
        values[_PIECES.key] = pieces
        values[_PIECE_COUNT.key] = len(pieces)
    return _statements(visibility, len(words), bool(pieces)), values
