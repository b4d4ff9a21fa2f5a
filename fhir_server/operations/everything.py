"""Patient/$everything: the longitudinal record, by Patient id or across facilities by ABHA.

Instance level (`Patient/{id}/$everything`) takes one Patient; type level
(`Patient/$everything?identifier=system|value`) takes every Patient that carries the
health ID (each facility keeps its own Patient) plus those joined by `Patient.link`.
The result is those Patients, every resource in their compartments (newest first by
lastUpdated, keyset-paged) and, on the first page, the Practitioners, Organizations,
Locations and Medications those resources reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from fhir_server.abdm.person import linked_patients
from fhir_server.errors import FhirError, Issue
from fhir_server.operations.registry import Operation, OperationParameter, register
from fhir_server.rest.bundles import bundle, entry, outcome_entries
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.results import InteractionResult
from fhir_server.rest.versioning import check_id
from fhir_server.search.dates import date_range, zone
from fhir_server.search.subsearch import SessionSubSearch
from fhir_server.security.acting import current_principal
from fhir_server.security.consent import visibility
from fhir_server.security.principal import Principal
from fhir_server.security.withholding import readable_types, withhold_unreadable
from fhir_server.storage.base import StoreSession
from fhir_server.storage.query import (
    And,
    InCompartment,
    LastUpdated,
    Missing,
    Or,
    Predicate,
    Range,
    SearchQuery,
    SortKey,
)

REFERENCED_TYPES = ("Practitioner", "PractitionerRole", "Organization", "Location", "Medication")
# clinical-date parameters a start/end window applies to (resources with none stay in)
CARE_DATE_PARAMS = ("date", "authoredon", "onset-date", "recorded-date", "period", "created")
DEFAULT_COUNT = 100
NOT_BY_DEFAULT = frozenset({"AuditEvent"})
CURSOR = "_cursor"


def run_everything(
    ctx: ServerContext,
    request: RequestInfo,
    type_: str | None,
    id_: str | None,
    params: Sequence[tuple[str, str]],
    body: object,
) -> InteractionResult:
    args = _arguments(ctx, params)
    principal = current_principal()
    issues: list[Issue] = []
    if principal is not None:
        principal.require("Patient", "r", "$everything")
    with ctx.store.session() as session:
        patient_ids = _patients(ctx, session, id_, args["identifier"])
        compartment_types = _compartment_types(ctx, args["types"])
        if principal is not None:
            compartment_types = _readable(principal, compartment_types, issues)
        where = _where(ctx, patient_ids, args)
        page = session.search(
            SearchQuery(
                types=compartment_types,
                where=where,
                sort=(SortKey("_lastUpdated", descending=True),),
                count=args["count"],
                cursor=args["cursor"],
                total="accurate" if args["cursor"] is None else "none",
            )
        )
        referenced = []
        if args["cursor"] is None:
            targets: dict[tuple[str, str], None] = {}
            for key in _referenced(session, compartment_types, where):
                targets[key] = None
            referenced = sorted(session.read_many(targets).values(), key=lambda r: (r.type, r.id))
            if principal is not None:
                referenced = withhold_unreadable(principal, referenced, issues)
        boundary = visibility(ctx, session)
        page.records = boundary.filter(page.records, issues)
        referenced = boundary.filter(referenced, issues)
    entries = [
        entry(f"{request.base_url}/{r.type}/{r.id}", r.body, search={"mode": "match"})
        for r in page.records
    ]
    entries += [
        entry(f"{request.base_url}/{r.type}/{r.id}", r.body, search={"mode": "include"})
        for r in referenced
    ]
    entries += outcome_entries(issues)
    path = f"Patient/{id_}/$everything" if id_ else "Patient/$everything"
    kept = [(k, v) for k, v in params if k != CURSOR]
    links = [("self", _link(request, path, kept))]
    if page.next_cursor:
        links.append(("next", _link(request, path, [*kept, (CURSOR, page.next_cursor)])))
    return InteractionResult(200, body=bundle("searchset", entries, total=page.total, links=links))


def _arguments(ctx: ServerContext, params: Sequence[tuple[str, str]]) -> dict:
    args: dict = {
        "identifier": None,
        "types": None,
        "since": None,
        "start": None,
        "end": None,
        "count": DEFAULT_COUNT,
        "cursor": None,
    }
    for name, value in params:
        if name == "identifier":
            args["identifier"] = value
        elif name == "_type":
            args["types"] = [t.strip() for t in value.split(",") if t.strip()]
        elif name in ("_since", "start", "end"):
            args[name.lstrip("_")] = value
        elif name == "_count":
            if not value.isdigit() or not 0 < int(value) <= ctx.settings.max_count:
                raise FhirError(
                    400,
                    "invalid",
                    f"_count must be an integer from 1 to {ctx.settings.max_count}, got {value!r}",
                    ["_count"],
                )
            args["count"] = int(value)
        elif name == CURSOR:
            args["cursor"] = value
    return args


def _patients(
    ctx: ServerContext, session: StoreSession, id_: str | None, identifier: str | None
) -> list[str]:
    if id_ is not None:
        check_id(id_)
        patient = session.read("Patient", id_)
        if patient is None or patient.deleted:
            raise FhirError(404, "not-found", f"Patient/{id_} is not known")
        seeds = [id_]
    else:
        if not identifier:
            raise FhirError(
                400,
                "required",
                "Patient/$everything at type level needs identifier=system|value (e.g. an ABHA)",
                ["identifier"],
            )
        parsed = ctx.parser.parse(
            ("Patient",),
            [("identifier", identifier)],
            strict=True,
            subsearch=SessionSubSearch(session, ctx.indexer),
        )
        seeds = [pid for _, pid in session.match_keys(("Patient",), parsed.where)]
        if not seeds:
            raise FhirError(404, "not-found", f"No Patient carries the identifier {identifier!r}")
    return linked_patients(session, seeds)


def _readable(principal: Principal, types: tuple[str, ...], issues: list[Issue]) -> tuple[str, ...]:
    allowed = readable_types(principal, types)
    left_out = [t for t in types if t not in allowed]
    if left_out:
        issues.append(
            Issue(
                "information",
                "suppressed",
                f"Left out {', '.join(left_out)}: the access token's scopes do not allow"
                " reading them",
            )
        )
    return allowed


def _compartment_types(ctx: ServerContext, wanted: list[str] | None) -> tuple[str, ...]:
    members = tuple(sorted({*ctx.registry.compartment_params, "Patient"}))
    if wanted is None:
        # the access log is not part of the care record: only when asked for by _type
        return tuple(t for t in members if t not in NOT_BY_DEFAULT)
    unknown = [t for t in wanted if t not in members]
    if unknown:
        raise FhirError(
            400,
            "invalid",
            f"_type {', '.join(unknown)} is not in the Patient compartment",
            ["_type"],
        )
    return tuple(wanted)


def _where(ctx: ServerContext, patient_ids: list[str], args: dict) -> Predicate:
    parts: list[Predicate] = [InCompartment(tuple(patient_ids))]
    tz = ctx.settings.default_timezone
    if args["since"]:
        low, _ = _date(args["since"], tz, "_since")
        parts.append(LastUpdated((("low", ">=", low),)))
    if args["start"] or args["end"]:
        conditions = []
        if args["start"]:
            conditions.append(("high", ">=", _date(args["start"], tz, "start")[0]))
        if args["end"]:
            conditions.append(("low", "<=", _date(args["end"], tz, "end")[1]))
        in_window = [Range(p, tuple(conditions)) for p in CARE_DATE_PARAMS]
        undated = And(tuple(Missing(p, "range", True) for p in CARE_DATE_PARAMS))
        parts.append(Or((*in_window, undated)))
    return And(tuple(parts))


def _date(value: str, tz: str, name: str) -> tuple[int, int]:
    try:
        return date_range(value, zone(tz))
    except ValueError as exc:
        raise FhirError(400, "invalid", f"{name}: {exc}", [name]) from exc


def _referenced(
    session: StoreSession, types: tuple[str, ...], where: Predicate
) -> list[tuple[str, str]]:
    return [k for k in session.referenced_keys(types, where, None) if k[0] in REFERENCED_TYPES]


def _link(request: RequestInfo, path: str, params: Sequence[tuple[str, str]]) -> str:
    url = f"{request.base_url}/{path}"
    return f"{url}?{urlencode(list(params))}" if params else url


OPERATION = register(
    Operation(
        name="everything",
        levels=frozenset({"type", "instance"}),
        types=frozenset({"Patient"}),
        handler=run_everything,
        definition_url="urn:fhir-server:OperationDefinition/Patient-everything",
        documentation=(
            "The Patient, every resource in its compartment and the Practitioners,"
            " Organizations, Locations and Medications they reference; at type level"
            " by identifier (ABHA number or address, either system, with or without"
            " hyphens) across every facility's Patient and Patient.link; _since, _type,"
            " start, end, _count; paged by next links."
        ),
        parameters=(
            OperationParameter(
                "identifier",
                "in",
                0,
                "1",
                "string",
                "Type level: system|value of a health ID (ABHA number or address); every"
                " Patient carrying it, and those joined by Patient.link, contribute their"
                " compartments",
            ),
            OperationParameter("start", "in", 0, "1", "date", "Care dates on or after"),
            OperationParameter("end", "in", 0, "1", "date", "Care dates on or before"),
            OperationParameter("_since", "in", 0, "1", "instant", "Changed since"),
            OperationParameter("_type", "in", 0, "*", "code", "Only these resource types"),
            OperationParameter("_count", "in", 0, "1", "integer", "Page size (max 1000)"),
            OperationParameter(
                "return", "out", 1, "1", "Bundle", "searchset Bundle, newest first, paged"
            ),
        ),
    )
)
