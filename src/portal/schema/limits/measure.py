"""The size of an operation once its fragments are expanded, measured in time linear in the
document: each fragment is measured once (after the fragments it spreads) and every spread of
it adds that memoised measure, so ``...F`` spread twice in each of 20 nested fragments costs 20
steps, not 2**20. A fragment that spreads itself, directly or not, is refused.

Every dimension of a selection is folded in one place (``_field``): depth, aliases, fields, and
the static cost, which needs the schema (and the variables, for ``first: $n``):

- an object field costs 1, a scalar or enum field 0, introspection 0;
- a list field's cost is per item (``per_item``) until the field holding it decides how many
  items: a connection (a field taking ``first``/``last``) multiplies the lists it holds
  (``edges``, ``nodes``) by its page size (``first`` or ``last``, else the default page size,
  at most the largest), any other field by ``LIST_ESTIMATE``.

So ``documents(first: 100) { edges { node { employee { id } } } }`` costs
1 + 100 x (1 + 1 + 1) = 301: about the objects the answer may hold."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_list_type,
    is_non_null_type,
)

from portal.resolvers.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE

# Counts saturate here: an expanded bomb may hold 2**1000 fields; nothing needs the exact number.
SATURATED = 10**12
# The items a list outside a connection is assumed to hold (an employee's documents, ...).
LIST_ESTIMATE = 10
PAGE_ARGUMENTS = ("first", "last")


def _sat(value: int) -> int:
    return min(value, SATURATED)


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
    # Static cost settled so far, and the cost per item of lists still waiting for their count.
    cost: int = 0
    per_item: int = 0

    def beside(self, other: Measure) -> Measure:
        """Two selections side by side in one selection set."""
        return Measure(
            depth=max(self.depth, other.depth),
            aliases=_sat(self.aliases + other.aliases),
            fields=_sat(self.fields + other.fields),
            cost=_sat(self.cost + other.cost),
            per_item=_sat(self.per_item + other.per_item),
        )

    @property
    def total_cost(self) -> int:
        """The cost of a whole operation: lists at its root count ``LIST_ESTIMATE`` items."""
        return _sat(self.cost + LIST_ESTIMATE * self.per_item)


NOTHING = Measure()


class _Costs:
    """What the schema and the variables say about a field's cost."""

    def __init__(self, schema: GraphQLSchema | None, variables: Mapping[str, Any]) -> None:
        self.schema = schema
        self.variables = variables
        # Whether a variable decided a page size (then the measure holds for these values only).
        self.read_variables = False

    def definition(self, parent: GraphQLNamedType | None, node: FieldNode) -> GraphQLField | None:
        if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)):
            found: GraphQLField | None = parent.fields.get(node.name.value)
            return found
        return None

    def type_named(self, name: str, default: GraphQLNamedType | None) -> GraphQLNamedType | None:
        if self.schema is None:
            return None
        return self.schema.get_type(name) or default

    def page_size(self, node: FieldNode) -> int:
        for argument in node.arguments or ():
            if argument.name.value not in PAGE_ARGUMENTS:
                continue
            value: Any = None
            if isinstance(argument.value, IntValueNode):
                value = int(argument.value.value)
            elif isinstance(argument.value, VariableNode):
                self.read_variables = True
                value = self.variables.get(argument.value.name.value)
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                return min(value, MAX_PAGE_SIZE)
        return DEFAULT_PAGE_SIZE

    def field(self, node: FieldNode, definition: GraphQLField | None, inner: Measure) -> int:
        """The settled cost of one field's own object and of what it selects."""
        if definition is not None and any(a in definition.args for a in PAGE_ARGUMENTS):
            held = self.page_size(node) * inner.per_item
        else:
            held = LIST_ESTIMATE * inner.per_item
        own = 1 if node.selection_set else 0  # an object; scalars and enums are free
        return _sat(own + inner.cost + held)


def _is_list(definition: GraphQLField | None) -> bool:
    if definition is None:
        return False
    field_type: Any = definition.type
    if is_non_null_type(field_type):
        field_type = field_type.of_type
    return is_list_type(field_type)


