"""Appointment/$book: book a Slot for a patient in one call.

Builds the Appointment a client would otherwise assemble from the Slot and its Schedule
(start, end, service type, the Schedule's actors as participants) and creates it through
the ordinary create path, so the booking rule answers exactly as for
`POST /Appointment`: 201 with the Appointment, 409 when the Slot is taken, 422 when the
Slot or Patient does not exist.

    POST [base]/Appointment/$book
    {"resourceType": "Parameters", "parameter": [
      {"name": "slot", "valueReference": {"reference": "Slot/slot-aam-dwarka-mo-20261201-0900"}},
      {"name": "patient", "valueReference": {"reference": "Patient/pat-aam-asha"}}]}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from fhir_server.errors import FhirError
from fhir_server.operations.registry import Operation, register
from fhir_server.rest.context import RequestInfo, ServerContext
from fhir_server.rest.create import create_in
from fhir_server.rest.results import InteractionResult
from fhir_server.storage.base import StoreSession

# parameter -> the resource type a plain id means
REFERENCE_PARAMS = {"slot": "Slot", "patient": "Patient", "basedOn": "ServiceRequest"}


def run_book(
    ctx: ServerContext,
    request: RequestInfo,
    type_: str | None,
    id_: str | None,
    params: Sequence[tuple[str, str]],
    body: Any,
) -> InteractionResult:
    args = _arguments(body)
    with ctx.store.session(write=True) as session:
        appointment = _appointment(session, args)
        ctx.validator.validate(appointment)
        # the same write as POST /Appointment: the Slot rule takes the Slot or refuses
        return create_in(ctx, session, "Appointment", appointment)


def _arguments(body: Any) -> dict[str, str]:
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise FhirError(400, "invalid", "POST a Parameters resource with slot and patient to $book")
    args: dict[str, str] = {}
    for parameter in body.get("parameter") or []:
        name = parameter.get("name")
        if name in REFERENCE_PARAMS:
            args[name] = _reference(name, parameter)
        elif name == "comment" and isinstance(parameter.get("valueString"), str):
            args[name] = parameter["valueString"]
        else:
            raise FhirError(400, "not-supported", f"$book has no parameter {name!r}", [name])
    missing = [name for name in ("slot", "patient") if name not in args]
    if missing:
        raise FhirError(400, "required", f"$book needs {' and '.join(missing)}", missing)
    return args


def _reference(name: str, parameter: dict[str, Any]) -> str:
    """A `Type/id` reference from valueReference, or from a bare id (valueId/valueString)."""
    type_ = REFERENCE_PARAMS[name]
    reference = (parameter.get("valueReference") or {}).get("reference")
    if isinstance(reference, str) and reference.startswith(f"{type_}/"):
        return reference
    plain = parameter.get("valueId") or parameter.get("valueString")
    if isinstance(plain, str) and plain and "/" not in plain:
        return f"{type_}/{plain}"
    raise FhirError(
        400, "invalid", f"$book {name} must reference a {type_} (or give its id)", [name]
    )


def _appointment(session: StoreSession, args: dict[str, str]) -> dict[str, Any]:
    participants = [{"actor": {"reference": args["patient"]}, "status": "accepted"}]
    appointment: dict[str, Any] = {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": args["slot"]}],
    }
    slot = _current(session, args["slot"])
    # an unknown Slot is left to the booking rule, which refuses it like any create
    if slot is not None:
        for field in ("start", "end"):
            if field in slot:
                appointment[field] = slot[field]
        schedule = _current(session, (slot.get("schedule") or {}).get("reference", ""))
        if schedule is not None:
            if schedule.get("serviceType"):
                appointment["serviceType"] = schedule["serviceType"]
            participants += [
                {"actor": actor, "status": "accepted"} for actor in schedule.get("actor") or []
            ]
    appointment["participant"] = participants
    if "basedOn" in args:
        appointment["basedOn"] = [{"reference": args["basedOn"]}]
    if "comment" in args:
        appointment["comment"] = args["comment"]
    return appointment


def _current(session: StoreSession, reference: str) -> dict[str, Any] | None:
    type_, _, id_ = reference.partition("/")
    if not id_:
        return None
    record = session.read(type_, id_)
    return None if record is None or record.deleted else orjson.loads(record.body)


OPERATION = register(
    Operation(
        name="book",
        levels=frozenset({"type"}),
        types=frozenset({"Appointment"}),
        handler=run_book,
        definition_url="urn:fhir-server:OperationDefinition/Appointment-book",
        affects_state=True,
        documentation=(
            "Book a Slot for a patient (Parameters: slot, patient, optional basedOn"
            " ServiceRequest and comment): creates a booked Appointment with the Slot's"
            " times and its Schedule's actors, through the ordinary create path (409 when"
            " the Slot is taken)."
        ),
    )
)
