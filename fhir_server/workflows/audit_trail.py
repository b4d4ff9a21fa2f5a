"""The audit trail is append-only: an AuditEvent, once written, is never changed or removed.

Clients may add AuditEvents of their own (a facility system reporting what it did), but
no one, through any path of the API (update, patch, delete, Bundles), rewrites history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fhir_server.errors import FhirError
from fhir_server.storage.base import StoreSession
from fhir_server.storage.records import StoredRecord
from fhir_server.workflows.rules import delete_rule, write_rule

if TYPE_CHECKING:
    from fhir_server.rest.context import ServerContext


@write_rule("AuditEvent")
def audit_events_are_not_updated(
    ctx: ServerContext,
    session: StoreSession,
    resource: dict[str, Any],
    current: StoredRecord | None,
) -> None:
    if current is not None:
        raise FhirError(
            405,
            "not-supported",
            f"AuditEvent/{current.id} cannot be changed: the trail is append-only",
        )


@delete_rule("AuditEvent")
def audit_events_are_not_deleted(
    ctx: ServerContext, session: StoreSession, current: StoredRecord
) -> None:
    raise FhirError(
        405, "not-supported", f"AuditEvent/{current.id} cannot be deleted: the trail is append-only"
    )
