"""Booking a Slot: an Appointment that takes a Slot makes it busy in the same transaction.

A second Appointment for a Slot that is no longer free is refused with 409; cancelling
(or marking no-show / entered-in-error) frees the Slot again. Because the Slot is written
with its version checked, two concurrent bookings cannot both succeed: one waits for the
other's write lock (SQLite) or loses the version check (MongoDB) and gets the 409.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from fhir_server.errors import FhirError
from fhir_server.storage.base import StoreSession
from fhir_server.storage.query import And, Or, Reference, Token
from fhir_server.storage.records import StoredRecord
from fhir_server.workflows.rules import delete_rule, write_rule

if TYPE_CHECKING:
    from fhir_server.rest.context import ServerContext

# statuses in which an Appointment occupies its Slots
HOLDING = frozenset({"pending", "booked", "arrived", "fulfilled", "checked-in"})


def _held_slots(appointment: dict[str, Any]) -> list[str]:
    if appointment.get("status") not in HOLDING:
        return []
    ids = []
    for slot in appointment.get("slot") or []:
        reference = slot.get("reference", "") if isinstance(slot, dict) else ""
        if reference.startswith("Slot/"):
            ids.append(reference.split("/")[1])
    return ids


def _holders(session: StoreSession, slot_id: str) -> list[tuple[str, str]]:
    """Appointments that occupy the Slot (a busy Slot with none was marked busy by hand)."""
    occupying = Or(tuple(Token("status", status) for status in sorted(HOLDING)))
    on_slot = Reference("slot", (("Slot", slot_id),))
    return session.match_keys(("Appointment",), And((on_slot, occupying)))


@write_rule("Appointment")
def slot_is_booked_with_the_appointment(
    ctx: ServerContext,
    session: StoreSession,
    resource: dict[str, Any],
    current: StoredRecord | None,
) -> None:
    from fhir_server.rest.versioning import write_version  # the write path calls us

    before = set()
    if current is not None and not current.deleted:
        before = set(_held_slots(orjson.loads(current.body)))
    after = _held_slots(resource)
    for slot_id in after:
        if slot_id in before:
            continue
        # concurrent bookings of one Slot serialise here (a write conflict on MongoDB)
        session.lock(f"slot:{slot_id}")
        slot = session.read("Slot", slot_id)
        if slot is None or slot.deleted:
            raise FhirError(
                422, "not-found", f"Slot/{slot_id} does not exist", ["Appointment.slot"]
            )
        holders = [key for key in _holders(session, slot_id) if key[1] != resource.get("id")]
        body = orjson.loads(slot.body)
        status = body.get("status")
        if holders or status not in ("free", "busy"):
            raise FhirError(
                409,
                "conflict",
                f"Slot/{slot_id} is not free (status {status!r}): it is already booked",
                ["Appointment.slot"],
            )
        if status == "free":
            write_version(ctx, session, {**body, "status": "busy"}, slot_id, slot, "PUT")
    _free(ctx, session, before - set(after))


@delete_rule("Appointment")
def deleting_an_appointment_frees_its_slots(
    ctx: ServerContext, session: StoreSession, current: StoredRecord
) -> None:
    _free(ctx, session, set(_held_slots(orjson.loads(current.body))))


def _free(ctx: ServerContext, session: StoreSession, slot_ids: set[str]) -> None:
    from fhir_server.rest.versioning import write_version  # the write path calls us

    for slot_id in sorted(slot_ids):
        slot = session.read("Slot", slot_id)
        if slot is None or slot.deleted:
            continue
        body = orjson.loads(slot.body)
        if body.get("status") == "busy":
            write_version(ctx, session, {**body, "status": "free"}, slot_id, slot, "PUT")
