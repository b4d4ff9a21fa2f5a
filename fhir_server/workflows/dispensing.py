"""Dispensing at a Jan Aushadhi Kendra may not exceed what was prescribed.

The allowance of a MedicationRequest is dispenseRequest.quantity times
(1 + numberOfRepeatsAllowed); every non-cancelled MedicationDispense that names it in
authorizingPrescription counts against it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson

from fhir_server.errors import FhirError
from fhir_server.storage.base import StoreSession
from fhir_server.storage.query import Reference
from fhir_server.storage.records import StoredRecord
from fhir_server.workflows.rules import write_rule

if TYPE_CHECKING:
    from fhir_server.rest.context import ServerContext

NOT_COUNTED = frozenset({"cancelled", "entered-in-error", "declined", "stopped"})


def _quantity(value: Any) -> tuple[Decimal, str | None] | None:
    if not isinstance(value, dict) or not isinstance(value.get("value"), int | float):
        return None
    return Decimal(str(value["value"])), value.get("code") or value.get("unit")


@write_rule("MedicationDispense")
def dispense_within_prescription(
    ctx: ServerContext,
    session: StoreSession,
    resource: dict[str, Any],
    current: StoredRecord | None,
) -> None:
    this = _quantity(resource.get("quantity"))
    if this is None or resource.get("status") in NOT_COUNTED:
        return
    for prescription in resource.get("authorizingPrescription") or []:
        reference = prescription.get("reference", "") if isinstance(prescription, dict) else ""
        if not reference.startswith("MedicationRequest/"):
            continue
        request_id = reference.split("/")[1]
        record = session.read("MedicationRequest", request_id)
        if record is None or record.deleted:
            continue  # referential integrity reports it
        request = orjson.loads(record.body)
        dispense_request = request.get("dispenseRequest") or {}
        allowed = _quantity(dispense_request.get("quantity"))
        if allowed is None:
            continue
        if allowed[1] and this[1] and allowed[1] != this[1]:
            raise FhirError(
                422,
                "business-rule",
                f"Dispensed unit {this[1]!r} differs from the prescribed unit {allowed[1]!r}",
                ["MedicationDispense.quantity"],
            )
        repeats = dispense_request.get("numberOfRepeatsAllowed") or 0
        allowance = allowed[0] * (1 + int(repeats))
        already = _already_dispensed(session, request_id, resource.get("id"))
        if already + this[0] > allowance:
            raise FhirError(
                422,
                "business-rule",
                f"Dispensing {this[0]} would exceed MedicationRequest/{request_id}: prescribed"
                f" {allowance}, already dispensed {already}",
                ["MedicationDispense.quantity"],
            )


def _already_dispensed(session: StoreSession, request_id: str, own_id: str | None) -> Decimal:
    keys = session.match_keys(
        ("MedicationDispense",), Reference("prescription", (("MedicationRequest", request_id),))
    )
    total = Decimal(0)
    for (_, id_), record in session.read_many(keys).items():
        if id_ == own_id:
            continue
        dispense = orjson.loads(record.body)
        quantity = _quantity(dispense.get("quantity"))
        if quantity is not None and dispense.get("status") not in NOT_COUNTED:
            total += quantity[0]
    return total
