"""Validation of a resource on write: the compiled verdict, and words for a refusal.

`compiled.conforms` decides (≈ 13 µs per Synthea resource; ADR 0010). Only a resource it
refuses is explained, by the fhir.resources R4B models (`model_validate`, ≈ 150 µs, with
the id rule, a look at embedded resources' types, and pydantic errors turned into FHIR
issues) and by the R4 JSON Schema (schema.py); whatever they cannot name is reported as
the compiled schema words it. Resources are stored exactly as received, never
re-serialised through the models.

R4 types without an R4B model are explained by the R4 JSON Schema alone:
MedicinalProduct* (10 types), EffectEvidenceSynthesis, RiskEvidenceSynthesis,
SubstanceNucleicAcid, SubstancePolymer, SubstanceProtein, SubstanceReferenceInformation,
SubstanceSourceMaterial, SubstanceSpecification (computed at run time, see
`schema_only_types`). So are Evidence and EvidenceVariable, which R4B redesigned: an R4
instance of them does not fit the R4B model. A resource embedding one of these types
(e.g. a Bundle entry) goes to the schema as a whole, since the R4B models cannot parse it.

R4 vs R4B differences seen while building this (R4B model vs R4 schema, fhir.resources
8.3.0 vs FHIR 4.0.1):
- Types removed in R4B: the 18 listed above.
- Evidence, EvidenceVariable (incl. characteristic): redesigned; R4 elements such as
  Evidence.exposureBackground/outcome and EvidenceVariable.type are gone.
- ActivityDefinition.subjectCanonical, PlanDefinition(.action).subjectCanonical: new in
  R4B; the R4 schema rejects them.
- Extension.value[x] / ElementDefinition.defaultValue|fixed|pattern|example.value[x]:
  R4B adds CodeableReference and RatioRange, drops Meta (`valueMeta` is R4 only).
- Extension `_valueString` (extensions on an extension's primitive value) is valid
  FHIR but rejected by the R4B model.
- The R4 JSON Schema lacks `_x` siblings for canonical elements (e.g.
  ActivityDefinition._library) which the R4B models allow.
Leniencies of the R4B models (their checks are weaker than R4; the compiled verdict
refuses these, and the binding check the codes, so they only matter for wording):
- required code bindings are not enforced (`"gender": "x"` passes);
- booleans accept "yes"/1, integers "2"/2.0, decimals "1.5" (a string);
- `fhir_comments` and Python field names (`class_fhir`) are accepted as elements;
- empty arrays/objects, and JSON null inside primitive arrays, pass;
- ids longer than 64 characters pass (checked here instead);
- an embedded resource with an unknown or missing resourceType raises KeyError/TypeError
  or passes silently (checked here instead).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from fhir_server.errors import FhirError, Issue
from fhir_server.validation.additional_types import (
    ADDITIONAL_RESOURCE_TYPES,
    additional_type_issues,
)
from fhir_server.validation.compiled import conforms, problems
from fhir_server.validation.paths import fhir_path
from fhir_server.validation.resource_types import R4_RESOURCE_TYPES
from fhir_server.validation.schema import schema_issues

_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
# Present in R4B, but redesigned so that R4 content does not fit the R4B model.
_REDESIGNED_IN_R4B = frozenset({"Evidence", "EvidenceVariable"})
_STRUCTURE_ERRORS = frozenset(
    {
        "extra_forbidden",
        "json_invalid",
        "fhir-validation-wrong-resource-type",
        "list_type",
        "dict_type",
        "model_type",
        "model_attributes_type",
        "string_type",
        "bool_type",
        "int_type",
        "float_type",
        "decimal_type",
    }
)
_REQUIRED_ERRORS = frozenset({"missing", "model_field_validation.missing"})
_ONE_OF_MANY = re.compile(r"expected from this list \[([^\]]*)\]")
_MAX_VALUE_CHARS = 60

_classes: dict[str, Any] = {}  # type -> R4B model class, or None when validated by schema
_lock = threading.Lock()


def _model_class(resource_type: str) -> Any:
    try:
        return _classes[resource_type]
    except KeyError:
        pass
    with _lock:
        cls = None
        if resource_type not in _REDESIGNED_IN_R4B:
            try:
                cls = get_fhir_model_class(resource_type)
            except ValueError:
                cls = None  # removed in R4B
        _classes[resource_type] = cls
        return cls


def schema_only_types() -> frozenset[str]:
    """R4 types validated by the R4 JSON Schema because the R4B models cannot."""
    return frozenset(t for t in R4_RESOURCE_TYPES if _model_class(t) is None)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[: _MAX_VALUE_CHARS - 3] + "..."


def _id_issue(resource: Any, where: str) -> Issue | None:
    value = resource.get("id")
    if value is None or (isinstance(value, str) and _ID.fullmatch(value)):
        return None
    return Issue(
        "error",
        "value",
        f"{where}: {_short(value)} is not a valid id (1-64 of A-Z a-z 0-9 - .)",
        [where],
    )


def _embedded(resource: dict[str, Any], root: str) -> Iterator[tuple[str, Any]]:
    """(path, value) of every directly embedded resource the R4B models would parse."""
    contained = resource.get("contained")
    if isinstance(contained, list):
        for i, item in enumerate(contained):
            yield f"{root}.contained[{i}]", item
    entries = resource.get("entry") if root == "Bundle" else None
    if isinstance(entries, list):
        for i, entry in enumerate(entries):
            if isinstance(entry, dict) and "resource" in entry:
                yield f"Bundle.entry[{i}].resource", entry["resource"]
    params = resource.get("parameter") if root == "Parameters" else None
    if isinstance(params, list):
        for i, param in enumerate(params):
            if isinstance(param, dict) and "resource" in param:
                yield f"Parameters.parameter[{i}].resource", param["resource"]


def _embedded_issues(resource: dict[str, Any], root: str) -> tuple[list[Issue], bool]:
    """Problems with embedded resources' types and ids, and whether one is schema-only."""
    issues: list[Issue] = []
    needs_schema = False
    for where, item in _embedded(resource, root):
        if not isinstance(item, dict):
            issues.append(Issue("error", "structure", f"{where} must be a resource", [where]))
            continue
        item_type = item.get("resourceType")
        if item_type is None:
            issues.append(
                Issue(
                    "error", "required", f"{where} has no resourceType", [f"{where}.resourceType"]
                )
            )
        elif not isinstance(item_type, str) or item_type not in R4_RESOURCE_TYPES:
            issues.append(
                Issue(
                    "error",
                    "structure",
                    f"{where}: {_short(item_type)} is not a FHIR R4 resource type",
                    [f"{where}.resourceType"],
                )
            )
        else:
            needs_schema = needs_schema or _model_class(item_type) is None
            id_issue = _id_issue(item, f"{where}.id")
            if id_issue:
                issues.append(id_issue)
    return issues, needs_schema


