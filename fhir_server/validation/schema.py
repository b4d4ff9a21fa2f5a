"""Validation against the FHIR R4 JSON Schema (resources/fhir.schema.json.gz, draft-06).

Used by `$validate`, by writes when `validate_schema_on_write` is set, and as the only
structural check for R4 types the fhir.resources R4B models lack (see resource.py).

Each resource is checked against its own definition (`#/definitions/Patient`), not the
schema's giant top-level `oneOf`, so an error names the element instead of "is not valid
under any of the given schemas". For the same reason embedded resources (`contained`,
`Bundle.entry.resource`, `Parameters.parameter.resource`, ...), which the schema types as
`ResourceList` (another 146-way `oneOf`), are dispatched on their `resourceType` by a
custom keyword.

The schema is loaded on first use and each type's validator compiled once; loading costs
≈ 0.1 s, which a server that never runs `$validate` should not pay.

Known limits of the R4 JSON Schema itself (not fixed here): `integer` accepts 1.5,
`xhtml` accepts anything, empty arrays and objects pass, and invariants (e.g. ele-1)
and terminology bindings other than required code enums are not checked.
"""

from __future__ import annotations

import gzip
import re
import threading
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft6Validator, ValidationError, validators

from fhir_server.errors import Issue
from fhir_server.terminology.bindings import binding_at
from fhir_server.validation.paths import fhir_path
from fhir_server.validation.resource_types import R4_RESOURCE_TYPES

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "resources" / "fhir.schema.json.gz"
_MAX_VALUE_CHARS = 60
_REQUIRED = re.compile(r"'([^']+)' is a required property$")

_lock = threading.Lock()
_validators: dict[str, Any] = {}


@cache
def _definitions() -> dict[str, Any]:
    schema = orjson.loads(gzip.decompress(SCHEMA_PATH.read_bytes()))
    definitions: dict[str, Any] = schema["definitions"]
    definitions["ResourceList"] = {"fhirResource": True}
    return definitions


def _fhir_resource(validator: Any, _value: Any, instance: Any, _schema: Any) -> Iterator[Any]:
    if not isinstance(instance, dict):
        yield ValidationError("must be a resource (a JSON object with a resourceType)")
        return
    resource_type = instance.get("resourceType")
    if resource_type is None:
        yield ValidationError("a resource needs a resourceType", path=["resourceType"])
        return
    if not isinstance(resource_type, str) or resource_type not in R4_RESOURCE_TYPES:
        yield ValidationError(
            f"{resource_type!r} is not a FHIR R4 resource type", path=["resourceType"]
        )
        return
    yield from validator.descend(instance, {"$ref": f"#/definitions/{resource_type}"})


_FhirValidator = validators.extend(Draft6Validator, {"fhirResource": _fhir_resource})


def _validator_for(resource_type: str) -> Any:
    found = _validators.get(resource_type)
    if found is None:
        with _lock:
            found = _validators.get(resource_type)
            if found is None:
                # The root carries the definitions so `#/definitions/...` refs resolve in it.
                root = {"$ref": f"#/definitions/{resource_type}", "definitions": _definitions()}
                found = _validators[resource_type] = _FhirValidator(root)
    return found


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 3] + "..."


def _issues_for(error: ValidationError, root: str) -> Iterator[Issue]:
    path = list(error.absolute_path)
    keyword = error.validator
    if keyword == "additionalProperties":
        known = error.schema.get("properties", {})
        for key in error.instance:
            if key not in known:
                where = fhir_path(root, [*path, key])
                yield Issue("error", "structure", f"Unknown element '{key}' at {where}", [where])
    elif keyword == "required":
        # jsonschema reports each missing property as its own error, named in the message.
        named = _REQUIRED.match(error.message)
        missing = [named.group(1)] if named else error.validator_value
        for key in missing:
            if key not in error.instance:
                where = fhir_path(root, [*path, key])
                yield Issue("error", "required", f"Missing required element {where}", [where])
    else:
        where = fhir_path(root, path)
        if keyword == "type":
            expected = error.validator_value
            text = f"{where}: expected a JSON {expected}, got {_short(error.instance)}"
            yield Issue("error", "structure", text, [where])
        elif keyword == "enum":
            allowed = ", ".join(map(str, error.validator_value))
            bound = binding_at(root, path)
            if bound is None:
                text = f"{where}: {_short(error.instance)} is not one of {allowed}"
                yield Issue("error", "value", text, [where])
            else:  # named as the binding check on write names it (terminology/bindings.py)
                text = (
                    f"{where}: {_short(error.instance)} is not in the value set {bound[1]}"
                    f" ({bound[0]} binding; one of {allowed})"
                )
                yield Issue("error", "value", text, [where])
        elif keyword == "pattern":
            text = f"{where}: {_short(error.instance)} is not a valid value for this element"
            yield Issue("error", "value", text, [where])
        elif keyword == "fhirResource":
            missing = isinstance(error.instance, dict) and "resourceType" not in error.instance
            code = "required" if missing else "structure"
            yield Issue("error", code, f"{where}: {error.message}", [where])
        else:
            yield Issue("error", "invalid", f"{where}: {error.message}", [where])


def schema_issues(resource: dict[str, Any], enums: bool = True) -> list[Issue]:
    """Every R4 JSON Schema problem in the resource (empty when it conforms).

    The caller has checked `resourceType` (json_body.require_resource). `enums=False`
    leaves out codes outside an enum (for the binding check on write to report).
    """
    root = resource["resourceType"]
    validator = _validator_for(root)
    errors = list(validator.iter_errors(resource))
    # A string where a boolean belongs also fails the boolean's pattern: report the type only.
    wrong_type = {tuple(e.absolute_path) for e in errors if e.validator == "type"}
    issues: list[Issue] = []
    for error in errors:
        if error.validator in ("pattern", "enum") and tuple(error.absolute_path) in wrong_type:
            continue
        if error.validator == "enum" and not enums:
            continue
        issues.extend(_issues_for(error, root))
    return issues
