"""Bulk Data `$export` (HL7 FHIR Bulk Data Access IG v2, asynchronous request pattern).

Kick-off: `GET|POST /fhir/$export` (every type), `/fhir/Patient/$export` (resources in
any Patient's compartment) and `/fhir/Group/{id}/$export` (the compartments of the
Group's Patient members), with `Prefer: respond-async`. The answer is 202 with
`Content-Location: {base}/bulk-status/{job}`; polling it gives 202 + `X-Progress` until
the manifest (200), DELETE cancels. Files are served from `{base}/bulk-files/{job}/{file}`.
The job machinery is in `fhir_server.bulk_export`; this module is the interaction layer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson

from fhir_server.bulk_export.jobs import COMPLETED, IN_PROGRESS, ExportJobs, ExportPlan
from fhir_server.bulk_export.params import from_parameters, parse_arguments, selections
from fhir_server.errors import FhirError, Issue, operation_outcome
from fhir_server.operations.registry import Operation, OperationParameter, register
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.results import InteractionResult
from fhir_server.rest.versioning import check_id
from fhir_server.security.acting import current_principal
from fhir_server.security.facility import FACILITY_TAG_SYSTEM
from fhir_server.security.principal import Principal
from fhir_server.storage.base import ExportSelection, StoreSession
from fhir_server.storage.query import And

RETRY_AFTER_SECONDS = 2
NDJSON = "application/fhir+ndjson"
_PATIENT_REFERENCE = re.compile(r"Patient/([A-Za-z0-9\-.]{1,64})")


def run_export(
    ctx: ServerContext,
    request: RequestInfo,
    type_: str | None,
    id_: str | None,
    params: Sequence[tuple[str, str]],
    body: Any,
) -> InteractionResult:
    jobs = _jobs(ctx)
    if not request.respond_async:
        raise FhirError(
            400,
            "invalid",
            "$export runs asynchronously: send the header 'Prefer: respond-async'",
            ["Prefer"],
        )
    args = parse_arguments(ctx, [*params, *from_parameters(body)])
    principal = current_principal()
    compartment_types = _permitted(
        principal, args, sorted({*ctx.registry.compartment_params, "Patient"})
    )
    with ctx.store.session() as session:
        if args.patients is not None and type_ is None:
            raise FhirError(
                400,
                "invalid",
                "patient applies to Patient/$export and Group/{id}/$export only",
                ["patient"],
            )
        if type_ is None and id_ is None:
            every = _permitted(principal, args, sorted(ctx.registry.resource_types))
            chosen = selections(ctx, session, args, every)
            path = "$export"
        elif type_ == "Patient" and id_ is None and args.patients is not None:
            chosen = selections(ctx, session, args, compartment_types, patient_ids=args.patients)
            path = "Patient/$export"
        elif type_ == "Patient" and id_ is None:
            chosen = selections(ctx, session, args, compartment_types, any_patient=True)
            path = "Patient/$export"
        elif type_ == "Group" and id_ is not None:
            if principal is not None:
                principal.require("Group", "r", "Group/$export")
            members = _group_patients(session, request, check_id(id_))
            if args.patients is not None:  # those of the group's members that are named
                members = [m for m in members if m in set(args.patients)]
            chosen = selections(ctx, session, args, compartment_types, patient_ids=members)
            path = f"Group/{id_}/$export"
        else:
            where = "/".join(p for p in (type_, id_) if p)
            raise FhirError(
                400,
                "not-supported",
                f"$export is not supported on {where}: use /$export, /Patient/$export"
                " or /Group/{id}/$export",
            )
    request_url = f"{request.base_url}/{path}"
    if params:
        request_url += "?" + urlencode(list(params))
    if principal is not None and principal.facility is not None:
        chosen = _own_facility_only(ctx, chosen, principal.facility)
    owner = principal.client_id if principal is not None else None
    elements = args.elements_for if args.elements is not None else None
    job_id = jobs.start(ExportPlan(chosen, request_url, request.base_url, owner, elements))
    status_url = f"{request.base_url}/bulk-status/{job_id}"
    message = f"Export of {len(chosen)} resource types accepted; poll {status_url}"
    return InteractionResult(
        202,
        body=orjson.dumps(operation_outcome([Issue("information", "informational", message)])),
        headers={"Content-Location": status_url},
    )


def _permitted(principal: Principal | None, args: Any, types: list[str]) -> list[str]:
    """The types the caller may export: named ones must all be readable, else 403."""
    if principal is None:
        return types
    if args.types is not None:
        for name in args.types:
            principal.require(name, "r", "$export")
            principal.require(name, "s", "$export")
            if not _whole(principal, name):
                raise FhirError(
                    403,
                    "forbidden",
                    f"The access token's scopes grant only part of {name} (a query-restricted"
                    " scope), which bulk export does not serve",
                )
        return types
    readable = [t for t in types if _whole(principal, t)]
    if not readable:
        raise FhirError(403, "forbidden", "The access token's scopes allow exporting no type")
    return readable


def _whole(principal: Principal, type_: str) -> bool:
    """Read and search on every resource of the type, not only what a scope query matches."""
    return principal.restriction(type_, "r") is None and principal.restriction(type_, "s") is None


def _own_facility_only(
    ctx: ServerContext, chosen: list[ExportSelection], facility: str
) -> list[ExportSelection]:
    """A facility's client exports what that facility recorded, nothing of others'.

    Consent opens another facility's records to reading one patient at a time (search,
    read, $everything); it does not open them to bulk copies.
    """
    narrowed = []
    for selection in chosen:
        tag = ctx.parser.parse(
            (selection.type,), [("_tag", f"{FACILITY_TAG_SYSTEM}|{facility}")], strict=True
        ).where
        assert tag is not None
        where = tag if selection.where is None else And((selection.where, tag))
        narrowed.append(replace(selection, where=where))
    return narrowed


def _group_patients(session: StoreSession, request: RequestInfo, group_id: str) -> list[str]:
    record = session.read("Group", group_id)
    if record is None or record.deleted:
        raise FhirError(404, "not-found", f"Group/{group_id} is not known")
    patients: dict[str, None] = {}
    for member in orjson.loads(record.body).get("member") or []:
        if member.get("inactive") is True:
            continue
        reference = (member.get("entity") or {}).get("reference") or ""
        # relative, or absolute on this server's own base
        if reference.startswith(request.base_url + "/"):
            reference = reference[len(request.base_url) + 1 :]
        match = _PATIENT_REFERENCE.fullmatch(reference)
        if match:
            patients[match.group(1)] = None
    return list(patients)


def export_status(ctx: ServerContext, job_id: str) -> InteractionResult:
    """202 with X-Progress while running, 200 with the manifest, 500 when it failed."""
    status = _jobs(ctx).status(job_id)
    if status.state == IN_PROGRESS:
        where = f" ({status.current_type})" if status.current_type else ""
        progress = f"in progress: {status.processed:,} resources written{where}"
        issue = Issue("information", "informational", progress)
        return InteractionResult(
            202,
            body=orjson.dumps(operation_outcome([issue])),
            headers={"X-Progress": progress, "Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if status.state == COMPLETED:
        return InteractionResult(200, body=status.manifest)
    issue = Issue("error", "exception", f"Export job {job_id} failed: {status.error}")
    return InteractionResult(500, body=orjson.dumps(operation_outcome([issue])))


def export_cancel(ctx: ServerContext, job_id: str) -> InteractionResult:
    _jobs(ctx).cancel(job_id)
    message = f"Export job {job_id} cancelled; its files are removed"
    issue = Issue("information", "informational", message)
    return InteractionResult(202, body=orjson.dumps(operation_outcome([issue])))


def export_file(ctx: ServerContext, job_id: str, name: str) -> Path:
    """The NDJSON file to stream, after strict checks of both path segments."""
    return _jobs(ctx).file(job_id, name)


def _jobs(ctx: ServerContext) -> ExportJobs:
    if ctx.export_jobs is None:
        raise FhirError(503, "not-supported", "Bulk export is not running in this process")
    return ctx.export_jobs


OPERATION = register(
    Operation(
        name="export",
        levels=frozenset({"system", "type", "instance"}),
        types=frozenset({"Patient", "Group"}),
        handler=run_export,
        definition_url="http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export",
        documentation=(
            "Bulk Data export (async): needs Prefer: respond-async; 202 with"
            " Content-Location of a status URL that answers 202 + X-Progress, then the"
            " manifest of NDJSON files (application/fhir+ndjson); DELETE cancels. System,"
            " Patient (every Patient compartment) and Group/{id} (members' compartments)."
        ),
        parameters=(
            OperationParameter(
                "_outputFormat",
                "in",
                0,
                "1",
                "string",
                "application/fhir+ndjson (also application/ndjson, ndjson)",
            ),
            OperationParameter(
                "_since", "in", 0, "1", "instant", "Only resources changed after this instant"
            ),
            OperationParameter("_type", "in", 0, "*", "string", "Comma-separated resource types"),
            OperationParameter(
                "_typeFilter",
                "in",
                0,
                "*",
                "string",
                "A FHIR search per type, e.g. Observation?code=http://loinc.org|4548-4;"
                " several for one type are OR-ed",
            ),
        ),
    )
)
