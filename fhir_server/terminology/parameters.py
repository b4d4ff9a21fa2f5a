"""Operation inputs from a query string or a Parameters body, and Parameters outputs.

The terminology operations take the same inputs by GET (query parameters, primitives
only) and POST (a Parameters resource, which can also carry a Coding, a
CodeableConcept or a whole resource). Every missing or malformed input is a 400 naming it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fhir_server.errors import FhirError

_PRIMITIVE_KEYS = (
    "valueString", "valueCode", "valueUri", "valueCanonical", "valueUrl", "valueInteger",
    "valueBoolean", "valueDateTime", "valueId",
)  # fmt: skip


class OperationInput:
    def __init__(self, operation: str, params: Sequence[tuple[str, str]], body: Any) -> None:
        self.operation = operation
        self.values: dict[str, list[Any]] = {}
        for name, value in params:
            self.values.setdefault(name, []).append(value)
        if body is None:
            return
        if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
            raise FhirError(400, "invalid", f"${operation} takes a Parameters resource as body")
        for parameter in body.get("parameter") or []:
            name = parameter.get("name")
            if not isinstance(name, str):
                raise FhirError(400, "invalid", "Parameters.parameter.name is required")
            self.values.setdefault(name, []).append(_value(parameter))

    def text(self, name: str) -> str | None:
        value = self._one(name)
        if value is None:
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int):
            return str(value)
        if not isinstance(value, str):
            raise FhirError(400, "invalid", f"${self.operation}: '{name}' must be a primitive")
        return value

    def texts(self, name: str) -> list[str]:
        return [v for v in self.values.get(name, []) if isinstance(v, str)]

    def required(self, name: str) -> str:
        value = self.text(name)
        if value is None or value == "":
            raise FhirError(400, "required", f"${self.operation} needs the parameter '{name}'")
        return value

    def integer(self, name: str, default: int, minimum: int = 0) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = -1
        if value < minimum:
            raise FhirError(
                400, "invalid", f"${self.operation}: '{name}' must be an integer >= {minimum}"
            )
        return value

    def boolean(self, name: str) -> bool:
        raw = self.text(name)
        if raw not in (None, "true", "false"):
            raise FhirError(400, "invalid", f"${self.operation}: '{name}' must be true or false")
        return raw == "true"

    def complex(self, name: str) -> dict[str, Any] | None:
        value = self._one(name)
        if value is not None and not isinstance(value, dict):
            raise FhirError(400, "invalid", f"${self.operation}: '{name}' must be a {name} value")
        return value

    def _one(self, name: str) -> Any:
        found = self.values.get(name) or []
        if len(found) > 1:
            raise FhirError(400, "invalid", f"${self.operation}: '{name}' may be given once")
        return found[0] if found else None


def _value(parameter: dict[str, Any]) -> Any:
    if "resource" in parameter:
        return parameter["resource"]
    for key in _PRIMITIVE_KEYS:
        if key in parameter:
            return parameter[key]
    for key, value in parameter.items():
        if key.startswith("value"):
            return value
    return parameter.get("part")


def parameters(*parts: dict[str, Any] | None) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": [p for p in parts if p is not None]}


def param(name: str, kind: str, value: Any) -> dict[str, Any] | None:
    """One output parameter, or None when there is no value (left out)."""
    if value is None:
        return None
    return {"name": name, f"value{kind}": value}


def part_param(name: str, *parts: dict[str, Any] | None) -> dict[str, Any]:
    return {"name": name, "part": [p for p in parts if p is not None]}
