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


def _quantity(value: Any) -> Decimal | None:
    if not isinstance(value, dict) or not isinstance(value.get("value"), int | float):
        return None
    return Decimal(str(value["value"]))


def _unit_mismatch(prescribed: dict[str, Any], dispensed: dict[str, Any]) -> str | None:
    """How the units differ, or None when they agree or one side does not say.

    Coded units (system + code, e.g. UCUM) are compared when both sides carry one;
    otherwise the unit texts. A prescription coded `{tbl}` / "tablet" and a dispense
    written only as "tablet" agree: comparing a code with a text would refuse it.
    """
    if prescribed.get("code") and dispensed.get("code"):
        mine = (prescribed.get("system"), prescribed["code"])
        theirs = (dispensed.get("system"), dispensed["code"])
        return None if mine == theirs else f"{theirs[1]!r} differs from the prescribed {mine[1]!r}"
    unit, other = prescribed.get("unit"), dispensed.get("unit")
    if unit and other and unit.strip().lower() != other.strip().lower():
        return f"{other!r} differs from the prescribed unit {unit!r}"
    return None


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
        mismatch = _unit_mismatch(dispense_request["quantity"], resource["quantity"])
        if mismatch is not None:
            raise FhirError(
                422,
                "business-rule",
                f"Dispensed unit {mismatch} (MedicationRequest/{request_id})",
                ["MedicationDispense.quantity"],
            )
        repeats = dispense_request.get("numberOfRepeatsAllowed") or 0
        allowance = allowed * (1 + int(repeats))
        already = _already_dispensed(session, request_id, resource.get("id"))
        if already + this > allowance:
            raise FhirError(
                422,
                "business-rule",
                f"Dispensing {this} would exceed MedicationRequest/{request_id}: prescribed"
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
            total += quantity
    return total
