"""ViewDefinition/$run (SQL on FHIR v2): a view's rows as CSV, NDJSON, JSON or Parquet.

Type level takes the view inline (`viewResource`) or by reference (`viewReference`:
`ViewDefinition/id`, an id, or the view's canonical url); instance level runs the
stored ViewDefinition. Parameters come from the query string or a Parameters body:
`_format` (csv | ndjson | json | parquet, or their media types; json by default), `_limit`
(rows), `patient` (only resources in these Patients' compartments), `_since` (changed at
or after), `resource` (run over these inline resources instead of the store).

The rows are streamed: the result carries an iterator of encoded chunks, pulled by the
HTTP layer as it sends. The first rows are computed here, so a view that fails on the
first resources is a 422 OperationOutcome rather than a cut-off body; a failure later
ends the stream early (the body is then incomplete).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import orjson

from fhir_server.errors import FhirError
from fhir_server.operations.registry import Operation, OperationParameter, register
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.results import InteractionResult
from fhir_server.search.dates import date_range, zone
from fhir_server.search.references import parse_reference
from fhir_server.security.acting import current_principal
from fhir_server.security.facility import recorded_by
from fhir_server.storage.query import Uri
from fhir_server.views import formats
from fhir_server.views.runner import CompiledView, compile_view
from fhir_server.views.source import SourceFilter, resources

VIEW = "ViewDefinition"
FIRST_ROWS = 1000


def run_view(
    ctx: ServerContext,
    request: RequestInfo,
    type_: str | None,
    id_: str | None,
    params: Sequence[tuple[str, str]],
    body: Any,
) -> InteractionResult:
    args = _arguments(params, body)
    if id_ is not None:
        view = _stored_view(ctx, id_)
    elif "viewResource" in args:
        view = args["viewResource"][0]
    elif "viewReference" in args:
        view = _referenced_view(ctx, args["viewReference"][0])
    else:
        raise FhirError(
            400, "required", "$run needs a viewResource or viewReference", ["viewResource"]
        )
    compiled = compile_view(view)
    media = formats.media_type(_one(args, "_format") or "json")
    limit = _limit(_one(args, "_limit"))
    if "resource" in args:
        source: Iterable[dict] = [
            r for r in args["resource"] if r.get("resourceType") == compiled.resource_type
        ]
    else:
        patients = _allowed_patients(
            compiled.resource_type, tuple(_patient_id(p) for p in args.get("patient", []))
        )
        where = SourceFilter(patients, _since(ctx, _one(args, "_since")))
        source = _own_facility_only(resources(ctx.store, compiled.resource_type, where))
    rows = compiled.iter_rows(source)
    if limit is not None:
        rows = itertools.islice(rows, limit)
    # the first rows are computed here, so that a view failing on them is a proper 422
    first = list(itertools.islice(rows, FIRST_ROWS))
    chunks = formats.writer(media)(list(compiled.columns), itertools.chain(first, rows))
    headers = {"Content-Disposition": f'inline; filename="{_file_name(compiled, media)}"'}
    return InteractionResult(200, stream=chunks, media_type=_with_charset(media), headers=headers)


def _with_charset(media: str) -> str:
    return media if media == formats.PARQUET else f"{media}; charset=utf-8"


def _file_name(view: CompiledView, media: str) -> str:
    suffix = {formats.CSV: "csv", formats.NDJSON: "ndjson", formats.PARQUET: "parquet"}
    return f"{view.name or 'view'}.{suffix.get(media, 'json')}"


# -- parameters --------------------------------------------------------------------------
_VALUE_KEYS = (
    "valueCode",
    "valueString",
    "valueUri",
    "valueCanonical",
    "valueInteger",
    "valuePositiveInt",
    "valueInstant",
    "valueDateTime",
    "valueDate",
)


def _arguments(params: Sequence[tuple[str, str]], body: Any) -> dict[str, list[Any]]:
    """name -> values, from the query string and a Parameters body (if any)."""
    args: dict[str, list[Any]] = {}
    for name, value in params:
        args.setdefault(name, []).append(value)
    if body is None:
        return args
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise FhirError(400, "invalid", "$run takes a Parameters resource as its body")
    for i, parameter in enumerate(body.get("parameter") or []):
        name = parameter.get("name") if isinstance(parameter, dict) else None
        if not isinstance(name, str):
            raise FhirError(
                400, "required", "parameter has no name", [f"Parameters.parameter[{i}]"]
            )
        args.setdefault(name, []).append(_parameter_value(parameter))
    return args


def _parameter_value(parameter: dict[str, Any]) -> Any:
    if "resource" in parameter:
        return parameter["resource"]
    reference = parameter.get("valueReference")
    if isinstance(reference, dict):
        return reference.get("reference", "")
    for key in _VALUE_KEYS:
        if key in parameter:
            return parameter[key]
    return None


def _one(args: dict[str, list[Any]], name: str) -> Any:
    values = args.get(name) or []
    if len(values) > 1:
        raise FhirError(400, "invalid", f"{name} may be given once", [name])
    return values[0] if values else None


def _limit(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str) and value.isdigit() and int(value) > 0:
        return int(value)
    raise FhirError(400, "invalid", f"_limit must be a positive integer, got {value!r}", ["_limit"])


def _since(ctx: ServerContext, value: Any) -> int | None:
    if value is None:
        return None
    try:
        low, _ = date_range(str(value), zone(ctx.settings.default_timezone))
    except ValueError as exc:
        raise FhirError(400, "invalid", f"_since: {exc}", ["_since"]) from exc
    return low


def _patient_id(value: Any) -> str:
    parsed = parse_reference(str(value)) if isinstance(value, str) else None
    if parsed is None or parsed.id is None or parsed.type not in (None, "Patient"):
        raise FhirError(
            400, "invalid", f"patient must be Patient/id or an id, got {value!r}", ["patient"]
        )
    return parsed.id


def _own_facility_only(source: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """A facility's client flattens the records its facility wrote, as bulk export gives it:
    consent opens other facilities' records one patient at a time, not to bulk copies."""
    principal = current_principal()
    facility = principal.facility if principal is not None else None
    if facility is None:
        return source
    return (r for r in source if recorded_by(r) == facility)