def _issue_from_pydantic(error: Any, root: str) -> Issue:
    kind = error["type"]
    loc = error["loc"]
    where = fhir_path(root, loc)
    message = error["msg"].removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return Issue("error", "structure", f"Unknown element '{loc[-1]}' at {where}", [where])
    if kind in _REQUIRED_ERRORS:
        return Issue("error", "required", f"Missing required element {where}", [where])
    choice = _ONE_OF_MANY.search(message)
    if choice:
        # A model-level check: only one type of a choice element (value[x]) may be given.
        names = [n.strip(" '") for n in choice.group(1).split(",")]
        given = [n for n in names if isinstance(error.get("input"), dict) and n in error["input"]]
        text = f"{where}: only one of {', '.join(given) or ', '.join(names)} may be present"
        return Issue("error", "structure", text, [where])
    code = "structure" if kind in _STRUCTURE_ERRORS else "value"
    value = f" (got {_short(error['input'])})" if "input" in error and loc else ""
    return Issue("error", code, f"{where}: {message}{value}", [where])


class ResourceValidator:
    """Validates resources on write; `schema_on_write` also enforces the schema's code enums."""

    def __init__(self, *, schema_on_write: bool = False) -> None:
        self.schema_on_write = schema_on_write

    def validate(self, resource: dict[str, Any]) -> None:
        """Raise FhirError (400; 422 for an additional type) with one issue per problem."""
        issues = self.issues(resource)
        if issues:
            # an additional type's rules (ViewDefinition) are checked on well-formed JSON
            extra = resource["resourceType"] in ADDITIONAL_RESOURCE_TYPES
            raise FhirError(422 if extra else 400, "invalid", "", issues=issues)

    def issues(self, resource: dict[str, Any], *, with_schema: bool | None = None) -> list[Issue]:
        """Every problem found (empty when valid). The caller ran require_resource.

        The compiled schema gives the verdict (compiled.py). Only a resource it rejects
        is explained, by the R4B models and the R4 JSON Schema (`with_schema=True`, as
        `$validate` asks, explains code enums too); whatever they cannot name is
        reported as the compiled schema words it.
        """
        root = resource["resourceType"]
        if root in ADDITIONAL_RESOURCE_TYPES:
            id_issue = _id_issue(resource, f"{root}.id")
            return dedupe([*([id_issue] if id_issue else []), *additional_type_issues(resource)])
        with_enums = self.schema_on_write if with_schema is None else with_schema
        if conforms(resource, with_enums):
            return []
        issues = self._explain(resource, root, with_enums)
        if not any(i.severity in ("error", "fatal") for i in issues):
            issues += [
                Issue(
                    "error",
                    "structure",
                    f"{fhir_path(root, path)}: {message}",
                    [fhir_path(root, path)],
                )
                for path, message in problems(resource, with_enums)
            ]
        return dedupe(issues)

    @staticmethod
    def _explain(resource: dict[str, Any], root: str, with_enums: bool) -> list[Issue]:
        issues: list[Issue] = []
        id_issue = _id_issue(resource, f"{root}.id")
        if id_issue:
            issues.append(id_issue)
        embedded, needs_schema = _embedded_issues(resource, root)
        issues.extend(embedded)
        model = _model_class(root)
        if model is not None and not needs_schema and not embedded:
            # (the models crash on embedded resources of unknown type)
            issues.extend(_model_issues(model, resource, root))
        issues.extend(schema_issues(resource, enums=with_enums))
        return issues


def _model_issues(model: Any, resource: dict[str, Any], root: str) -> list[Issue]:
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        return [_issue_from_pydantic(e, root) for e in exc.errors(include_url=False)]
    except (KeyError, TypeError, ValueError) as exc:
        # fhir.resources raises these for shapes it does not expect (e.g. a contained
        # resource nested deeper than we look with an unknown type): still the client's.
        return [Issue("error", "structure", f"{root}: cannot be parsed ({exc!r})", [root])]
    return []


def dedupe(issues: list[Issue]) -> list[Issue]:
    """One issue per element path (errors), first reported wins; others by full identity."""
    seen: set[tuple[Any, ...]] = set()
    out: list[Issue] = []
    for issue in issues:
        if issue.severity in ("error", "fatal") and issue.expression:
            key: tuple[Any, ...] = ("error", *issue.expression)
        else:
            key = (issue.severity, issue.code, issue.diagnostics, *issue.expression)
        if key not in seen:
            seen.add(key)
            out.append(issue)
    return out
