"""batch and transaction: POST [base] with a Bundle.

Checks the Bundle and the caller's scopes for every entry, then hands the entries to
`transaction` (all or nothing) or `batch` (each on its own), and frames the response
Bundle. Big Bundles run one at a time per process (see `_BIG_BUNDLES`).
"""

from __future__ import annotations

import threading
from contextlib import nullcontext
from typing import Any
from urllib.parse import parse_qsl

from fhir_server.errors import FhirError, Issue, operation_outcome
from fhir_server.instants import fhir_instant
from fhir_server.rest.batch import run_batch
from fhir_server.rest.bundle_entries import EntryPlan, entry_error, plan_entries
from fhir_server.rest.bundles import bundle, entry, etag
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.results import InteractionResult
from fhir_server.rest.retry import retry_conflicts
from fhir_server.rest.transaction import TransactionProcessor
from fhir_server.security.access import ALL_TYPES, Needs, request_needs
from fhir_server.security.acting import current_principal
from fhir_server.security.principal import ScopeDenied
from fhir_server.security.scopes import PERMISSIONS
from fhir_server.validation.json_body import parse_json_body

_REASONS = {
    200: "OK",
    201: "Created",
    204: "No Content",
    304: "Not Modified",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    412: "Precondition Failed",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
}


# Big Bundles run one at a time in a server process. Their work is Python, so two in one
# process share one core (the GIL) and each takes twice as long; worse, one of them may
# hold the store's writer lock while waiting for the GIL, and every other process waits
# with it. Other processes still load their own Bundles side by side. Measured with two
# workers and four clients: ≈ 5 % more resources/s (benchmarks/ingest.py).
BIG_BUNDLE_ENTRIES = 100
_BIG_BUNDLES = threading.RLock()  # re-entrant: an operation may run a Bundle inside one


def process_bundle(
    ctx: ServerContext, request: RequestInfo, body: Any, return_pref: str = "minimal"
) -> InteractionResult:
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise FhirError(
            400, "invalid", "POST to the base takes a Bundle of type batch or transaction"
        )
    kind = body.get("type")
    if kind not in ("batch", "transaction"):
        raise FhirError(
            400,
            "invalid",
            f"Bundle.type must be batch or transaction here, got {kind!r}"
            " (store other Bundles with POST /fhir/Bundle)",
            ["Bundle.type"],
        )
    plans = plan_entries(body, request.base_url)
    denied = _scope_denials(plans)
    with _BIG_BUNDLES if len(plans) >= BIG_BUNDLE_ENTRIES else nullcontext():
        if kind == "transaction":
            if denied:  # every entry is checked before anything is written
                index = min(denied)
                raise entry_error(index, denied[index])
            responses = TransactionProcessor(ctx, request).run(plans)
        else:
            responses = run_batch(ctx, request, plans, denied)
    entries = [response_entry(request, plan, result, return_pref) for plan, result in responses]
    return InteractionResult(200, body=bundle(f"{kind}-response", entries))


@retry_conflicts
def process_bundle_json(
    ctx: ServerContext,
    request: RequestInfo,
    raw: bytes,
    max_depth: int,
    return_pref: str = "minimal",
) -> InteractionResult:
    """`process_bundle` on the client's bytes, parsed afresh on every try.

    MongoDB aborts the later of two conflicting transactions; the Bundle then runs again.
    A transaction rewrites its entries in place (ids, references), so a retry must start
    from the client's JSON, not from the first try's leftovers.
    """
    return process_bundle(ctx, request, parse_json_body(raw, max_depth), return_pref)


def _scope_denials(plans: list[EntryPlan]) -> dict[int, FhirError]:
    """Entries the caller's scopes do not allow, each with its 403."""
    principal = current_principal()
    if principal is None:
        return {}
    denied: dict[int, FhirError] = {}
    for plan in plans:
        path = plan.url.partition("?")[0]
        parts = [p for p in path.split("/") if p]
        needs = request_needs(plan.method, parts, parse_qsl(plan.query))
        if needs.checked_inside:  # an operation inside a Bundle: it needs every right
            needs = Needs(tuple((ALL_TYPES, p) for p in PERMISSIONS), interaction="operation")
        for type_, permission in needs.grants:
            if not principal.allows(type_, permission):
                denied[plan.index] = ScopeDenied(type_, permission, needs.interaction)
                break
    return denied


def response_entry(
    request: RequestInfo, plan: EntryPlan, result: InteractionResult, return_pref: str
) -> bytes:
    status = f"{result.status} {_REASONS.get(result.status, '')}".strip()
    response: dict[str, Any] = {"status": status}
    record = result.record
    full_url = None
    resource: bytes | None = None
    if record is not None:
        full_url = f"{request.base_url}/{record.type}/{record.id}"
        response["etag"] = etag(record)
        response["lastModified"] = fhir_instant(record.last_updated)
        if plan.method in ("POST", "PUT", "PATCH") and not record.deleted:
            response["location"] = f"{record.type}/{record.id}/_history/{record.version}"
        if not record.deleted and (
            plan.method in ("GET", "HEAD") or return_pref == "representation"
        ):
            resource = record.body
    elif result.body is not None:
        resource = result.body  # a searchset / history Bundle for a GET entry
    if result.status >= 400:
        response["outcome"] = operation_outcome(result.issues)
    elif return_pref == "OperationOutcome" or (
        result.issues and record is None and resource is None
    ):
        issues = result.issues or [Issue("information", "informational", status)]
        response["outcome"] = operation_outcome(issues)
    if plan.method == "HEAD":
        resource = None
    return entry(full_url, resource, response=response)
