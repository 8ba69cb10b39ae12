"""Every input of an operation, bounded and checked before execution starts.

- Every string anywhere (inline literals, variable values, variable defaults, upload file names):
  no NUL character and no unpaired UTF-16 surrogate (PostgreSQL and UTF-8 accept neither), and
  at most ``max_string_length`` characters. An argument or input field may declare a smaller
  bound beside itself with ``max_length(n)``, printed in the SDL as ``@maxLength(chars: n)``.
- Every list in the variables holds at most ``max_list_length`` items (inline lists are bounded by
  the token limit of the document).
- Variable values that do not fit their declared type (a bad Date, "abc" for an Int, an unknown
  enum value) are the caller's error, with the variable's path, as the same values written inline
  are. (``Upload`` takes any value here: ``postDocument`` answers a value that is not a file part
  with its own user error.)

Each failure is BAD_USER_INPUT with ``extensions.field``: the argument path where the value sits
(``filter.employeeName``), or the variable path (``$filter.postedAfter``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql import (
    ArgumentNode,
    DocumentNode,
    GraphQLArgument,
    GraphQLError,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    Node,
    ObjectFieldNode,
    OperationDefinitionNode,
    StringValueNode,
    TypeInfo,
    TypeInfoVisitor,
    VariableDefinitionNode,
    VariableNode,
    Visitor,
    get_named_type,
    is_input_object_type,
    is_input_type,
    is_list_type,
    is_non_null_type,
    type_from_ast,
    validate_input_value,
    visit,
)
from graphql.pyutils import Undefined
from strawberry.schema_directive import Location

from portal.resolvers.errors import ErrorCode

# Enough for the caller to fix several mistakes at once; never an answer as big as the input.
MAX_ERRORS = 10
# A field name inside an input object: a GraphQL name, never a text.
MAX_FIELD_NAME_LENGTH = 256


@strawberry.schema_directive(
    locations=[Location.ARGUMENT_DEFINITION, Location.INPUT_FIELD_DEFINITION],
    name="maxLength",
    description="The most characters this text accepts (longer is BAD_USER_INPUT).",
)
class MaxLength:
    chars: int


def max_length(chars: int) -> MaxLength:
    """Declare beside an argument or input field: ``directives=[max_length(200)]``."""
    return MaxLength(chars=chars)


def declared_max_length(definition: GraphQLArgument | GraphQLInputField | None) -> int | None:
    if definition is None:
        return None
    source = (definition.extensions or {}).get("strawberry-definition")
    for directive in getattr(source, "directives", None) or ():
        if isinstance(directive, MaxLength):
            return directive.chars
    return None


@dataclass(frozen=True, slots=True)
class InputLimits:
    max_string_length: int
    max_list_length: int


def bad_input(message: str, label: str, nodes: Node | list[Node] | None = None) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=nodes,
        extensions={"code": ErrorCode.BAD_USER_INPUT.value, "field": label},
    )


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored or compared as text, if it cannot."""
    if "\x00" in text:
        return "contains a NUL character (U+0000), which no input accepts"
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return "contains an unpaired UTF-16 surrogate, which is not valid Unicode text"
    return None


def check_text(text: str, label: str, limit: int, nodes: Node | None = None) -> GraphQLError | None:
    problem = text_problem(text)
    if problem is not None:
        return bad_input(f"`{label}` {problem}.", label, nodes)
    if len(text) > limit:
        return bad_input(f"`{label}` is longer than {limit} characters.", label, nodes)
    return None


def _is_file(value: object) -> bool:
    return hasattr(value, "filename") and hasattr(value, "read")


@dataclass
class _Usage:
    """Where a variable is used: the argument path there, and the input type expected."""

    label: str
    type: GraphQLInputType
    limit: int | None


