"""Completion plans: an object whose selected fields are all read directly, completed in one
pass instead of field by field.

graphql-core completes an object by collecting its sub-selection, then, for every field, a path,
a resolve info, the resolver, and the completion of the value (a nested object starts it all
again). On a page of 50 documents with five nested objects that is some 1,400 fields, each
costing dozens of calls. graphql-jit and PostGraphile compile the operation once instead; this
module does the same for the part of an operation where it is safe:

- a leaf field marked plain (``PLAIN_FIELD``: read an attribute, serialise it; a node's id);
- ``__typename``;
- a field whose resolver is one of the direct resolvers (an attribute, a ``related`` target),
  behind ``@requires`` rules that are decided per request as the usual path decides them,
  returning an object type that is itself plannable;

with no arguments and no directive anywhere below (so the plan is the same for every request
sending the document: it is kept beside the parsed document, by ``OperationPipeline``).

Running a plan reads, serialises and checks exactly what the usual path would. Anything unusual
(a null where none may be, a value that does not serialise, a rule that denies, an object that
is not preloaded, any exception) abandons the plan for that object, which is then completed the
usual way, so the answer and its errors are the usual path's own. What a plan did until then is
repeated harmlessly: reads are pure, rules are decided once per request, and a PHI read is
recorded once per object whatever the number of times it is reached."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    InlineFragmentNode,
    SelectionSetNode,
    get_nullable_type,
    is_leaf_type,
    is_non_null_type,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Undefined

__all__ = ["ABANDONED", "DIRECT_RESOLVER", "GUARD", "Plan", "compile_plan", "run_plan"]

# Set on a graphql-core resolver that only reads its parent (an attribute, a ``related``
# target): a plan may call it.
DIRECT_RESOLVER = "__portal_direct__"
# Set on a guarded direct resolver: ``(rules, allowed)``, the rules it decides and the resolver
# it calls when they all admit the caller.
GUARD = "__portal_guard__"

# What running a plan answers when it must be abandoned.
ABANDONED: Any = object()

# A plain field read off its parent, a leaf read by a direct resolver, an object, __typename.
_PLAIN, _LEAF, _CHILD, _TYPENAME = 0, 1, 2, 3

# (kind, response key, read, finish, non_null, rules, sub-plan)
Entry = tuple[int, str, Any, Any, bool, tuple[Any, ...], "Plan | None"]
Plan = tuple[Entry, ...]

CollectSubfields = Callable[[GraphQLObjectType, FieldDetailsList], Any]
Decide = Callable[[Any, Any], bool]


def compile_plan(
    return_type: GraphQLObjectType,
    field_details_list: FieldDetailsList,
    *,
    collect: CollectSubfields,
    fragments: dict[str, Any],
    plain_key: str,
) -> Plan | None:
    """The plan completing ``return_type`` for these field nodes, or None when any part of the
    selection below must take the usual path. ``collect`` is the executor's own sub-field
    collection; ``plain_key`` the field extension holding a plain field's reader."""
    for details in field_details_list:
        selection = details.node.selection_set
        if selection is None or _has_directives(selection, fragments, set()):
            return None
    grouped, new_defer_usages, _ = collect(return_type, field_details_list)
    if new_defer_usages:
        return None
    entries: list[Entry] = []
    for key, sub_details in grouped.items():
        node: FieldNode = sub_details[0].node
        if node.arguments:
            return None
        name = node.name.value
        if name == "__typename":
            entries.append((_TYPENAME, key, return_type.name, None, True, (), None))
            continue
        field = return_type.fields.get(name)
        if field is None:
            return None
        resolve = field.resolve
        guard = getattr(resolve, GUARD, None)
        rules: tuple[Any, ...] = ()
        reader = resolve
        if guard is not None:
            rules, reader = guard
        non_null = is_non_null_type(field.type)
        target = get_nullable_type(field.type)
        plain = (field.extensions or {}).get(plain_key)
        if plain is not None and not rules:
            entries.append((_PLAIN, key, plain.read, plain.serialize, plain.non_null, (), None))
        elif is_leaf_type(target) and getattr(reader, DIRECT_RESOLVER, False):
            entries.append((_LEAF, key, reader, target.serialize, non_null, rules, None))
        elif isinstance(target, GraphQLObjectType) and getattr(reader, DIRECT_RESOLVER, False):
            sub = compile_plan(
                target, sub_details, collect=collect, fragments=fragments, plain_key=plain_key
            )
            if sub is None:
                return None
            entries.append((_CHILD, key, reader, target.is_type_of, non_null, rules, sub))
        else:
            return None
    return tuple(entries)


def run_plan(plan: Plan, source: Any, info: Any, decide: Decide, is_awaitable: Any) -> Any:
    """The completed object, or ``ABANDONED``."""
    result: dict[str, Any] = {}
    for kind, key, read, finish, non_null, rules, sub in plan:
        if kind == _TYPENAME:
            result[key] = read
            continue
        for rule in rules:
            if not decide(info, rule):
                return ABANDONED
        if kind != _CHILD:
            value = read(source) if kind == _PLAIN else read(source, info)
            if value is None:
                if non_null:
                    return ABANDONED
                result[key] = None
                continue
            value = finish(value)
            if value is None or value is Undefined:
                return ABANDONED
            result[key] = value
            continue
        value = read(source, info)
        if value is None:
            if non_null:
                return ABANDONED
            result[key] = None
            continue
        if is_awaitable(value):
            value.close()  # never started (the object was not preloaded): nothing ran
            return ABANDONED
        if finish is not None and not finish(value, info):
            return ABANDONED
        completed = run_plan(sub, value, info, decide, is_awaitable)  # type: ignore[arg-type]
        if completed is ABANDONED:
            return ABANDONED
        result[key] = completed
    return result


def _has_directives(
    selection_set: SelectionSetNode, fragments: dict[str, Any], seen: set[str]
) -> bool:
    for selection in selection_set.selections:
        if selection.directives:
            return True
        if isinstance(selection, FieldNode):
            if selection.selection_set is not None and _has_directives(
                selection.selection_set, fragments, seen
            ):
                return True
        elif isinstance(selection, InlineFragmentNode):
            if _has_directives(selection.selection_set, fragments, seen):
                return True
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            if name in seen:
                continue
            seen.add(name)
            details = fragments.get(name)
            definition: FragmentDefinitionNode | None = getattr(details, "definition", details)
            if definition is None:
                return True
            if definition.directives or _has_directives(definition.selection_set, fragments, seen):
                return True
    return False


def plan_key(return_type: GraphQLObjectType, field_details_list: Sequence[Any]) -> tuple[Any, ...]:
    return (return_type.name, *(id(details.node) for details in field_details_list))