def _field(
    node: FieldNode, selected: Measure | None, definition: GraphQLField | None, costs: _Costs
) -> Measure:
    """One field with the measure of its own selection set (None for a leaf)."""
    inner = selected or NOTHING
    # Introspection (``__schema``, ``__type``) nests type references deeply by design: it counts
    # for fields and aliases, not for depth or cost.
    introspection = node.name.value.startswith("__")
    cost = 0 if introspection else costs.field(node, definition, inner)
    per_item = _is_list(definition) and not introspection
    return Measure(
        depth=0 if selected is None or introspection else 1 + inner.depth,
        aliases=_sat(inner.aliases + (1 if node.alias is not None else 0)),
        fields=_sat(inner.fields + 1),
        cost=0 if per_item else cost,
        per_item=cost if per_item else 0,
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


def _measure(
    selection_set: SelectionSetNode,
    parent: GraphQLNamedType | None,
    fragments: dict[str, Measure],
    costs: _Costs,
) -> Measure:
    """Post-order walk with an explicit stack (nesting never recurses in Python)."""
    results: dict[int, Measure] = {}
    definitions: dict[int, GraphQLField | None] = {}
    stack: list[tuple[SelectionSetNode, GraphQLNamedType | None, bool]] = [
        (selection_set, parent, False)
    ]
    while stack:
        node, node_type, children_done = stack.pop()
        if not children_done:
            stack.append((node, node_type, True))
            for selection in node.selections:
                if isinstance(selection, FieldNode):
                    definition = costs.definition(node_type, selection)
                    definitions[id(selection)] = definition
                    if selection.selection_set:
                        inner_type = get_named_type(definition.type) if definition else None
                        stack.append((selection.selection_set, inner_type, False))
                elif isinstance(selection, InlineFragmentNode):
                    condition = selection.type_condition
                    inner_type = (
                        costs.type_named(condition.name.value, node_type)
                        if condition
                        else node_type
                    )
                    stack.append((selection.selection_set, inner_type, False))
            continue
        total = NOTHING
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                inner = (
                    results.pop(id(selection.selection_set)) if selection.selection_set else None
                )
                definition = definitions.pop(id(selection))
                total = total.beside(_field(selection, inner, definition, costs))
            elif isinstance(selection, InlineFragmentNode):
                total = total.beside(results.pop(id(selection.selection_set)))
            elif isinstance(selection, FragmentSpreadNode):
                # An unknown fragment measures nothing here; validation reports it.
                total = total.beside(fragments.get(selection.name.value, NOTHING))
        results[id(node)] = total
    return results[id(selection_set)]


def measure_operations(
    document: DocumentNode,
    *,
    schema: GraphQLSchema | None = None,
    variables: Mapping[str, Any] | None = None,
) -> list[tuple[str | None, Measure]]:
    """The expanded measure of each operation of ``document``, with its name (None when
    anonymous). Without a schema every object field costs 1 and no list is known.

    Raises FragmentCycle when a fragment spreads itself."""
    return measure_document(document, schema=schema, variables=variables)[0]


def measure_document(
    document: DocumentNode,
    *,
    schema: GraphQLSchema | None = None,
    variables: Mapping[str, Any] | None = None,
) -> tuple[list[tuple[str | None, Measure]], bool]:
    """``measure_operations``, and whether a variable's value entered the measures."""
    costs = _Costs(schema, variables or {})
    definitions = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    fragments: dict[str, Measure] = {}
    for name in _fragment_order(definitions):
        definition = definitions[name]
        condition = costs.type_named(definition.type_condition.name.value, None)
        fragments[name] = _measure(definition.selection_set, condition, fragments, costs)
    measures: list[tuple[str | None, Measure]] = []
    for d in document.definitions:
        if isinstance(d, OperationDefinitionNode):
            root = schema.get_root_type(d.operation) if schema is not None else None
            measures.append(
                (
                    d.name.value if d.name else None,
                    _measure(d.selection_set, root, fragments, costs),
                )
            )
    return measures, costs.read_variables
