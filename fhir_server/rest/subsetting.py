"""_summary and _elements: serve a subset of a resource, marked SUBSETTED.

Summary elements come from the `fhir.resources` R4B models, which carry the
specification's isSummary flag per element (`summary_element_property`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson

from fhir_server.errors import FhirError

SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
    "display": "Resource encoded in summary mode",
}
_ALWAYS = ("resourceType", "id", "meta")
SUMMARY_MODES = ("true", "false", "text", "data", "count")


@lru_cache(maxsize=512)
def summary_elements(type_: str) -> frozenset[str] | None:
    """Top-level element names (JSON keys, choice types expanded) that are in the summary."""
    try:
        from fhir.resources.R4B import get_fhir_model_class

        model = get_fhir_model_class(type_)
    except (KeyError, ValueError, ImportError):
        return None  # an R4-only type: no summary metadata, serve it whole
    names: set[str] = set()
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if extra.get("summary_element_property"):
            key = info.alias or name
            names.add(key)
            names.add("_" + key)
    return frozenset(names)


@lru_cache(maxsize=512)
def mandatory_elements(type_: str) -> frozenset[str]:
    try:
        from fhir.resources.R4B import get_fhir_model_class

        model = get_fhir_model_class(type_)
    except (KeyError, ValueError, ImportError):
        return frozenset()
    names = set()
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if extra.get("element_required") or (info.is_required() and extra.get("element_property")):
            names.add(info.alias or name)
    return frozenset(names)


def _mark_subsetted(resource: dict[str, Any]) -> None:
    meta = dict(resource.get("meta") or {})
    tags = [t for t in meta.get("tag", []) if t.get("code") != "SUBSETTED"]
    meta["tag"] = [*tags, SUBSETTED]
    resource["meta"] = meta


def subset(body: bytes, summary: str | None, elements: list[str] | None) -> bytes:
    """The stored body, reduced per _summary / _elements (unchanged when neither asks)."""
    if summary in (None, "false") and not elements:
        return body
    resource = orjson.loads(body)
    type_ = resource.get("resourceType", "")
    if summary == "text":
        keep = {*_ALWAYS, "text", *mandatory_elements(type_)}
        out = {k: v for k, v in resource.items() if k in keep}
    elif summary == "data":
        out = {k: v for k, v in resource.items() if k != "text"}
    elif summary == "true":
        allowed = summary_elements(type_)
        if allowed is None:
            return body
        out = {k: v for k, v in resource.items() if k in _ALWAYS or k in allowed}
    elif elements:
        wanted = set(elements) | {"_" + e for e in elements}
        keep = {*_ALWAYS, *mandatory_elements(type_), *wanted}
        # a choice element asked for by its base name (value) keeps valueQuantity etc.
        out = {
            k: v
            for k, v in resource.items()
            if k in keep
            or any(k.startswith(e) and k[len(e) : len(e) + 1].isupper() for e in elements)
        }
    else:
        raise FhirError(400, "invalid", f"Unknown _summary value {summary!r}", ["_summary"])
    _mark_subsetted(out)
    return orjson.dumps(out)


def parse_subsetting(params: list[tuple[str, str]]) -> tuple[str | None, list[str] | None]:
    summary: str | None = None
    elements: list[str] | None = None
    for name, value in params:
        if name == "_summary":
            if value not in SUMMARY_MODES:
                raise FhirError(
                    400,
                    "invalid",
                    f"_summary must be one of {', '.join(SUMMARY_MODES)}, got {value!r}",
                    ["_summary"],
                )
            summary = value
        elif name == "_elements":
            elements = [e.strip() for e in value.split(",") if e.strip()]
            # Type.element form is allowed; keep the element part
            elements = [e.split(".", 1)[1] if "." in e else e for e in elements]
    return summary, elements
