"""JSON locations -> FHIRPath-style expressions for OperationOutcome.issue.expression.

Both validators speak in JSON locations (pydantic `loc` tuples, jsonschema
`absolute_path`); clients expect the simple FHIRPath subset the spec uses for
`issue.expression`: element names, `[index]`, `.` (e.g. `Patient.name[0].family`).

- `_birthDate` (the JSON home of a primitive's id/extensions) is the same element in
  FHIRPath, so `_birthDate.extension[0]` becomes `birthDate.extension[0]`.
- Choice elements keep their JSON name (`Observation.valueQuantity.value`): that is the
  name a client can find in its own JSON, and the same for both validators.
- fhir.resources sometimes reports Python field names rather than JSON aliases
  (`birthDate__ext`, `class_fhir`, `resource_type`); they are mapped back.
"""

from __future__ import annotations

from collections.abc import Iterable

_PYTHON_NAMES = {"resource_type": "resourceType"}


def element_name(key: str) -> str:
    key = _PYTHON_NAMES.get(key, key)
    if key.endswith("__ext") or key.endswith("_fhir"):
        key = key[:-5]
    if key.startswith("_") and len(key) > 1:
        key = key[1:]
    return key


def fhir_path(root: str, loc: Iterable[str | int]) -> str:
    out = [root]
    for part in loc:
        if isinstance(part, int):
            out[-1] = f"{out[-1]}[{part}]"
        else:
            out.append(element_name(part))
    return ".".join(out)
