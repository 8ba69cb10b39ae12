"""One validation error for many misused directives.

An operation can carry as many directives as its token budget allows; validation would answer an
error for each (``@a @b @c ...``: "directive overloading"), a response as large as the abuse.
Unknown directives answer one error naming the first few, and directives repeated where each is
allowed once answer one error too."""

from __future__ import annotations

import re
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

NAMED = 5
_KINDS = {
    "unknown": (re.compile(r"^Unknown directive '@(\w+)'\.$"), "Unknown directives: {names}."),
    "repeated": (
        re.compile(r"^The directive '@(\w+)' can only be used once at this location\.$"),
        "Directives used more than once where each is allowed once: {names}.",
    ),
}


def collapse_directive_errors(errors: list[GraphQLError]) -> list[GraphQLError]:
    """``errors`` with each kind of directive error merged into the first of its kind."""
    kept: list[GraphQLError] = []
    names: dict[str, list[str]] = {}
    first: dict[str, int] = {}
    for error in errors:
        for kind, (pattern, _) in _KINDS.items():
            match = pattern.match(error.message)
            if match is not None:
                names.setdefault(kind, [])
                if match.group(1) not in names[kind]:
                    names[kind].append(match.group(1))
                if kind not in first:
                    first[kind] = len(kept)
                    kept.append(error)
                break
        else:
            kept.append(error)
    for kind, index in first.items():
        found = names[kind]
        if len(found) == 1:
            continue
        shown = ", ".join(f"@{name}" for name in found[:NAMED])
        if len(found) > NAMED:
            shown += f" and {len(found) - NAMED} more"
        original = kept[index]
        kept[index] = GraphQLError(
            _KINDS[kind][1].format(names=shown),
            nodes=original.nodes,
            source=original.source,
            positions=original.positions,
        )
    return kept


class OneDirectiveError(SchemaExtension):
    """Merges the directive errors that validation found. Listed after ``ValidationCache``, whose
    hook has validated (or answered from its cache) before this one starts; the cached list is
    left as it is."""

    def on_validate(self) -> Iterator[None]:
        errors = self.execution_context.pre_execution_errors
        if errors:
            self.execution_context.pre_execution_errors = collapse_directive_errors(errors)
        yield