def _allowed_patients(type_: str, asked: tuple[str, ...]) -> tuple[str, ...]:
    """The Patients whose data the caller may get; a view reads like a search of its type."""
    principal = current_principal()
    if principal is None:
        return asked
    principal.require(type_, "s", "$run")
    if principal.restriction(type_, "s") is not None:
        raise FhirError(
            403,
            "forbidden",
            f"The access token's scopes grant only part of {type_} (a query-restricted scope),"
            " which $run does not serve",
        )
    if principal.patient is None:
        return asked
    # a patient-context token sees its own compartment only
    if any(pid != principal.patient for pid in asked):
        raise FhirError(403, "forbidden", "patient: the access token is for another patient")
    return (principal.patient,)


def _stored_view(ctx: ServerContext, id_: str) -> dict[str, Any]:
    principal = current_principal()
    if principal is not None:
        principal.require(VIEW, "r", "$run")
    with ctx.store.session() as session:
        record = session.read(VIEW, id_)
    if record is None or record.deleted:
        raise FhirError(404, "not-found", f"{VIEW}/{id_} is not known")
    return orjson.loads(record.body)


def _referenced_view(ctx: ServerContext, reference: Any) -> dict[str, Any]:
    if not isinstance(reference, str) or not reference:
        raise FhirError(400, "invalid", "viewReference must be a reference", ["viewReference"])
    parsed = parse_reference(reference)
    if parsed is not None and parsed.id is not None and parsed.type in (None, VIEW):
        return _stored_view(ctx, parsed.id)
    with ctx.store.session() as session:  # a canonical url
        keys = session.match_keys((VIEW,), Uri("url", reference.split("|")[0]), limit=2)
    if len(keys) != 1:
        found = "no" if not keys else "more than one"
        raise FhirError(404, "not-found", f"{found} {VIEW} has url {reference!r}")
    return _stored_view(ctx, keys[0][1])


OPERATION = register(
    Operation(
        name="run",
        levels=frozenset({"type", "instance"}),
        types=frozenset({VIEW}),
        handler=run_view,
        definition_url="urn:fhir-server:OperationDefinition/ViewDefinition-run",
        documentation=(
            "SQL on FHIR v2: the rows of a ViewDefinition (stored, inline viewResource or"
            " viewReference) over this server's resources, as csv, ndjson, json or parquet;"
            " streamed"
        ),
        parameters=(
            OperationParameter("_format", "in", 0, "1", "code", "csv | ndjson | json | parquet"),
            OperationParameter("viewReference", "in", 0, "1", "Reference", "A stored view"),
            OperationParameter("viewResource", "in", 0, "1", None, "An inline ViewDefinition"),
            OperationParameter("patient", "in", 0, "*", "Reference", "Only these Patients' data"),
            OperationParameter("_since", "in", 0, "1", "instant", "Only resources changed since"),
            OperationParameter("_limit", "in", 0, "1", "integer", "At most this many rows"),
            OperationParameter("resource", "in", 0, "*", None, "Run over these resources"),
            OperationParameter("return", "out", 1, "1", "Binary", "The rows"),
        ),
    )
)
