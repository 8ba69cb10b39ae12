"""Name search shared by employees and documents: every word, any order, partial, any case.

Each word must appear in the employee's ``full_name`` (lower(first || ' ' || last)). The rows are
found through ``employee_name_trigrams`` (every word's three-character pieces must all belong to
the employee, an index the planner can use under row-level security), then each word is checked
with LIKE, so the pieces only narrow the search and never decide a match on their own. A word of
one or two characters has no piece: it only filters what the other words found (or the tenant's
employees when no word is long enough)."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlmodel import col

from portal.models import Employee, EmployeeNameTrigram
from portal.models.db import AccountScope
from portal.models.employees import TRIGRAM_LENGTH
from portal.resolvers.accounts import escape_like
from portal.resolvers.errors import BadUserInput

_WORD_SEPARATORS = re.compile(r"[\s,]+")
# Each word adds a condition to the query: a name needs a few, never hundreds.
MAX_NAME_WORDS = 8
# The longest name query: the inputs that carry one declare it (``@maxLength`` in the SDL), so
# a longer one is refused before any work.
MAX_NAME_QUERY_LENGTH = 200


def name_words(text: str) -> list[str]:
    """The lower-case words of a name query."""
    return [word for word in _WORD_SEPARATORS.split(text.lower()) if word]


def name_trigrams(words: list[str]) -> list[str]:
    """Every distinct three-character piece of ``words``, as ``portal_name_trigrams`` (the SQL
    function that fills ``employee_name_trigrams``) cuts a name."""
    return sorted(
        {
            word[start : start + TRIGRAM_LENGTH]
            for word in words
            for start in range(len(word) - TRIGRAM_LENGTH + 1)
        }
    )


def checked_name_words(text: str, *, argument: str, field: str) -> list[str]:
    """The words of a name query, refused (BadUserInput) without a letter or with too many.

    ``argument`` and ``field`` name the input in the error."""
    words = name_words(text)
    if not words:
        raise BadUserInput(f"`{argument}` needs at least one letter.", field=field)
    if len(words) > MAX_NAME_WORDS:
        raise BadUserInput(
            f"`{argument}` holds {len(words)} words; search with at most {MAX_NAME_WORDS}.",
            field=field,
        )
    return words


def like_pattern(word: str) -> str:
    """The LIKE pattern (escape character ``\\``) finding ``word`` anywhere in a name."""
    return f"%{escape_like(word)}%"


def employee_name_matches(
    text: str, *, scope: AccountScope, argument: str, field: str
) -> sa.ColumnElement[bool]:
    """Condition on ``employees``: every word of ``text`` appears in the employee's name.

    ``argument`` and ``field`` name the input in the error a query without letters gets."""
    words = checked_name_words(text, argument=argument, field=field)
    conditions = [col(Employee.full_name).like(like_pattern(word), escape="\\") for word in words]
    pieces = name_trigrams(words)
    if pieces:
        conditions.append(
            col(Employee.id).in_(
                sa.select(col(EmployeeNameTrigram.employee_id))
                .where(
                    scope.filter(col(EmployeeNameTrigram.account_id)),
                    col(EmployeeNameTrigram.trigram).in_(pieces),
                )
                .group_by(col(EmployeeNameTrigram.employee_id))
                # One row per (piece, employee): holding them all means count = len(pieces).
                .having(sa.func.count() == len(pieces))
            )
        )
    return sa.and_(*conditions)
