"""JSON Patch (RFC 6902) applied to a resource's JSON, with FHIR error reporting.

The `jsonpatch` library does the pointer work; this module adds what a FHIR server needs:
validation of the whole document before anything is applied (400 naming the operation),
per-operation error messages (422 naming the operation and path) and the identity guard.
Messages are written here rather than taken from the library, whose texts embed parts of the
resource.
"""

from __future__ import annotations

import copy
import re
from decimal import Decimal
from typing import Any

import jsonpatch
import jsonpointer

from fhir_server.errors import FhirError
from fhir_server.patch.guard import check_result

_OPS = ("add", "remove", "replace", "move", "copy", "test")
_NEEDS_VALUE = frozenset({"add", "replace", "test"})
_NEEDS_FROM = frozenset({"move", "copy"})
# RFC 6901: "" or a sequence of "/token"; "~" must be followed by 0 or 1.
_POINTER = re.compile(r"(/([^~/]|~[01])*)*")


def apply_json_patch(resource: dict[str, Any], operations: Any) -> dict[str, Any]:
    """Apply a JSON Patch document; returns a new dict, `resource` is untouched."""
    _validate(operations)
    document: Any = copy.deepcopy(resource)
    for number, operation in enumerate(operations):
        document = _apply_one(document, number, operation)
    return check_result(resource, document)


def _validate(operations: Any) -> None:
    if not isinstance(operations, list):
        raise FhirError(400, "invalid", "A JSON Patch document must be a JSON array of operations")
    if not operations:
        raise FhirError(400, "invalid", "The JSON Patch document contains no operations")
    for number, operation in enumerate(operations):
        problem = _problem(operation)
        if problem:
            raise FhirError(
                400, "invalid", f"JSON Patch operation[{number}]: {problem}", [f"/{number}"]
            )


def _problem(operation: Any) -> str | None:
    if not isinstance(operation, dict):
        return "must be a JSON object"
    op = operation.get("op")
    if op not in _OPS:
        return f"unknown op {op!r}; expected one of {', '.join(_OPS)}"
    pointers = [("path", operation.get("path"))]
    if op in _NEEDS_FROM:
        pointers.append(("from", operation.get("from")))
    for member, pointer in pointers:
        if not isinstance(pointer, str):
            return f"'{op}' needs a '{member}' string"
        if not _POINTER.fullmatch(pointer):
            return f"'{member}' {pointer!r} is not a JSON Pointer"
    if op in _NEEDS_VALUE and "value" not in operation:
        return f"'{op}' needs a 'value'"
    return None


def _apply_one(document: Any, number: int, operation: dict[str, Any]) -> Any:
    op, path = operation["op"], operation["path"]
    label = f"JSON Patch operation[{number}] ({op} {path})"
    if op == "test":
        _test(document, operation, label)
        return document
    try:
        return jsonpatch.JsonPatch([operation]).apply(document, in_place=True)
    except jsonpatch.InvalidJsonPatch as error:
        raise FhirError(400, "invalid", f"{label}: {error}", [f"/{number}"]) from error
    except (
        jsonpatch.JsonPatchException,
        jsonpointer.JsonPointerException,
        KeyError,
        IndexError,
        TypeError,
    ) as error:
        where = operation.get("from") if op in _NEEDS_FROM else path
        raise FhirError(
            422,
            "processing",
            f"{label}: cannot be applied; '{where}' does not exist in the resource "
            "(or the location is not valid for this operation)",
            [f"/{number}"],
        ) from error


def _test(document: Any, operation: dict[str, Any], label: str) -> None:
    # Done here rather than by the library so that true/1 and "1"/1 are not equal (RFC 6902
    # compares JSON values by type, Python's == does not).
    try:
        actual = jsonpointer.resolve_pointer(document, operation["path"])
    except jsonpointer.JsonPointerException as error:
        raise FhirError(
            422, "processing", f"{label}: test failed; the path does not exist", [operation["path"]]
        ) from error
    if not _json_equal(actual, operation["value"]):
        raise FhirError(
            422,
            "processing",
            f"{label}: test failed; the value at '{operation['path']}' is not the expected value",
            [operation["path"]],
        )


def _json_equal(left: Any, right: Any) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float | Decimal) and isinstance(right, int | float | Decimal):
        return Decimal(str(left)) == Decimal(str(right))
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(_json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(_json_equal, left, right))
    return type(left) is type(right) and left == right
