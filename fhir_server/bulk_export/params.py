"""$export kick-off parameters -> what to stream (`ExportSelection`s, one per type).

Supported (Bulk Data IG v2): `_outputFormat` (NDJSON only), `_since` (a FHIR instant:
resources whose lastUpdated is later), `_type` (comma-separated, repeatable), `patient`
(Patient and Group level: only these Patients' compartments), `_elements` (`code` or
`Observation.code`; each resource keeps those plus its mandatory elements and is tagged
SUBSETTED, as a search with `_elements`) and
`_typeFilter` (FHIR search queries such as `Observation?code=http://loinc.org|4548-4`,
parsed by the server's search parser, so every supported search parameter, modifier and
chain works; several filters for one type are OR-ed). Anything else is a 400: a
client asking for something this server would silently ignore gets wrong data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from fhir_server.errors import FhirError
from fhir_server.instants import to_micros
from fhir_server.search.query import RESULT_PARAMS
from fhir_server.search.subsearch import SessionSubSearch
from fhir_server.storage.base import ExportSelection, StoreSession
from fhir_server.storage.query import And, InCompartment, LastUpdated, Or, Predicate

if TYPE_CHECKING:
    from fhir_server.rest.context import ServerContext

OUTPUT_FORMATS = frozenset({"application/fhir+ndjson", "application/ndjson", "ndjson"})
SUPPORTED = frozenset({"_outputFormat", "_since", "_type", "_typeFilter", "patient", "_elements"})
# named by the IG but not implemented here: refused rather than ignored
NOT_SUPPORTED = frozenset({"includeAssociatedData", "organizeOutputBy", "allowPartialManifests"})
_PATIENT = re.compile(r"(?:.*/)?Patient/([A-Za-z0-9\-.]{1,64})")
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")
# a new filter starts where a comma is followed by `Type?`; other commas are search ORs
_FILTER_SPLIT = re.compile(r",(?=[A-Z][A-Za-z]*\?)")
_COMPARTMENT_CHUNK = 500  # patient ids per compartment look-up (bound parameter limits)


@dataclass(slots=True)
class ExportArguments:
    types: list[str] | None = None  # None: every type the level allows
    since: datetime | None = None
    type_filters: list[tuple[str, str]] = field(default_factory=list)  # (type, query)
    output_format: str = "application/fhir+ndjson"
    patients: list[str] | None = None  # `patient`: only these Patients' compartments
    # `_elements`: element names per type (None key: for every type); None: whole resources
    elements: dict[str | None, list[str]] | None = None

    def elements_for(self, type_: str) -> list[str] | None:
        if self.elements is None:
            return None
        return [*self.elements.get(None, []), *self.elements.get(type_, [])] or None


def from_parameters(body: Any) -> list[tuple[str, str]]:
    """A POST kick-off's Parameters resource as (name, value) pairs."""
    if body is None:
        return []
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise FhirError(400, "invalid", "A POST $export body must be a Parameters resource")
    pairs: list[tuple[str, str]] = []
    for i, parameter in enumerate(body.get("parameter") or []):
        name = parameter.get("name") if isinstance(parameter, dict) else None
        values = [
            v for k, v in (parameter or {}).items() if k.startswith("value") and isinstance(v, str)
        ]
        reference = (parameter or {}).get("valueReference")
        if isinstance(reference, dict) and isinstance(reference.get("reference"), str):
            values.append(reference["reference"])  # `patient` is a Reference
        if not isinstance(name, str) or len(values) != 1:
            raise FhirError(
                400,
                "invalid",
                "Each $export parameter needs a name and one string-like value"
                " (valueString, valueCode, valueInstant)",
                [f"Parameters.parameter[{i}]"],
            )
        pairs.append((name, values[0]))
    return pairs


def parse_arguments(ctx: ServerContext, params: Sequence[tuple[str, str]]) -> ExportArguments:
    args = ExportArguments()
    for name, value in params:
        if name in NOT_SUPPORTED:
            raise FhirError(
                400, "not-supported", f"$export parameter {name} is not supported", [name]
            )
        if name not in SUPPORTED:
            raise FhirError(400, "invalid", f"Unknown $export parameter {name!r}", [name])
        if name == "_outputFormat":
            if value.strip().replace(" ", "+") not in OUTPUT_FORMATS:
                raise FhirError(
                    400,
                    "not-supported",
                    f"_outputFormat {value!r} is not supported; use application/fhir+ndjson",
                    ["_outputFormat"],
                )
        elif name == "_since":
            args.since = parse_instant(value)
        elif name == "_type":
            args.types = (args.types or []) + _types(ctx, value)
        elif name == "patient":
            args.patients = (args.patients or []) + _patients(value)
        elif name == "_elements":
            args.elements = _elements(ctx, value, args.elements or {})
        else:
            args.type_filters += _type_filters(ctx, value)
    if args.types is not None:
        args.types = list(dict.fromkeys(args.types))
    return args


