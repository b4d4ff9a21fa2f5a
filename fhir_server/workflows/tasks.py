"""Task status changes follow the FHIR Task state machine (no completed before accepted).

Used for ambulance bookings and lab work: requested -> accepted -> in-progress ->
completed. A new Task may start in any status (it may record work already done).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from fhir_server.errors import FhirError
from fhir_server.storage.base import StoreSession
from fhir_server.storage.records import StoredRecord
from fhir_server.workflows.rules import write_rule

if TYPE_CHECKING:
    from fhir_server.rest.context import ServerContext

_ERROR = "entered-in-error"
NEXT_STATUS: dict[str, frozenset[str]] = {
    "draft": frozenset({"requested", "cancelled", _ERROR}),
    "requested": frozenset({"received", "accepted", "rejected", "cancelled", _ERROR}),
    "received": frozenset({"accepted", "rejected", "cancelled", _ERROR}),
    "accepted": frozenset({"ready", "in-progress", "cancelled", _ERROR}),
    "ready": frozenset({"in-progress", "cancelled", _ERROR}),
    "in-progress": frozenset({"on-hold", "completed", "failed", "cancelled", _ERROR}),
    "on-hold": frozenset({"in-progress", "failed", "cancelled", _ERROR}),
    "completed": frozenset({_ERROR}),
    "failed": frozenset({_ERROR}),
    "cancelled": frozenset({_ERROR}),
    "rejected": frozenset({_ERROR}),
    _ERROR: frozenset(),
}


@write_rule("Task")
def status_transition_is_allowed(
    ctx: ServerContext,
    session: StoreSession,
    resource: dict[str, Any],
    current: StoredRecord | None,
) -> None:
    if current is None or current.deleted:
        return
    before = orjson.loads(current.body).get("status")
    after = resource.get("status")
    if before == after or before not in NEXT_STATUS:
        return
    if after not in NEXT_STATUS[before]:
        allowed = ", ".join(sorted(NEXT_STATUS[before])) or "none"
        raise FhirError(
            422,
            "business-rule",
            f"Task status cannot change from {before!r} to {after!r} (allowed next: {allowed})",
            ["Task.status"],
        )
