"""Facility boundaries: every write is stamped with the facility that made it, and a
facility reads another facility's records of a patient only with that patient's consent
or by audited emergency access.

The boundary guards records about patients (resources in some Patient's compartment);
directory and definitional resources a facility writes (Organization, Schedule, Slot,
ValueSet, ViewDefinition) stay readable by all, under the scopes.

The stamp is a `meta.tag` in the HFR system (`https://facility.ndhm.gov.in|<HFR id>`),
so it is searchable (`_tag`) and travels with the resource in exports. Records without a
stamp (the shared directory of facilities and practitioners, data loaded by the
operator) are not bound to a facility. A token without a facility (a network-level
client such as the HIMS core or an analytics job) is not bound either: its scopes alone
decide what it reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import orjson

from fhir_server.abdm.registries import HFR_SYSTEM
from fhir_server.errors import FhirError, Issue
from fhir_server.security.acting import Access, current
from fhir_server.security.patient_context import check_patient_write
from fhir_server.security.principal import Principal
from fhir_server.storage.records import StoredRecord

FACILITY_TAG_SYSTEM = HFR_SYSTEM


def recorded_by(resource: dict[str, Any]) -> str | None:
    for tag in (resource.get("meta") or {}).get("tag") or ():
        if isinstance(tag, dict) and tag.get("system") == FACILITY_TAG_SYSTEM:
            code = tag.get("code")
            return code if isinstance(code, str) else None
    return None


Compartments = Callable[[dict[str, Any]], list[str]]


def stamp_write(
    served: dict[str, Any], current_body: bytes | None, compartments: Compartments
) -> dict[str, Any]:
    """Stamp a new resource with the writing facility; an update keeps its record's stamp.

    A facility may not change another facility's record about a patient (403). Records
    not about a patient (a Slot booked from another facility, an Organization) may be
    updated under the scopes, and keep the facility that created them.
    """
    access = current()
    facility = access.principal.facility if access is not None else None
    if facility is None:
        # no caller (auth off, a job) or a network-level client (it may load records on
        # behalf of facilities): tags stay as written
        return served
    previous = orjson.loads(current_body) if current_body else None
    if previous is not None:
        check_owner(previous, facility, compartments)
        stamp = recorded_by(previous)
    else:
        stamp = facility
    meta = dict(served.get("meta") or {})
    tags = [
        t
        for t in meta.get("tag") or ()
        if not (isinstance(t, dict) and t.get("system") == FACILITY_TAG_SYSTEM)
    ]
    if stamp is not None:
        tags.append({"system": FACILITY_TAG_SYSTEM, "code": stamp})
    if tags:
        meta["tag"] = tags
    else:
        meta.pop("tag", None)
    return {**served, "meta": meta}


def check_delete(type_: str, current_body: bytes, compartments: Compartments) -> None:
    """May the caller delete this record: not another facility's record about a patient,
    and (patient/ scopes) nothing outside its patient's compartment. No caller: no check,
    and the body is not even parsed."""
    access = current()
    if access is None or not current_body:
        return
    resource = orjson.loads(current_body)
    check_owner(resource, access.principal.facility, compartments)
    if access.principal.patient is not None:
        check_patient_write(type_, compartments(resource), "d")


def check_owner(resource: dict[str, Any], facility: str | None, compartments: Compartments) -> None:
    owner = recorded_by(resource)
    if facility is None or owner is None or owner == facility:
        return
    if compartments(resource):
        raise FhirError(
            403,
            "forbidden",
            f"{resource.get('resourceType')}/{resource.get('id')} was recorded by facility"
            f" {owner}; facility {facility} may not change or delete it",
        )


OTHER_FACILITY = (
    "recorded by other facilities: no active consent of the patient covers this facility"
    " (emergency access: header X-Purpose-Of-Use: BTG, for tokens with that right; it is"
    " audited)"
)
OUTSIDE_PATIENT = "outside the compartment of the access token's patient (patient/ scopes)"
OUTSIDE_SCOPE_QUERY = "outside what the access token's query-restricted scopes grant"


def _patient_only(principal: Principal, type_: str) -> bool:
    """No system/ or user/ scope lets this token read or search `type_` at large."""
    return not principal.scopes.allows(type_, "r") and not principal.scopes.allows(type_, "s")


class Visibility:
    """Decides, for the current request, which stored records it may see.

    `consented` finds the Patient ids whose active consents name a facility; it is
    supplied by the caller because finding consents needs the store and the search
    layer, which this module does not know.
    """

    def __init__(
        self, access: Access | None, compartments: Any, consented: Any, matches: Any = None
    ) -> None:
        self.access = access
        self._compartments = compartments  # resource dict -> Patient ids
        self._consented = consented  # facility -> frozenset of Patient ids
        self._matches = matches  # (record, scope queries) -> bool

    @property
    def bound(self) -> bool:
        return self.access is not None and self.access.principal.facility is not None

    def may_see(self, record: StoredRecord) -> bool:
        return self._refusal(record) is None

    def _refusal(self, record: StoredRecord) -> str | None:
        """Why the current request may not see this record, or None when it may."""
        access = self.access
        if access is None or record.deleted or not record.body:
            return None
        principal = access.principal
        queries = principal.restriction(record.type, "r")
        # only a query-restricted grant is checked here; no grant at all is the scopes'
        # business (the gate, or the include filter that says what it left out)
        if queries and not (self._matches and self._matches(record, queries)):
            return OUTSIDE_SCOPE_QUERY
        one_patient = principal.patient is not None and _patient_only(principal, record.type)
        if not (self.bound or one_patient):
            if not access.notes.full:
                patients = self._compartments(orjson.loads(record.body))
                access.notes.touched(record.type, record.id, patients)
            return None
        resource = orjson.loads(record.body)
        patients = self._compartments(resource)
        access.notes.touched(record.type, record.id, patients)
        if one_patient and principal.patient not in patients:
            return OUTSIDE_PATIENT
        facility = principal.facility
        owner = recorded_by(resource)
        if facility is None or owner is None or owner == facility or not patients:
            # unbound, unstamped, our own, or not about a patient (a Slot, an
            # Organization, a ViewDefinition): the boundary guards patients' records only
            return None
        if access.break_glass:
            return None  # allowed to this token, and its audit record says BTG
        if facility not in access.consented:
            access.consented[facility] = self._consented(facility)
        if set(patients) & access.consented[facility]:
            return None
        return OTHER_FACILITY

    def filter(self, records: Iterable[StoredRecord], issues: list[Issue]) -> list[StoredRecord]:
        kept: list[StoredRecord] = []
        withheld: dict[str, int] = {}
        for record in records:
            reason = self._refusal(record)
            if reason is None:
                kept.append(record)
            else:
                withheld[reason] = withheld.get(reason, 0) + 1
        for reason, count in withheld.items():
            assert self.access is not None
            self.access.notes.withheld += count
            issues.append(
                Issue("information", "suppressed", f"Withheld {count} resource(s) {reason}")
            )
        return kept

    def require(self, record: StoredRecord) -> None:
        reason = self._refusal(record)
        if reason is not None:
            raise FhirError(403, "forbidden", f"{record.type}/{record.id} is withheld: {reason}")
