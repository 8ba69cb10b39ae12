"""Text that a person sets and others are shown (names of documents, API clients, people,
companies; descriptions): no control characters and no bidirectional-override or isolate
characters, which could hide or reorder what a reader sees (``invoice\u202efdp.exe`` reads as
``invoiceexe.pdf``)."""

from __future__ import annotations

import unicodedata

from portal.resolvers.errors import BadUserInput

# Explicit direction marks, embeddings, overrides and isolates (Unicode bidirectional algorithm).
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
HIDDEN = "cannot contain control or text-direction characters (found U+{code:04X})."


def hidden_character(value: str, *, allow_line_breaks: bool = False) -> str | None:
    """The first control or bidirectional-control character of ``value``, if any."""
    for character in value:
        if character in BIDI_CONTROLS:
            return character
        if unicodedata.category(character) == "Cc":
            if allow_line_breaks and character in "\n\r\t":
                continue
            return character
    return None


def check_display_text(
    value: str, *, field: str, what: str, allow_line_breaks: bool = False
) -> str:
    """``value`` unchanged, or ``BadUserInput`` on ``field`` naming the offending character."""
    found = hidden_character(value, allow_line_breaks=allow_line_breaks)
    if found is not None:
        raise BadUserInput(f"{what} {HIDDEN.format(code=ord(found))}", field=field)
    return value
