"""Stable bytes for transaction Bundles: one entry per line, keys in insertion order.

One entry a line keeps diffs of the seed files readable and the files small; orjson
writes floats and non-ASCII text the same way every time, so equal input gives equal
bytes (the reproducibility tests compare files byte for byte).
"""

from __future__ import annotations

from pathlib import Path

import orjson

from fhir_server.generate.fhir import Resource, put

TYPE_ORDER: tuple[str, ...] = (
    "Organization",
    "Location",
    "HealthcareService",
    "Practitioner",
    "PractitionerRole",
    "Schedule",
    "Slot",
    "Patient",
    "AllergyIntolerance",
    "Account",
    "Coverage",
    "Encounter",
    "Condition",
    "ServiceRequest",
    "Specimen",
    "Observation",
    "DiagnosticReport",
    "MedicationRequest",
    "MedicationDispense",
    "Immunization",
    "ChargeItem",
    "Invoice",
    "Claim",
    "ClaimResponse",
    "Appointment",
)
_RANK = {t: i for i, t in enumerate(TYPE_ORDER)}


def ordered(resources: list[Resource]) -> list[Resource]:
    """By type (referenced types first, for readers), then in the order they were built."""
    return sorted(resources, key=lambda r: _RANK[r["resourceType"]])


def transaction_bytes(resources: list[Resource]) -> bytes:
    lines = [orjson.dumps(put(r)) for r in ordered(resources)]
    return (
        b'{"resourceType":"Bundle","type":"transaction","entry":[\n'
        + b",\n".join(lines)
        + b"\n]}\n"
    )


def document_bytes(bundle: Resource) -> bytes:
    return orjson.dumps(bundle, option=orjson.OPT_INDENT_2) + b"\n"


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
