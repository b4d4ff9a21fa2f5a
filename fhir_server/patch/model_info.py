"""Element metadata (cardinality, type, choice groups) for FHIRPath Patch.

The server keeps resources as plain JSON, but a patch cannot be applied correctly without
knowing a little about the structure: `add` of `given` must create a JSON array while `add` of
`birthDate` must not, and `add`/`replace` of the choice element `value` must be written under
`valueQuantity` or `valueString` depending on the type supplied. That knowledge is read from the
`fhir.resources` R4B model classes (R4B is structurally the R4 datatypes and nearly all of the R4
resources). Only metadata is read; no resource is ever parsed into a model.

When a type is unknown (a resource that R4B does not have, or a path we could not type), every
function returns "don't know" and callers fall back to what the JSON itself shows.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# The JSON object that holds the id/extensions of a primitive (`_birthDate`) is an Element.
PRIMITIVE_SHADOW_TYPE = "Element"
# Types whose concrete type is only known at run time from the JSON's `resourceType`.
ABSTRACT_RESOURCE_TYPES = frozenset({"Resource", "DomainResource"})


@dataclass(frozen=True, slots=True)
class ElementInfo:
    json_name: str  # the property name in FHIR JSON, e.g. "valueQuantity"
    type_name: str | None  # complex type, e.g. "HumanName"; None for primitives
    is_list: bool  # max cardinality > 1, i.e. a JSON array
    choice_base: str | None  # "value" for valueQuantity; None when not a choice element


def element_info(type_name: str | None, json_name: str) -> ElementInfo | None:
    """Metadata of property `json_name` of `type_name`, or None if either is unknown."""
    elements = _elements(type_name) if type_name else None
    return elements.get(json_name) if elements else None


def choice_variants(type_name: str | None, base: str) -> dict[str, ElementInfo]:
    """The JSON names of choice element `base[x]` of `type_name` (empty if not a choice)."""
    elements = _elements(type_name) if type_name else None
    if not elements:
        return {}
    return {name: info for name, info in elements.items() if info.choice_base == base}


def is_known_type(type_name: str | None) -> bool:
    return bool(type_name) and _elements(type_name) is not None


@lru_cache(maxsize=1024)
def _elements(type_name: str) -> dict[str, ElementInfo] | None:
    model = _model_class(type_name)
    if model is None:
        return None
    out: dict[str, ElementInfo] = {}
    for field_name, field in model.model_fields.items():
        # `__ext` fields model the `_name` primitive shadows, handled generically by callers.
        if field_name.endswith("__ext") or field_name == "fhir_comments":
            continue
        json_name = field.alias or field_name
        inner, is_list = _unwrap(field.annotation)
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        base = extra.get("one_of_many")
        out[json_name] = ElementInfo(
            json_name=json_name,
            type_name=_complex_type_name(inner),
            is_list=is_list,
            choice_base=base if isinstance(base, str) else None,
        )
    return out


def _model_class(type_name: str) -> Any:
    try:
        from fhir.resources.R4B import get_fhir_model_class
    except ImportError:  # pragma: no cover - the dependency is declared, but degrade gracefully
        return None
    try:
        return get_fhir_model_class(type_name)
    except (ValueError, AttributeError, ImportError):
        return None


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """Strip Optional[...] / List[...] wrappers: (innermost type, whether a list was seen)."""
    is_list = False
    current = annotation
    while True:
        origin = typing.get_origin(current)
        if origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(current) if a is not type(None)]
            if len(args) != 1:
                return current, is_list
            current = args[0]
        elif origin is list:
            is_list = True
            current = typing.get_args(current)[0]
        else:
            return current, is_list


def _complex_type_name(inner: Any) -> str | None:
    # Complex types appear as marker classes named "<Type>Type" (HumanNameType, ResourceType);
    # primitives are Annotated[str, ...] / bool / etc.
    name = getattr(inner, "__name__", "")
    if not isinstance(inner, type) or not name.endswith("Type") or len(name) <= 4:
        return None
    if name == "FHIRPrimitiveExtensionType":
        return PRIMITIVE_SHADOW_TYPE
    candidate = name[: -len("Type")]
    return candidate if _model_class(candidate) is not None else None
