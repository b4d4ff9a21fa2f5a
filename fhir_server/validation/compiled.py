"""The verdict on every write: the R4 JSON Schema, completed and compiled (jsonschema-rs).

Validation decides every write's fate, so it runs on every resource of every Bundle
and import. The fhir.resources R4B models took ≈ 150 µs per Synthea resource; this
validator takes ≈ 5 µs, because jsonschema-rs compiles the schema to Rust. It accepts a
resource exactly when all of these hold:

- the official R4 JSON Schema (`resources/fhir.schema.json.gz`) accepts it: element
  names, JSON types, primitive patterns, required complex elements. Its code enums (the
  required bindings of `code` elements) are left to the terminology binding check on
  write, which answers 422 `code-invalid` and can be configured
  (terminology/bindings.py), unless `validate_schema_on_write` asks for them here (400);
- integers are whole numbers (positiveInt ≥ 1, unsignedInt ≥ 0), and a full date is a
  real day (not 1990-02-30), which the R4 schema's patterns cannot say;
- elements are JSON objects where the type is complex (the R4 schema lets `null` pass),
  and the narrative `div` is a string;
- every primitive element with a minimum cardinality of 1 is present (as `x` or `_x`):
  the R4 schema only requires complex elements;
- at most one type of each choice element (`value[x]`) is given, and one is, where the
  choice is required;
- embedded resources (`contained`, `Bundle.entry.resource`, ...) are valid as their own
  `resourceType`: the schema's 146-way `oneOf` (`ResourceList`) is replaced by a
  dispatch on `resourceType`, which also gives the whole check one compiled validator.

The required primitives and the choice groups come from the fhir.resources models'
element metadata (R4B), applied only to elements the R4 schema also has.

When a resource fails, `resource.py` explains it with the slower validators, whose
messages name elements the way clients expect; the verdict stays this one.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import threading
import typing
from contextlib import suppress
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import fhir.resources
import jsonschema_rs
import orjson
from fhir.resources.R4B import get_fhir_model_class

from fhir_server.validation.resource_types import R4_RESOURCE_TYPES
from fhir_server.validation.schema import SCHEMA_PATH

_lock = threading.Lock()
DATE_FORMAT = "fhir-calendar-date"


def _model_for(definition: str) -> Any:
    """The R4B model of a resource or data type definition of the R4 schema, or None."""
    try:
        return get_fhir_model_class(definition)
    except (ValueError, KeyError, AttributeError, ImportError):
        return None


def _field_model(model: Any, alias: str) -> Any:
    """The model class of a model's complex element (`CarePlanActivity.detail`), or None."""
    for field in model.model_fields.values():
        if field.alias == alias:
            annotation = field.annotation
            while typing.get_args(annotation):  # Optional[List[XType]] -> XType
                annotation = typing.get_args(annotation)[0]
            klass = getattr(annotation, "get_model_klass", None)
            return klass() if klass is not None else None
    return None


def _models(definitions: dict[str, Any]) -> dict[str, Any]:
    """The R4B model of each definition that has one.

    Backbone elements are found from their parent, because the schema shortens their
    names (`CarePlan_Detail` is the model `CarePlanActivityDetail`).
    """
    found = {
        name: model
        for name in definitions
        if "_" not in name and (model := _model_for(name)) is not None
    }
    pending = list(found)
    while pending:
        name = pending.pop()
        for alias, element in (definitions[name].get("properties") or {}).items():
            ref = (element.get("items") or element).get("$ref", "")
            target = ref.removeprefix("#/definitions/")
            if "_" in target and target not in found:
                model = _field_model(found[name], alias)
                if model is not None:
                    found[target] = model
                    pending.append(target)
    return found


def _element_rules(definition: dict[str, Any], model: Any) -> list[dict[str, Any]]:
    """Schema clauses for required primitives and choice groups of one definition."""
    properties = definition.get("properties") or {}
    clauses: list[dict[str, Any]] = []
    choices: dict[str, list[str]] = {}
    required_choices: set[str] = set()
    for field in model.model_fields.values():
        extra = field.json_schema_extra
        if not isinstance(extra, dict) or not extra.get("element_property"):
            continue
        name = field.alias
        if name not in properties:
            continue  # an R4B element the R4 schema does not have: the schema decides
        group = extra.get("one_of_many")
        if group:
            choices.setdefault(group, []).append(name)
            if extra.get("one_of_many_required"):
                required_choices.add(group)
        elif extra.get("element_required"):
            clauses.append(_present(name, properties))
    dependencies: dict[str, Any] = {}
    for group, members in choices.items():
        if len(members) > 1:
            for member in members:
                others = [{"required": [m]} for m in members if m != member]
                dependencies[member] = {"not": {"anyOf": others}}
        if group in required_choices:
            clauses.append({"anyOf": [_present(m, properties) for m in members]})
    if dependencies:
        clauses.append({"dependencies": dependencies})
    return clauses


def _present(name: str, properties: dict[str, Any]) -> dict[str, Any]:
    """Present as a value, or (a primitive) as its `_name` extension sibling only."""
    if f"_{name}" in properties:
        return {"anyOf": [{"required": [name]}, {"required": [f"_{name}"]}]}
    return {"required": [name]}


