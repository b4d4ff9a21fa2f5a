"""Evaluate a parsed patch path against a JSON resource, yielding *locations*, not values.

A patch must change the element it found, so each result is a `Node`: the JSON object holding
the property, the property name as stored (`valueQuantity`, not `value`) and, for repeating
elements, the position in the array. FHIRPath collection semantics are kept: member access
flattens, `[n]` and first()/last() index the collection built so far (so `name.given[1]` is the
second given name across all names), and where() keeps the items whose criteria are true.

Primitive values carry their id/extensions in a sibling `_name` property in FHIR JSON; member
access on a primitive continues into that object, so `Patient.birthDate.extension` works.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fhir_server.errors import FhirError
from fhir_server.patch import model_info
from fhir_server.patch.path_parser import (
    BoolOp,
    Comparison,
    Criteria,
    Function,
    Index,
    Literal,
    Member,
    Step,
    This,
    Where,
)

ROOT_KEY = "$root"
_ROOT_TYPES = frozenset({"Resource", "DomainResource"})


@dataclass(frozen=True, slots=True)
class Node:
    holder: dict[str, Any]  # JSON object that has the property
    key: str  # property name as stored, e.g. "valueQuantity"
    index: int | None  # position in the JSON array; None for a single-valued property
    type_name: str | None  # FHIR complex type when known ("HumanName"); None if primitive/unknown
    choice_base: str | None = None  # "value" when key is a choice variant like valueQuantity
    parent_type: str | None = None  # type of `holder`, to check which choice types are allowed

    @property
    def value(self) -> Any:
        current = self.holder.get(self.key)
        if self.index is None:
            return current
        return current[self.index] if isinstance(current, list) else None

    @property
    def is_root(self) -> bool:
        return self.key == ROOT_KEY

    def concrete_type(self) -> str | None:
        """The node's type; for a contained/Bundle resource this comes from the JSON."""
        value = self.value
        resource_type = value.get("resourceType") if isinstance(value, dict) else None
        abstract = self.type_name is None or self.type_name in _ROOT_TYPES or self.is_root
        if isinstance(resource_type, str) and abstract:
            return resource_type
        return self.type_name

    def members_object(self, create: bool = False) -> tuple[dict[str, Any] | None, str | None]:
        """The JSON object holding this node's children, and its type.

        For a primitive that is the `_name` shadow object, created on demand for `add`.
        """
        value = self.value
        if isinstance(value, dict):
            return value, self.concrete_type()
        shadow_key = "_" + self.key
        shadow = self.holder.get(shadow_key)
        if self.index is None:
            if not isinstance(shadow, dict) and create:
                shadow = self.holder[shadow_key] = {}
            return (shadow if isinstance(shadow, dict) else None), model_info.PRIMITIVE_SHADOW_TYPE
        length = len(self.holder.get(self.key) or [])
        if not isinstance(shadow, list):
            if not create:
                return None, model_info.PRIMITIVE_SHADOW_TYPE
            shadow = self.holder[shadow_key] = [None] * length
        while len(shadow) <= self.index:
            shadow.append(None)
        if shadow[self.index] is None and create:
            shadow[self.index] = {}
        item = shadow[self.index]
        return (item if isinstance(item, dict) else None), model_info.PRIMITIVE_SHADOW_TYPE


def root_node(resource: dict[str, Any]) -> Node:
    holder = {ROOT_KEY: resource}
    rtype = resource.get("resourceType")
    return Node(holder, ROOT_KEY, None, rtype if isinstance(rtype, str) else None)


def evaluate(resource: dict[str, Any], steps: tuple[Step, ...], expression: str) -> list[Node]:
    """Evaluate a full patch path (which may start with the resource type) on `resource`."""
    root = root_node(resource)
    if steps and isinstance(steps[0], Member) and steps[0].name[:1].isupper():
        type_name = steps[0].name
        if type_name != resource.get("resourceType") and type_name not in _ROOT_TYPES:
            raise FhirError(
                400,
                "invalid",
                f"Path '{expression}' starts with '{type_name}' but the resource being patched "
                f"is a {resource.get('resourceType')}",
                [expression],
            )
        steps = steps[1:]
    return evaluate_from([root], steps)


def evaluate_from(nodes: list[Node], steps: tuple[Step, ...]) -> list[Node]:
    for step in steps:
        nodes = _apply_step(nodes, step)
    return nodes


