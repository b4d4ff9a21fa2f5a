"""Bundle/$ingest-document: take in an ABDM health document (OPConsultRecord, ...).

The document Bundle is stored as sent (a `Bundle` resource, searchable by identifier,
composition, timestamp, type), and its entries are stored as individual resources in the
same transaction, so they join the longitudinal record and search. Patients,
Practitioners and Organizations that already exist (same first identifier: ABHA, HPR id,
HFR id) are reused rather than duplicated. A Provenance names the stored document as the
source of every resource taken from it. Posting the same document again (same
Bundle.identifier) changes nothing and answers 200.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from fhir_server.errors import FhirError, Issue, operation_outcome
from fhir_server.instants import fhir_instant, now_utc
from fhir_server.operations.registry import Operation, OperationParameter, register
from fhir_server.rest.bundle_post import process_bundle
from fhir_server.rest.conditional import find_matches
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.create import create_in
from fhir_server.rest.results import InteractionResult
from fhir_server.rest.versioning import new_id

# resources shared across documents: matched by their first identifier, not duplicated
SHARED_TYPES = ("Patient", "Practitioner", "Organization", "Location")
PROVENANCE_ACTIVITY = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/v3-DataOperation",
            "code": "CREATE",
        }
    ]
}


def run_ingest_document(
    ctx: ServerContext,
    request: RequestInfo,
    type_: str | None,
    id_: str | None,
    params: Sequence[tuple[str, str]],
    body: Any,
) -> InteractionResult:
    document = _document(body)
    identifier = document["identifier"]
    criteria = f"identifier={identifier['system']}|{identifier['value']}"
    ctx.validator.validate(document)
    with ctx.store.session(write=True) as session:
        # one writer per document identifier: a concurrent re-post waits, then sees it
        session.lock(f"document:{criteria}")
        existing = find_matches(ctx, session, "Bundle", criteria)
        if existing:
            record = session.read(*existing[0])
            note = Issue(
                "information",
                "duplicate",
                f"Document {identifier['value']} was already ingested as Bundle/{existing[0][1]}",
            )
            outcome = orjson.dumps(operation_outcome([note]))
            return InteractionResult(200, record=record, body=outcome, location=True)
        stored = create_in(ctx, session, "Bundle", document)
        assert stored.record is not None
        transaction = _unpacked(document, stored.record.id)
        result = process_bundle(ctx, request, transaction, "minimal")
    # the transaction-response lists every resource taken from the document
    return InteractionResult(201, record=stored.record, body=result.body, location=True)


def _document(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise FhirError(400, "invalid", "$ingest-document takes a Bundle of type document")
    if body.get("type") != "document":
        raise FhirError(
            400,
            "invalid",
            f"Bundle.type must be document, got {body.get('type')!r}",
            ["Bundle.type"],
        )
    identifier = body.get("identifier")
    if (
        not isinstance(identifier, dict)
        or not identifier.get("system")
        or not identifier.get("value")
    ):
        raise FhirError(
            422,
            "required",
            "A document needs Bundle.identifier with system and value (it makes re-posting safe)",
            ["Bundle.identifier"],
        )
    entries = body.get("entry") or []
    first = entries[0].get("resource", {}) if entries and isinstance(entries[0], dict) else {}
    if first.get("resourceType") != "Composition":
        raise FhirError(
            422,
            "invalid",
            "The first entry of a document must be its Composition",
            ["Bundle.entry[0]"],
        )
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            raise FhirError(
                400, "required", "Every entry needs a resource", [f"Bundle.entry[{index}]"]
            )
    return body


def _unpacked(document: dict[str, Any], bundle_id: str) -> dict[str, Any]:
    entries = []
    targets = []
    for entry in document["entry"]:
        resource = {k: v for k, v in entry["resource"].items() if k not in ("id", "meta")}
        full_url = entry.get("fullUrl") or f"urn:uuid:{new_id()}"
        request: dict[str, Any] = {"method": "POST", "url": resource["resourceType"]}
        match = _shared_identity(resource)
        if match is not None:
            request["ifNoneExist"] = match
        entries.append({"fullUrl": full_url, "resource": resource, "request": request})
        targets.append({"reference": full_url})
    composition = document["entry"][0]["resource"]
    who = composition.get("custodian") or (composition.get("author") or [None])[0]
    agent = {"who": who} if isinstance(who, dict) else {"who": {"display": "document author"}}
    provenance = {
        "resourceType": "Provenance",
        "target": targets,
        "recorded": fhir_instant(now_utc()),
        "activity": PROVENANCE_ACTIVITY,
        "agent": [agent],
        "entity": [{"role": "source", "what": {"reference": f"Bundle/{bundle_id}"}}],
    }
    entries.append({"resource": provenance, "request": {"method": "POST", "url": "Provenance"}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def _shared_identity(resource: dict[str, Any]) -> str | None:
    if resource.get("resourceType") not in SHARED_TYPES:
        return None
    for identifier in resource.get("identifier") or []:
        if isinstance(identifier, dict) and identifier.get("system") and identifier.get("value"):
            return f"identifier={identifier['system']}|{identifier['value']}"
    return None


OPERATION = register(
    Operation(
        name="ingest-document",
        levels=frozenset({"type"}),
        types=frozenset({"Bundle"}),
        handler=run_ingest_document,
        definition_url="urn:fhir-server:OperationDefinition/Bundle-ingest-document",
        affects_state=True,
        documentation=(
            "Store an ABDM document Bundle and its entries as individual resources (shared"
            " Patients/Practitioners/Organizations matched by identifier) with a Provenance;"
            " idempotent on Bundle.identifier"
        ),
        parameters=(
            OperationParameter(
                "resource",
                "in",
                1,
                "1",
                "Bundle",
                "The document Bundle (type document, Composition first, identifier set)",
            ),
            OperationParameter(
                "return",
                "out",
                1,
                "1",
                "Bundle",
                "transaction-response for the resources taken from the document",
            ),
        ),
    )
)