class _LiteralChecker(Visitor):
    """Checks inline strings (with the bound declared where they sit) and records where each
    variable is used, over the document as written (fragments once each)."""

    def __init__(self, type_info: TypeInfo, limits: InputLimits) -> None:
        super().__init__()
        self.type_info = type_info
        self.limits = limits
        self.errors: list[GraphQLError] = []
        self.usages: dict[str, list[_Usage]] = {}
        # (label, declared bound) of the argument or input field being walked.
        self._positions: list[tuple[str, int | None]] = []
        self._defining: str | None = None

    def enter_variable_definition(self, node: VariableDefinitionNode, *_: Any) -> None:
        self._defining = node.variable.name.value

    def leave_variable_definition(self, node: VariableDefinitionNode, *_: Any) -> None:
        self._defining = None

    def enter_argument(self, node: ArgumentNode, *_: Any) -> None:
        self._positions.append(
            (node.name.value, declared_max_length(self.type_info.get_argument()))
        )

    def leave_argument(self, node: ArgumentNode, *_: Any) -> None:
        self._positions.pop()

    def enter_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
        parent = get_named_type(self.type_info.get_parent_input_type())
        definition = (
            parent.fields.get(node.name.value)
            if isinstance(parent, GraphQLInputObjectType)
            else None
        )
        label = f"{self._label()}.{node.name.value}" if self._positions else node.name.value
        self._positions.append((label, declared_max_length(definition)))

    def leave_object_field(self, node: ObjectFieldNode, *_: Any) -> None:
        self._positions.pop()

    def _label(self) -> str:
        if self._positions:
            return self._positions[-1][0]
        return f"${self._defining}" if self._defining else "value"

    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        declared = self._positions[-1][1] if self._positions else None
        limit = min(declared or self.limits.max_string_length, self.limits.max_string_length)
        error = check_text(node.value, self._label(), limit, node)
        if error is not None:
            self.errors.append(error)

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        if not self._positions:  # the variable's own name in its definition
            return
        expected = self.type_info.get_input_type()
        if expected is None or not is_input_type(expected):
            return  # an unknown argument: validation has reported it
        label, declared = self._positions[-1]
        self.usages.setdefault(node.name.value, []).append(_Usage(label, expected, declared))


def _raw_problems(
    value: object, label: str, limits: InputLimits, root_limit: int
) -> Iterator[GraphQLError]:
    """Every string (keys too), list and upload file name inside a variable's value."""
    stack: list[tuple[object, str, int]] = [(value, label, root_limit)]
    while stack:
        item, where, limit = stack.pop()
        if isinstance(item, str):
            error = check_text(item, where, limit)
            if error is not None:
                yield error
        elif isinstance(item, (list, tuple)):
            if len(item) > limits.max_list_length:
                yield bad_input(f"`{where}` holds more than {limits.max_list_length} items.", where)
                continue
            # Items of a list of strings share the list's bound.
            stack.extend((element, f"{where}.{index}", limit) for index, element in enumerate(item))
        elif isinstance(item, dict):
            for key, element in item.items():
                if not isinstance(key, str):
                    continue
                if (problem := text_problem(key)) is not None:
                    yield bad_input(f"A field name inside `{where}` {problem}.", where)
                    continue
                if len(key) > MAX_FIELD_NAME_LENGTH:
                    yield bad_input(
                        f"A field name inside `{where}` is longer than "
                        f"{MAX_FIELD_NAME_LENGTH} characters.",
                        where,
                    )
                    continue
                stack.append((element, f"{where}.{key}", limits.max_string_length))
        elif _is_file(item):
            filename = getattr(item, "filename", None)
            if isinstance(filename, str):
                error = check_text(filename, f"{where}.filename", limits.max_string_length)
                if error is not None:
                    yield error


def _leaf_type_at(type_: GraphQLInputType, path: list[str | int]) -> GraphQLInputType | None:
    """The input type found by following ``path`` inside ``type_``."""
    current: Any = type_
    for step in path:
        while is_non_null_type(current):
            current = current.of_type
        if isinstance(step, int):
            current = current.of_type if is_list_type(current) else current
        elif is_input_object_type(current):
            found = current.fields.get(step)
            if found is None:
                return None
            current = found.type
        else:
            return None
    named = get_named_type(current)
    return named if is_input_type(named) else None


def _path_label(name: str, path: list[str | int]) -> str:
    return ".".join([f"${name}", *(str(step) for step in path)])