def children(node: Node, name: str) -> list[Node]:
    """Nodes for property `name` of `node`, resolving choice names (value -> valueQuantity)."""
    obj, type_name = node.members_object()
    if obj is None:
        return []
    info = model_info.element_info(type_name, name)
    if _present(obj, name):
        return list(_nodes_for(obj, type_name, name, info, info.choice_base if info else None))
    # Not stored under that name: maybe `name` is a choice element stored as name + Type.
    if not model_info.is_known_type(type_name):
        pattern = re.compile(re.escape(name) + r"[A-Z]\w*")
        keys = [key for key in obj if pattern.fullmatch(key) and _present(obj, key)]
        return [child for key in keys for child in _nodes_for(obj, type_name, key, None, name)]
    out: list[Node] = []
    for variant in model_info.choice_variants(type_name, name).values():
        if _present(obj, variant.json_name):
            out.extend(_nodes_for(obj, type_name, variant.json_name, variant, name))
    return out


def _present(obj: dict[str, Any], key: str) -> bool:
    # A primitive with only extensions has just the `_key` shadow, but it still exists.
    return obj.get(key) is not None or obj.get("_" + key) is not None


def _nodes_for(
    obj: dict[str, Any],
    obj_type: str | None,
    key: str,
    info: model_info.ElementInfo | None,
    choice_base: str | None,
) -> Iterator[Node]:
    type_name = info.type_name if info else None
    value = obj.get(key)
    shadow = obj.get("_" + key)
    if isinstance(value, list) or (value is None and isinstance(shadow, list)):
        length = max(len(value or []), len(shadow) if isinstance(shadow, list) else 0)
        for i in range(length):
            yield Node(obj, key, i, type_name, choice_base, obj_type)
    else:
        yield Node(obj, key, None, type_name, choice_base, obj_type)


def _apply_step(nodes: list[Node], step: Step) -> list[Node]:
    match step:
        case Member(name):
            return [child for node in nodes for child in children(node, name)]
        case Index(position):
            return [nodes[position]] if position < len(nodes) else []
        case This():
            return nodes
        case Where(criteria):
            return [node for node in nodes if _is_true(_criteria_value(node, criteria))]
        case Function("first", _):
            return nodes[:1]
        case Function("last", _):
            return nodes[-1:]
        case Function("single", _):
            if len(nodes) > 1:
                raise FhirError(422, "processing", "single() applied to several elements")
            return nodes
        case Function("ofType", type_name):
            return [node for node in nodes if _is_of_type(node, type_name or "")]
        case Function("extension", url):
            extensions = [child for node in nodes for child in children(node, "extension")]
            return [ext for ext in extensions if _url_of(ext) == url]
    raise AssertionError(f"unhandled step {step!r}")  # the parser only produces the above


def _url_of(node: Node) -> Any:
    value = node.value
    return value.get("url") if isinstance(value, dict) else None


def _is_of_type(node: Node, type_name: str) -> bool:
    if node.concrete_type() == type_name:
        return True
    if node.choice_base is not None:
        # valueQuantity is a Quantity, valueString a string: compare the suffix case-insensitively
        # on the first letter, as primitive type names are lower camel case.
        suffix = node.key[len(node.choice_base) :]
        return suffix[:1].lower() + suffix[1:] == type_name[:1].lower() + type_name[1:]
    return False


# -- where() criteria -------------------------------------------------------------------------

# FHIRPath three-valued logic: None is "empty", which where() treats as false.
Truth = bool | None


def _criteria_value(node: Node, criteria: Criteria) -> Truth:
    if isinstance(criteria, BoolOp):
        values = [_criteria_value(node, operand) for operand in criteria.operands]
        if criteria.operator == "and":
            if any(v is False for v in values):
                return False
            return None if any(v is None for v in values) else True
        if any(v is True for v in values):
            return True
        return None if any(v is None for v in values) else False
    return _comparison_value(node, criteria)


def _comparison_value(node: Node, comparison: Comparison) -> Truth:
    steps = comparison.path
    tail = steps[-1] if steps else None
    if isinstance(tail, Function) and tail.name in ("exists", "empty"):
        found = bool(evaluate_from([node], steps[:-1]))
        return found if tail.name == "exists" else not found
    values = [n.value for n in evaluate_from([node], steps)]
    values = [v for v in values if v is not None]
    if comparison.operator is None:
        # A bare path is a boolean test: only a single `true` (or a single non-boolean) passes.
        if len(values) != 1:
            return None if not values else False
        return values[0] if isinstance(values[0], bool) else True
    if not values:
        return None
    # FHIRPath `=` between collections of different sizes is false.
    equal = len(values) == 1 and _equals(values[0], comparison.literal)
    return equal if comparison.operator == "=" else not equal


def _equals(value: Any, literal: Literal | None) -> bool:
    if isinstance(literal, bool) or isinstance(value, bool):
        return isinstance(literal, bool) and isinstance(value, bool) and value == literal
    if isinstance(literal, int | Decimal):
        if isinstance(value, int | float | Decimal):
            return Decimal(str(value)) == Decimal(literal)
        return False
    return isinstance(value, str) and value == literal


def _is_true(value: Truth) -> bool:
    return value is True