def parse_instant(value: str) -> datetime:
    # an unencoded '+' of a time zone arrives as a space
    text = value.strip().replace(" ", "+")
    try:
        if not _INSTANT.fullmatch(text):
            raise ValueError
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise FhirError(
            400,
            "invalid",
            f"_since must be a FHIR instant with a time zone, e.g. 2024-01-31T10:00:00Z;"
            f" got {value!r}",
            ["_since"],
        ) from None
    return moment.astimezone(UTC)


def _types(ctx: ServerContext, value: str) -> list[str]:
    types = [t.strip() for t in value.split(",") if t.strip()]
    for t in types:
        if not ctx.registry.is_resource_type(t):
            raise FhirError(400, "invalid", f"_type: unknown resource type {t!r}", ["_type"])
    return types


def _elements(
    ctx: ServerContext, value: str, into: dict[str | None, list[str]]
) -> dict[str | None, list[str]]:
    """`code`, or `Observation.code` for one type only (Bulk Data `_elements`)."""
    for item in (e.strip() for e in value.split(",") if e.strip()):
        type_, dot, name = item.rpartition(".")
        if dot and not ctx.registry.is_resource_type(type_):
            raise FhirError(400, "invalid", f"_elements: unknown type in {item!r}", ["_elements"])
        if not re.fullmatch(r"[a-z][A-Za-z0-9]*", name):
            raise FhirError(400, "invalid", f"_elements: {item!r} is not an element", ["_elements"])
        into.setdefault(type_ or None, []).append(name)
    return into


def _patients(value: str) -> list[str]:
    ids = []
    for reference in (r.strip() for r in value.split(",") if r.strip()):
        match = _PATIENT.fullmatch(reference)
        if match is None:
            raise FhirError(
                400,
                "invalid",
                f"patient must be Patient references (Patient/id), got {reference!r}",
                ["patient"],
            )
        ids.append(match.group(1))
    return ids


def _type_filters(ctx: ServerContext, value: str) -> list[tuple[str, str]]:
    filters = []
    for text in _FILTER_SPLIT.split(value.strip()):
        type_, mark, query = text.partition("?")
        if not mark or not ctx.registry.is_resource_type(type_):
            raise FhirError(
                400,
                "invalid",
                f"_typeFilter {text!r} must be a search like Observation?code=...",
                ["_typeFilter"],
            )
        filters.append((type_, query))
    return filters


def selections(
    ctx: ServerContext,
    session: StoreSession,
    args: ExportArguments,
    allowed: Sequence[str],
    patient_ids: Sequence[str] | None = None,
    any_patient: bool = False,
) -> list[ExportSelection]:
    """One selection per exported type, in type order.

    `allowed`: the types this level may export; `patient_ids`: only these Patients'
    compartments (Group export); `any_patient`: only resources in some compartment.
    """
    types = sorted(allowed) if args.types is None else args.types
    outside = [t for t in types if t not in allowed]
    if outside:
        raise FhirError(
            400,
            "invalid",
            f"_type {', '.join(outside)} cannot be exported here (not in the Patient compartment)",
            ["_type"],
        )
    filters = _filter_predicates(ctx, session, args.type_filters, types)
    common: list[Predicate] = []
    if args.since is not None:
        common.append(LastUpdated((("low", ">", float(to_micros(args.since))),)))
    if patient_ids is not None:
        chunks = [
            InCompartment(tuple(patient_ids[i : i + _COMPARTMENT_CHUNK]))
            for i in range(0, len(patient_ids), _COMPARTMENT_CHUNK)
        ]
        if not chunks:
            return []  # a Group without Patient members exports nothing
        common.append(chunks[0] if len(chunks) == 1 else Or(tuple(chunks)))
    result = []
    for t in types:
        parts = list(common)
        if t in filters:
            found = filters[t]
            parts.append(found[0] if len(found) == 1 else Or(tuple(found)))
        where = None if not parts else parts[0] if len(parts) == 1 else And(tuple(parts))
        result.append(ExportSelection(t, where, in_any_compartment=any_patient))
    return result


def _filter_predicates(
    ctx: ServerContext,
    session: StoreSession,
    type_filters: list[tuple[str, str]],
    types: Sequence[str],
) -> dict[str, list[Predicate]]:
    found: dict[str, list[Predicate]] = {}
    for type_, query in type_filters:
        if type_ not in types:
            raise FhirError(
                400,
                "invalid",
                f"_typeFilter names {type_}, which this export does not include",
                ["_typeFilter"],
            )
        pairs = parse_qsl(query, keep_blank_values=True)
        for name, _ in pairs:
            if name in RESULT_PARAMS or name.split(":", 1)[0] in ("_include", "_revinclude"):
                raise FhirError(
                    400,
                    "invalid",
                    f"_typeFilter {type_}?{query}: result parameter {name} is not allowed",
                    ["_typeFilter"],
                )
        parsed = ctx.parser.parse(
            (type_,), pairs, strict=True, subsearch=SessionSubSearch(session, ctx.indexer)
        )
        if parsed.where is None:
            raise FhirError(
                400, "invalid", f"_typeFilter {type_}?{query} has no criteria", ["_typeFilter"]
            )
        found.setdefault(type_, []).append(parsed.where)
    return found