def _coercion_problems(
    schema: GraphQLSchema, definition: VariableDefinitionNode, inputs: dict[str, Any]
) -> Iterator[GraphQLError]:
    """The caller's value of one variable against its declared type (graphql-core's rules, but
    answered as the caller's error with the variable's path and no exception text)."""
    name = definition.variable.name.value
    declared = type_from_ast(schema, definition.type)
    if declared is None or not is_input_type(declared):
        return  # an unknown type: validation has reported it
    value = inputs.get(name, Undefined)
    if value is Undefined:
        if is_non_null_type(declared) and definition.default_value is None:
            yield bad_input(
                f"Variable `${name}` of required type `{declared}` was not provided.",
                f"${name}",
                definition,
            )
        return
    found: list[GraphQLError] = []

    def on_error(error: GraphQLError, path: list[str | int]) -> None:
        label = _path_label(name, path)
        if error.original_error is not None and not isinstance(error.original_error, GraphQLError):
            # A scalar's parser raised: its text is not for the caller.
            expected = _leaf_type_at(declared, path)
            reason = f"Expected a value of type `{expected}`." if expected else "Invalid value."
        else:
            reason = error.message
        found.append(
            bad_input(f"Variable `${name}` has an invalid value at `{label}`: {reason}", label)
        )

    validate_input_value(value, declared, on_error, hide_suggestions=False)
    yield from found


def _declared_problems(value: Any, usage: _Usage) -> Iterator[GraphQLError]:
    """Strings of a variable's value longer than the bound declared where they land."""
    stack: list[tuple[Any, Any, str, int | None]] = [(value, usage.type, usage.label, usage.limit)]
    while stack:
        item, current, label, limit = stack.pop()
        if item is None:
            continue
        if isinstance(current, GraphQLNonNull):
            stack.append((item, current.of_type, label, limit))
        elif isinstance(current, GraphQLList):
            items = item if isinstance(item, (list, tuple)) else [item]
            stack.extend((v, current.of_type, label, limit) for v in items)
        elif isinstance(current, GraphQLInputObjectType) and isinstance(item, dict):
            stack.extend(
                (item[key], f.type, f"{label}.{key}", declared_max_length(f))
                for key, f in current.fields.items()
                if key in item
            )
        elif isinstance(item, str) and limit is not None and len(item) > limit:
            yield bad_input(f"`{label}` is longer than {limit} characters.", label)


@dataclass(frozen=True, slots=True)
class LiteralFacts:
    """What the document alone says about its inputs (the same for every request sending it)."""

    errors: list[GraphQLError]
    usages: dict[str, list[_Usage]]


def check_literals(
    *, schema: GraphQLSchema, document: DocumentNode, limits: InputLimits
) -> LiteralFacts:
    """Inline strings checked, and where each variable is used, over a valid document."""
    type_info = TypeInfo(schema)
    literals = _LiteralChecker(type_info, limits)
    visit(document, TypeInfoVisitor(type_info, literals))
    return LiteralFacts(errors=literals.errors[:MAX_ERRORS], usages=literals.usages)


def check_inputs(
    *,
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode | None,
    variables: dict[str, Any] | None,
    limits: InputLimits,
    literals: LiteralFacts | None = None,
) -> list[GraphQLError]:
    """Every problem with the inputs of a valid document (at most MAX_ERRORS of them);
    ``literals`` are the document's own facts when already known."""
    if literals is None:
        literals = check_literals(schema=schema, document=document, limits=limits)
    errors = list(literals.errors)
    if errors or operation is None:
        return errors
    inputs = variables or {}
    for name, value in inputs.items():
        # Named after where the value lands (``filter.employeeName``), under the bound declared
        # there when the variable is a text; after its own name when it is used nowhere.
        usages = literals.usages.get(name) or []
        label = usages[0].label if usages else f"${name}"
        declared = [u.limit for u in usages if u.limit is not None]
        root_limit = min([*declared, limits.max_string_length])
        errors.extend(_raw_problems(value, label, limits, root_limit))
        if len(errors) >= MAX_ERRORS:
            return errors[:MAX_ERRORS]
    if errors:
        return errors
    for definition in operation.variable_definitions or ():
        errors.extend(_coercion_problems(schema, definition, inputs))
    if errors:
        return errors[:MAX_ERRORS]
    for name, usages in literals.usages.items():
        value = inputs.get(name, Undefined)
        if value is Undefined:
            continue
        for usage in usages:
            errors.extend(_declared_problems(value, usage))
    return errors[:MAX_ERRORS]
