"""Name search shared by employees and documents: every word, any order, partial, any case."""

from __future__ import annotations

import re

from portal.resolvers.accounts import escape_like

_WORD_SEPARATORS = re.compile(r"[\s,]+")


def name_words(text: str) -> list[str]:
    """The lower-case words of a name query, LIKE-escaped (matched against ``full_name``, which
    is lower(first || ' ' || last) and trigram-indexed)."""
    return [escape_like(word) for word in _WORD_SEPARATORS.split(text.lower()) if word]
