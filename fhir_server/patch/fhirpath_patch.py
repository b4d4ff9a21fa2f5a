"""FHIRPath Patch (http://hl7.org/fhir/R4/fhirpatch.html) applied to a resource's JSON.

Operations run in order on a copy; the first failure aborts the whole patch (a patch is
atomic), with an error naming the operation. Status codes: a malformed patch document is 400;
a well-formed patch that does not fit this resource (path matches nothing or several elements,
index out of range, element already present) is 422, as the FHIR http page prescribes for a
patch that cannot be applied.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from fhir_server.errors import FhirError, Issue
from fhir_server.patch import json_edit, model_info
from fhir_server.patch.guard import check_result
from fhir_server.patch.locate import Node, evaluate
from fhir_server.patch.parameters import PatchOperation, PatchValue, parse_operations
from fhir_server.patch.path_parser import Member

JsonObject = dict[str, Any]


def apply_fhirpath_patch(resource: JsonObject, parameters: JsonObject) -> JsonObject:
    """Apply a FHIRPath Patch Parameters resource; returns a new dict, `resource` is untouched."""
    operations = parse_operations(parameters)
    result = copy.deepcopy(resource)
    for operation in operations:
        try:
            _HANDLERS[operation.type](result, operation)
        except FhirError as error:
            raise _in_operation(error, operation) from error
    json_edit.prune_empty(result)
    return check_result(resource, result)


# -- operations -------------------------------------------------------------------------------


def _add(resource: JsonObject, op: PatchOperation) -> None:
    assert op.name is not None and op.value is not None  # guaranteed by parse_operations
    target = _single(resource, op)
    obj, type_name = target.members_object(create=True)
    if obj is None:
        raise _unprocessable("the element at the path cannot have child elements")
    key, info, choice_base = _resolve_name(type_name, op.name, op.value)
    value, shadow = _materialize(op.value, info.type_name if info else None)
    repeating = info.is_list if info else isinstance(obj.get(key), list)
    if repeating:
        json_edit.insert_item(obj, key, json_edit.list_length(obj, key), value, shadow)
        return
    present = [key] if _has(obj, key) else []
    if choice_base:
        present += [k for k in model_info.choice_variants(type_name, choice_base) if _has(obj, k)]
    if present:
        raise _unprocessable(f"'{present[0]}' already has a value and does not repeat; use replace")
    json_edit.set_single(obj, key, value, shadow)


def _insert(resource: JsonObject, op: PatchOperation) -> None:
    assert op.value is not None and op.index is not None
    obj, key, info = _list_container(resource, op)
    length = json_edit.list_length(obj, key)
    if op.index > length:
        raise _unprocessable(f"index {op.index} is beyond the end of the list ({length} items)")
    value, shadow = _materialize(op.value, info.type_name if info else None)
    json_edit.insert_item(obj, key, op.index, value, shadow)


def _delete(resource: JsonObject, op: PatchOperation) -> None:
    nodes = evaluate(resource, op.steps, op.path)
    if not nodes:
        return  # the spec: delete removes the element "if found"
    if len(nodes) > 1:
        raise _unprocessable(f"the path matches {len(nodes)} elements; delete removes only one")
    node = nodes[0]
    if node.is_root:
        raise _unprocessable("the resource itself cannot be deleted by a patch")
    if node.index is None:
        json_edit.remove_single(node.holder, node.key)
    else:
        json_edit.remove_item(node.holder, node.key, node.index)


def _replace(resource: JsonObject, op: PatchOperation) -> None:
    assert op.value is not None
    node = _single(resource, op)
    if node.is_root:
        raise _unprocessable("the resource itself cannot be replaced by a FHIRPath Patch")
    key, type_name = node.key, node.type_name
    if node.choice_base and op.value.type_suffix:
        # Replacing valueQuantity with a valueString moves the value to the other JSON name.
        key = node.choice_base + op.value.type_suffix
        variants = model_info.choice_variants(node.parent_type, node.choice_base)
        if variants and key not in variants:
            raise _unprocessable(_choice_message(node.choice_base, key, variants))
        type_name = variants[key].type_name if variants else None
    value, shadow = _materialize(op.value, type_name)
    if node.index is not None:
        json_edit.replace_item(node.holder, node.key, node.index, value, shadow)
        return
    if key != node.key:
        json_edit.remove_single(node.holder, node.key)
    json_edit.set_single(node.holder, key, value, shadow)


def _move(resource: JsonObject, op: PatchOperation) -> None:
    assert op.source is not None and op.destination is not None
    obj, key, _ = _list_container(resource, op)
    length = json_edit.list_length(obj, key)
    for label, position in (("source", op.source), ("destination", op.destination)):
        if position >= length:
            raise _unprocessable(f"{label} index {position} is out of range ({length} items)")
    json_edit.move_item(obj, key, op.source, op.destination)


_HANDLERS: dict[str, Callable[[JsonObject, PatchOperation], None]] = {
    "add": _add,
    "insert": _insert,
    "delete": _delete,
    "replace": _replace,
    "move": _move,
}


# -- helpers ----------------------------------------------------------------------------------


def _single(resource: JsonObject, op: PatchOperation) -> Node:
    nodes = evaluate(resource, op.steps, op.path)
    if len(nodes) != 1:
        found = "no element" if not nodes else f"{len(nodes)} elements"
        raise _unprocessable(f"the path must match exactly one element but matches {found}")
    return nodes[0]


def _list_container(
    resource: JsonObject, op: PatchOperation
) -> tuple[JsonObject, str, model_info.ElementInfo | None]:
    """For insert/move: the object that holds the list named by the path's last step.

    The list may not exist yet (insert at 0 creates it), so the path is resolved up to its
    parent and the last step names the property.
    """
    last = op.steps[-1]
    if not isinstance(last, Member) or last.name[:1].isupper():
        raise FhirError(400, "invalid", "the path must end with the name of a repeating element")
    parents = evaluate(resource, op.steps[:-1], op.path)
    if len(parents) != 1:
        found = "no element" if not parents else f"{len(parents)} elements"
        raise _unprocessable(f"the list's parent must be exactly one element but is {found}")
    obj, type_name = parents[0].members_object(create=True)
    if obj is None:
        raise _unprocessable("the element at the path cannot have child elements")
    info = model_info.element_info(type_name, last.name)
    current = obj.get(last.name)
    if (info is not None and not info.is_list) or (
        current is not None and not isinstance(current, list)
    ):
        raise _unprocessable(f"'{last.name}' is not a repeating element")
    return obj, last.name, info


def _resolve_name(
    type_name: str | None, name: str, value: PatchValue
) -> tuple[str, model_info.ElementInfo | None, str | None]:
    """The JSON property for element `name` given the value's type: (key, info, choice base).

    A choice element (`value[x]`) is named either by its base (`value`, as FHIRPath does) or
    with an explicit `[x]`; the JSON name then comes from the value's type (`valueQuantity`).
    """
    explicit_choice = name.endswith("[x]")
    base = name[:-3] if explicit_choice else name
    info = None if explicit_choice else model_info.element_info(type_name, name)
    if info is not None:
        return name, info, info.choice_base
    variants = model_info.choice_variants(type_name, base)
    if not variants and not explicit_choice:
        return name, None, None  # unknown to the model: write it as named
    if not value.type_suffix:
        raise FhirError(400, "invalid", f"'{base}' is a choice element; give its value as value[x]")
    key = base + value.type_suffix
    if variants and key not in variants:
        raise _unprocessable(_choice_message(base, key, variants))
    return key, variants.get(key), base


def _materialize(value: PatchValue, type_name: str | None) -> tuple[Any, JsonObject | None]:
    """The JSON (and primitive shadow) to store for a value; parts become an object."""
    if value.parts is None:
        return copy.deepcopy(value.json), copy.deepcopy(value.shadow)
    obj: JsonObject = {}
    names = [name for name, _ in value.parts]
    for name, part in value.parts:
        key, info, _ = _resolve_name(type_name, name, part)
        part_json, part_shadow = _materialize(part, info.type_name if info else None)
        # Without model knowledge a part repeats only if it was given more than once.
        repeating = info.is_list if info else names.count(name) > 1
        if repeating:
            json_edit.insert_item(obj, key, json_edit.list_length(obj, key), part_json, part_shadow)
        elif _has(obj, key):
            raise FhirError(400, "invalid", f"part '{name}' is given twice but does not repeat")
        else:
            json_edit.set_single(obj, key, part_json, part_shadow)
    return obj, None


def _has(obj: JsonObject, key: str) -> bool:
    return obj.get(key) is not None or obj.get(json_edit.shadow_key(key)) is not None


def _choice_message(base: str, key: str, variants: dict[str, Any]) -> str:
    allowed = ", ".join(sorted(variants))
    return f"'{key}' is not an allowed type for {base}[x] (allowed: {allowed})"


def _unprocessable(message: str) -> FhirError:
    return FhirError(422, "processing", message)


def _in_operation(error: FhirError, op: PatchOperation) -> FhirError:
    """Re-raise an error with the failing operation's index, type and path in front."""
    issues = [
        Issue(
            issue.severity,
            issue.code,
            f"FHIRPath Patch {op.label}: {issue.diagnostics}",
            issue.expression or [f"Parameters.parameter[{op.number}]"],
        )
        for issue in error.issues
    ]
    return FhirError(
        error.status, issues[0].code, issues[0].diagnostics, issues=issues, headers=error.headers
    )
