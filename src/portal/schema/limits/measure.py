"""The size of an operation once its fragments are expanded, measured in time linear in the
document: each fragment is measured once (after the fragments it spreads) and every spread of
it adds that memoised measure, so ``...F`` spread twice in each of 20 nested fragments costs 20
steps, not 2**20. A fragment that spreads itself, directly or not, is refused.

Every dimension of a selection is folded in one place (``_field``), on the graphql-core AST alone
(no schema, no variables): a later static cost (a weight per field multiplied by the requested
``first``/``last`` page size) is one more dimension of ``Measure`` folded there, with the field's
parent type tracked beside the selection set."""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)

# Counts saturate here: an expanded bomb may hold 2**1000 fields; nothing needs the exact number.
SATURATED = 10**12


class FragmentCycle(Exception):
    """A fragment spreads itself (directly or through others): it would expand forever."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(" -> ".join(names))
        self.names = names


@dataclass(frozen=True, slots=True)
class Measure:
    """Depth (levels of fields with sub-selections), aliases and fields of expanded selections."""

    depth: int = 0
    aliases: int = 0
    fields: int = 0

    def beside(self, other: Measure) -> Measure:
        """Two selections side by side in one selection set."""
        return Measure(
            depth=max(self.depth, other.depth),
            aliases=min(self.aliases + other.aliases, SATURATED),
            fields=min(self.fields + other.fields, SATURATED),
        )


NOTHING = Measure()


def _field(node: FieldNode, selected: Measure | None) -> Measure:
    """One field with the measure of its own selection set (None for a leaf)."""
    inner = selected or NOTHING
    # Introspection (``__schema``, ``__type``) nests type references deeply by design: it counts
    # for fields and aliases, not for depth.
    introspection = node.name.value.startswith("__")
    return Measure(
        depth=0 if selected is None or introspection else 1 + inner.depth,
        aliases=min(inner.aliases + (1 if node.alias is not None else 0), SATURATED),
        fields=min(inner.fields + 1, SATURATED),
    )


def _spreads(selection_set: SelectionSetNode) -> list[str]:
    """Names of the fragments spread anywhere inside ``selection_set`` (not through them)."""
    names: list[str] = []
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                names.append(selection.name.value)
            elif isinstance(selection, (FieldNode, InlineFragmentNode)) and selection.selection_set:
                stack.append(selection.selection_set)
    return names


def _fragment_order(fragments: dict[str, FragmentDefinitionNode]) -> list[str]:
    """The fragments, each after every fragment it spreads; raises FragmentCycle."""
    spreads = {
        name: [s for s in _spreads(d.selection_set) if s in fragments]
        for name, d in fragments.items()
    }
    order: list[str] = []
    done: set[str] = set()
    for start in fragments:
        if start in done:
            continue
        # Iterative depth-first search: a chain of a thousand fragments must not recurse.
        path = [start]
        on_path = {start}
        pending = [iter(spreads[start])]
        while pending:
            following = next(pending[-1], None)
            if following is None:
                finished = path.pop()
                on_path.discard(finished)
                pending.pop()
                done.add(finished)
                order.append(finished)
            elif following in on_path:
                raise FragmentCycle([*path[path.index(following) :], following])
            elif following not in done:
                path.append(following)
                on_path.add(following)
                pending.append(iter(spreads[following]))
    return order


def _measure(selection_set: SelectionSetNode, fragments: dict[str, Measure]) -> Measure:
    """Post-order walk with an explicit stack (nesting never recurses in Python)."""
    results: dict[int, Measure] = {}
    stack: list[tuple[SelectionSetNode, bool]] = [(selection_set, False)]
    while stack:
        node, children_done = stack.pop()
        if not children_done:
            stack.append((node, True))
            for selection in node.selections:
                if isinstance(selection, (FieldNode, InlineFragmentNode)) and (
                    selection.selection_set
                ):
                    stack.append((selection.selection_set, False))
            continue
        total = NOTHING
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                inner = (
                    results.pop(id(selection.selection_set)) if selection.selection_set else None
                )
                total = total.beside(_field(selection, inner))
            elif isinstance(selection, InlineFragmentNode):
                total = total.beside(results.pop(id(selection.selection_set)))
            elif isinstance(selection, FragmentSpreadNode):
                # An unknown fragment measures nothing here; validation reports it.
                total = total.beside(fragments.get(selection.name.value, NOTHING))
        results[id(node)] = total
    return results[id(selection_set)]


def measure_operations(document: DocumentNode) -> list[tuple[str | None, Measure]]:
    """The expanded measure of each operation of ``document``, with its name (None when
    anonymous).

    Raises FragmentCycle when a fragment spreads itself."""
    definitions = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    fragments: dict[str, Measure] = {}
    for name in _fragment_order(definitions):
        fragments[name] = _measure(definitions[name].selection_set, fragments)
    return [
        (d.name.value if d.name else None, _measure(d.selection_set, fragments))
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    ]