def element_rules(definitions: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The added clauses of every definition that has some, cached on disk.

    Reading them from the models imports every model class (≈ 0.9 s), which each server
    and import worker process would pay at start; the cache file is keyed by the
    fhir.resources version, the schema file and this module, and any problem with it
    means rebuilding.
    """
    # keyed by this module's code too, so a change to how the rules are read is never
    # answered from an older file
    source = SCHEMA_PATH.read_bytes() + Path(__file__).read_bytes()
    digest = hashlib.sha256(source).hexdigest()[:16]
    path = cache_dir() / f"write-schema-rules-{fhir.resources.__version__}-{digest}.json"
    with suppress(OSError, orjson.JSONDecodeError):
        return orjson.loads(path.read_bytes())
    rules = {}
    for name, model in _models(definitions).items():
        clauses = _element_rules(definitions[name], model)
        if clauses:
            rules[name] = clauses
    with suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(orjson.dumps(rules))
        partial.replace(path)  # atomic: processes starting together never read half a file
    return rules


def cache_dir() -> Path:
    """Where derived, rebuildable files go: $FHIR_CACHE_DIR, else the user's cache."""
    configured = os.environ.get("FHIR_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "fhir-server"


def _resource_dispatch() -> dict[str, Any]:
    """`ResourceList` as a dispatch on resourceType instead of a 146-way oneOf."""
    return {
        "type": "object",
        "required": ["resourceType"],
        "properties": {"resourceType": {"enum": sorted(R4_RESOURCE_TYPES)}},
        "allOf": [
            {
                "if": {"properties": {"resourceType": {"const": name}}},
                "then": {"$ref": f"#/definitions/{name}"},
            }
            for name in sorted(R4_RESOURCE_TYPES)
        ],
    }


def _real_date(value: str) -> bool:
    """A full date (or date-time) names a day of the calendar: not 1990-02-30."""
    if len(value) < 10:
        return True  # a year or a year-month: the pattern has said all there is
    try:
        date(int(value[:4]), int(value[5:7]), int(value[8:10]))
    except ValueError:
        return False
    return True


class _Tightening:
    """Rewrites the schema's primitive types where the R4 JSON Schema is looser than R4.

    Its integers are `"type": "number"` (1.5 passes), and dates only match a pattern
    (1990-02-30 passes). Primitive types are written out inline at each element, so
    they are recognised by their pattern.
    """

    def __init__(self, definitions: dict[str, Any], with_enums: bool) -> None:
        self.with_enums = with_enums
        self.dates = {definitions[t]["pattern"] for t in ("date", "dateTime", "instant")}
        self.integers = {
            definitions["integer"]["pattern"]: None,
            definitions["positiveInt"]["pattern"]: 1,
            definitions["unsignedInt"]["pattern"]: 0,
        }

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(item) for item in value]
        if not isinstance(value, dict):
            return value
        if list(value) == ["enum"] and not self.with_enums:
            return {"$ref": "#/definitions/code"}
        out = {key: self(item) for key, item in value.items()}
        pattern = out.get("pattern")
        if pattern in self.dates:
            out["format"] = DATE_FORMAT
        elif pattern in self.integers:
            out["type"] = "integer"
            minimum = self.integers[pattern]
            if minimum is not None:
                out["minimum"] = minimum
        return out


@cache
def write_schema(with_enums: bool = False) -> dict[str, Any]:
    """The completed schema (draft 7): the R4 definitions, their added rules, the dispatch."""
    source = orjson.loads(gzip.decompress(SCHEMA_PATH.read_bytes()))
    definitions: dict[str, Any] = source["definitions"]
    rules = element_rules(definitions)
    definitions = _Tightening(definitions, with_enums)(definitions)
    # R4 types without an R4B model (MedicinalProduct...) get the schema alone
    for name, clauses in rules.items():
        definitions[name]["allOf"] = [*definitions[name].get("allOf", []), *clauses]
    for definition in definitions.values():
        if "properties" in definition:
            definition["type"] = "object"  # the schema lets `null` stand for an element
    definitions["xhtml"] = {"type": "string"}  # (the schema's xhtml accepts anything)
    definitions["ResourceList"] = _resource_dispatch()
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "definitions": definitions,
        "$ref": "#/definitions/ResourceList",
    }


_validators: dict[bool, Any] = {}


def compiled_validator(with_enums: bool = False) -> Any:
    """The compiled validator (built on first use, ≈ 1.5 s with the model imports)."""
    found = _validators.get(with_enums)
    if found is None:
        with _lock:
            found = _validators.get(with_enums)
            if found is None:
                found = jsonschema_rs.Draft7Validator(
                    write_schema(with_enums),
                    formats={DATE_FORMAT: _real_date},
                    validate_formats=True,
                )
                _validators[with_enums] = found
    return found


def conforms(resource: dict[str, Any], with_enums: bool = False) -> bool:
    """Whether the resource passes every check listed in the module docstring."""
    return bool(compiled_validator(with_enums).is_valid(resource))


def problems(
    resource: dict[str, Any], with_enums: bool = False
) -> list[tuple[list[str | int], str]]:
    """(JSON path, message) of each failure, for when the explaining validators find none."""
    return [
        (list(error.instance_path), error.message)
        for error in compiled_validator(with_enums).iter_errors(resource)
    ]
