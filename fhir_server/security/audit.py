"""The AuditEvent of one request: who (client, facility, address), what, and the outcome.

Shaped after the FHIR RESTful audit pattern (type `rest`, subtype the interaction),
searchable with the standard AuditEvent parameters: `patient`, `agent`
(`agent:identifier=urn:fhir-server:client|<client_id>`), `altid`, `date`, `outcome`,
`subtype`, `entity`, `address`, `purpose` is in `purposeOfEvent`.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fhir_server.instants import fhir_instant
from fhir_server.security.acting import AuditNotes
from fhir_server.security.facility import FACILITY_TAG_SYSTEM

CLIENT_SYSTEM = "urn:fhir-server:client"
_EVENT_TYPE = {
    "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
    "code": "rest",
    "display": "RESTful Operation",
}
_INTERACTION_SYSTEM = "http://hl7.org/fhir/restful-interaction"
# a token request at /auth/token is audited as a login (DICOM audit event codes)
LOGIN = "login"
_DCM = "http://dicom.nema.org/resources/ontology/DCM"
_LOGIN_TYPE = {"system": _DCM, "code": "110114", "display": "User Authentication"}
_LOGIN_SUBTYPE = {"system": _DCM, "code": "110122", "display": "Login"}
_ACTION = {"create": "C", "update": "U", "patch": "U", "delete": "D"}
# the restful-interaction codes for our interaction names
_SUBTYPE = {
    "search-compartment": "search-type",
    "capabilities": "capabilities",
    "transaction": "transaction",
}


@dataclass
class RequestAudit:
    """What the HTTP gate knows about a request once its status is decided."""

    method: str
    path: str
    query: str
    status: int
    recorded: datetime
    address: str | None
    interaction: str  # from security.access.Needs.interaction
    client_id: str | None = None
    subject: str | None = None
    facility: str | None = None
    issuer: str | None = None
    break_glass: bool = False
    failure: str | None = None  # why the request was refused, when it was
    notes: AuditNotes = field(default_factory=AuditNotes)


def audit_event(request: RequestAudit, with_the_write: bool = False) -> dict[str, Any]:
    """The AuditEvent; `with_the_write`: written inside the request's own write
    transaction, before its status is known, so it commits or rolls back with the change."""
    interaction = request.interaction or "unknown"
    operation = interaction.startswith("operation:")
    subtype = "operation" if operation else _SUBTYPE.get(interaction, interaction)
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "type": _LOGIN_TYPE if interaction == LOGIN else _EVENT_TYPE,
        "subtype": [
            _LOGIN_SUBTYPE
            if interaction == LOGIN
            else {"system": _INTERACTION_SYSTEM, "code": subtype}
        ],
        "action": _action(request.method, interaction),
        "recorded": fhir_instant(request.recorded),
        "outcome": "0" if with_the_write else _outcome(request.status),
        "agent": _agents(request),
        "source": {
            "observer": {"display": "fhir-server"},
            "type": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                    "code": "4",
                    "display": "Application Server",
                }
            ],
        },
    }
    description = f"{request.method} {request.path} -> {request.status}"
    if with_the_write:
        description = f"{request.method} {request.path} -> committed with its change"
    if operation:
        description += f" (${interaction.split(':', 1)[1]})"
    if request.failure:
        description += f": {request.failure}"
    event["outcomeDesc"] = description
    if request.break_glass:
        event["purposeOfEvent"] = [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                        "code": "BTG",
                        "display": "break the glass",
                    }
                ]
            }
        ]
    entities = _entities(request)
    if entities:
        event["entity"] = entities
    return event


def _action(method: str, interaction: str) -> str:
    if interaction in _ACTION:
        return _ACTION[interaction]
    if interaction.startswith("operation:") or interaction == "transaction":
        return "E"
    return {"POST": "C", "PUT": "U", "PATCH": "U", "DELETE": "D"}.get(method, "R")


def _outcome(status: int) -> str:
    if status < 400:
        return "0"  # success
    return "8" if status >= 500 else "4"  # serious failure / minor failure


def _agents(request: RequestAudit) -> list[dict[str, Any]]:
    caller: dict[str, Any] = {
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                    "code": "IRCP",
                    "display": "information recipient",
                }
            ]
        },
        "requestor": True,
    }
    if request.client_id:
        caller["who"] = {"identifier": {"system": CLIENT_SYSTEM, "value": request.client_id}}
    else:
        caller["name"] = "unauthenticated caller"
    if request.subject and request.subject != request.client_id:
        caller["altId"] = request.subject
    if request.issuer:
        caller["policy"] = [request.issuer]
    if request.address:
        caller["network"] = {"address": request.address, "type": "2"}  # 2 = IP address
    agents = [caller]
    if request.facility:
        agents.append(
            {
                "type": {"text": "facility"},
                "who": {"identifier": {"system": FACILITY_TAG_SYSTEM, "value": request.facility}},
                "requestor": False,
            }
        )
    return agents


def _entities(request: RequestAudit) -> list[dict[str, Any]]:
    entities: list[dict[str, Any]] = []
    for patient_id in sorted(request.notes.patients):
        entities.append(
            {
                "what": {"reference": f"Patient/{patient_id}"},
                "type": {
                    "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                    "code": "1",
                },
                "role": {
                    "system": "http://terminology.hl7.org/CodeSystem/object-role",
                    "code": "1",
                },
            }
        )
    for reference in request.notes.entities:
        if not reference.startswith("Patient/") or reference[8:] not in request.notes.patients:
            entities.append({"what": {"reference": reference}})
    if request.query:
        entities.append(
            {
                "type": {
                    "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                    "code": "2",
                },
                "role": {
                    "system": "http://terminology.hl7.org/CodeSystem/object-role",
                    "code": "24",
                },
                "query": base64.b64encode(request.query.encode()).decode(),
            }
        )
    return entities
