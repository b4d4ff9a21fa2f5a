"""Read a FHIRPath Patch Parameters resource into typed operations.

Everything that can be checked without looking at the target resource is checked here, before
any operation runs, so a malformed patch is rejected with 400 and never half-applied.
See http://hl7.org/fhir/R4/fhirpatch.html for the encoding.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from fhir_server.errors import FhirError
from fhir_server.patch.path_parser import Step, parse_path

OPERATION_TYPES = ("add", "insert", "delete", "replace", "move")
_REQUIRED_PARTS: dict[str, tuple[str, ...]] = {
    "add": ("path", "name", "value"),
    "insert": ("path", "value", "index"),
    "delete": ("path",),
    "replace": ("path", "value"),
    "move": ("path", "source", "destination"),
}
_KNOWN_PARTS = frozenset({"type", "path", "name", "value", "index", "source", "destination"})
# Properties of a Parameters.parameter that are not its value[x].
_NOT_VALUE_KEYS = frozenset({"name", "part", "resource", "id", "extension", "modifierExtension"})


@dataclass(frozen=True, slots=True)
class PatchValue:
    """A `value` part: a typed value[x], a contained resource, or an element built from parts."""

    type_suffix: str | None  # "Quantity" for valueQuantity; None for resource/parts
    json: Any = None  # the value's JSON (for a typed value or resource)
    shadow: dict[str, Any] | None = None  # `_valueString`: id/extensions of a primitive value
    parts: tuple[tuple[str, PatchValue], ...] | None = None  # (name, value) when built from parts

    def is_primitive(self) -> bool:
        # Primitives are the only values that are not JSON objects (and only they have shadows).
        return self.parts is None and not isinstance(self.json, dict | list)


@dataclass(frozen=True, slots=True)
class PatchOperation:
    number: int  # position among the `operation` parameters, for error messages
    type: str
    path: str
    steps: tuple[Step, ...]
    name: str | None = None
    value: PatchValue | None = None
    index: int | None = None
    source: int | None = None
    destination: int | None = None

    @property
    def label(self) -> str:
        return f"operation[{self.number}] ({self.type} '{self.path}')"


def parse_operations(parameters: Any) -> list[PatchOperation]:
    if not isinstance(parameters, dict) or parameters.get("resourceType") != "Parameters":
        raise FhirError(400, "invalid", "A FHIRPath Patch body must be a Parameters resource")
    raw = parameters.get("parameter")
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise FhirError(400, "invalid", "Parameters.parameter must be an array")
    operations: list[PatchOperation] = []
    for position, parameter in enumerate(raw):
        where = f"Parameters.parameter[{position}]"
        if not isinstance(parameter, dict) or parameter.get("name") != "operation":
            raise FhirError(
                400,
                "invalid",
                f"{where}: every parameter of a FHIRPath Patch must be named 'operation'",
                [where],
            )
        operations.append(_parse_operation(len(operations), parameter, where))
    if not operations:
        raise FhirError(400, "invalid", "FHIRPath Patch Parameters contains no operations")
    return operations


def _parse_operation(number: int, parameter: dict[str, Any], where: str) -> PatchOperation:
    label = f"operation[{number}]"
    parts = parameter.get("part")
    if not isinstance(parts, list) or not parts:
        raise _invalid(f"{label}: has no parts", where)
    by_name: dict[str, dict[str, Any]] = {}
    for part in parts:
        name = part.get("name") if isinstance(part, dict) else None
        if name not in _KNOWN_PARTS:
            raise _invalid(f"{label}: unknown part {name!r}", where)
        if name in by_name:
            raise _invalid(f"{label}: part '{name}' is repeated", where)
        by_name[name] = part

    op_type = _primitive(by_name, "type", str, label, where)
    if op_type not in OPERATION_TYPES:
        raise _invalid(
            f"{label}: unknown operation type {op_type!r}; expected one of "
            f"{', '.join(OPERATION_TYPES)}",
            where,
        )
    missing = [name for name in _REQUIRED_PARTS[op_type] if name not in by_name]
    if missing:
        raise _invalid(f"{label} ({op_type}): missing part(s) {', '.join(missing)}", where)

    path = _primitive(by_name, "path", str, label, where)
    try:
        steps = parse_path(path)
    except FhirError as error:
        raise FhirError(
            error.status,
            error.issues[0].code,
            f"{label} ({op_type}): {error.diagnostics}",
            [where],
        ) from error
    return PatchOperation(
        number=number,
        type=op_type,
        path=path,
        steps=steps,
        name=_primitive(by_name, "name", str, label, where) if op_type == "add" else None,
        value=_value(by_name["value"], f"{label}.value", where) if "value" in by_name else None,
        index=_index(by_name, "index", label, where) if op_type == "insert" else None,
        source=_index(by_name, "source", label, where) if op_type == "move" else None,
        destination=_index(by_name, "destination", label, where) if op_type == "move" else None,
    )


def _primitive(
    by_name: dict[str, dict[str, Any]], name: str, kind: type, label: str, where: str
) -> Any:
    part = by_name.get(name)
    if part is None:
        raise _invalid(f"{label}: missing part '{name}'", where)
    keys = _value_keys(part)
    value = part.get(keys[0]) if len(keys) == 1 else None
    # bool is an int in Python; an index must not accept `true`.
    if not isinstance(value, kind) or isinstance(value, bool) != (kind is bool):
        raise _invalid(f"{label}: part '{name}' must have a single {kind.__name__} value", where)
    if kind is str and not value.strip():
        raise _invalid(f"{label}: part '{name}' is empty", where)
    return value


def _index(by_name: dict[str, dict[str, Any]], name: str, label: str, where: str) -> int:
    value = _primitive(by_name, name, int, label, where)
    if value < 0:
        raise _invalid(f"{label}: part '{name}' must not be negative", where)
    return int(value)


def _value(part: dict[str, Any], label: str, where: str) -> PatchValue:
    keys = _value_keys(part)
    nested = part.get("part")
    resource = part.get("resource")
    given = len(keys) + (nested is not None) + (resource is not None)
    if given != 1:
        raise _invalid(
            f"{label}: needs exactly one of value[x], resource or nested parts (found {given})",
            where,
        )
    if resource is not None:
        if not isinstance(resource, dict) or "resourceType" not in resource:
            raise _invalid(f"{label}: resource must be a FHIR resource", where)
        return PatchValue(None, copy.deepcopy(resource))
    if nested is not None:
        if not isinstance(nested, list) or not nested:
            raise _invalid(f"{label}: part must be a non-empty array", where)
        built: list[tuple[str, PatchValue]] = []
        for i, child in enumerate(nested):
            name = child.get("name") if isinstance(child, dict) else None
            if not isinstance(name, str) or not name:
                raise _invalid(f"{label}.part[{i}]: has no name", where)
            built.append((name, _value(child, f"{label}.part[{i}] ({name})", where)))
        return PatchValue(None, parts=tuple(built))
    key = keys[0]
    shadow = part.get("_" + key)
    return PatchValue(
        type_suffix=key[len("value") :],
        json=copy.deepcopy(part.get(key)),
        shadow=copy.deepcopy(shadow) if isinstance(shadow, dict) else None,
    )


def _value_keys(part: dict[str, Any]) -> list[str]:
    # value[x]: "value" followed by an upper-case type name. A primitive with only extensions
    # appears as `_valueString` alone; treat that as a value too (its JSON value is null).
    keys = [
        k for k in part if k not in _NOT_VALUE_KEYS and k.startswith("value") and k[5:6].isupper()
    ]
    keys += [
        k[1:] for k in part if k.startswith("_value") and k[6:7].isupper() and k[1:] not in part
    ]
    return keys


def _invalid(message: str, where: str) -> FhirError:
    return FhirError(400, "invalid", message, [where])
