"""The sample ABDM document Bundles: valid, self-contained, one of each NRCeS kind."""

from __future__ import annotations

import pytest

from fhir_server.abdm import abha
from fhir_server.generate import documents
from fhir_server.generate.fhir import SNOMED
from fhir_server.validation.resource import ResourceValidator
from tests.seed.support import DOCUMENTS_DIR, invoice_problems, load, references, seed_resources

# Composition.type per kind: SNOMED CT code, or the fixed text where the IG has no code
KINDS = {
    "OPConsultRecord": "371530004",
    "PrescriptionRecord": "440545006",
    "DiagnosticReportRecord": "721981007",
    "DischargeSummaryRecord": "373942005",
    "ImmunizationRecord": "41000179103",
    "HealthDocumentRecord": "419891008",
    "WellnessRecord": "Wellness Record",
    "InvoiceRecord": "Invoice Record",
}


def test_files_are_what_the_generator_writes() -> None:
    on_disk = {p.name: p.read_bytes() for p in DOCUMENTS_DIR.glob("*.json")}
    assert on_disk == documents.document_files()
    assert {name.removesuffix(".json") for name in on_disk} == set(KINDS)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_document(kind: str) -> None:
    bundle = load(DOCUMENTS_DIR / f"{kind}.json")
    validator = ResourceValidator()
    assert validator.issues(bundle) == []
    assert bundle["type"] == "document" and bundle["timestamp"]
    assert bundle["identifier"]["system"] and bundle["identifier"]["value"]
    entries = bundle["entry"]
    full_urls = {e["fullUrl"] for e in entries}
    assert all(u.startswith("urn:uuid:") for u in full_urls) and len(full_urls) == len(entries)
    for entry in entries:
        assert validator.issues(entry["resource"]) == []
        assert entry["fullUrl"] == f"urn:uuid:{entry['resource']['id']}"
        dangling = [r for r in references(entry["resource"]) if r not in full_urls]
        assert dangling == [], f"{entry['resource']['resourceType']} refers outside: {dangling}"
    composition = entries[0]["resource"]
    assert composition["resourceType"] == "Composition"
    assert composition["meta"]["profile"][0].endswith(f"/{kind}")
    expected = KINDS[kind]
    if expected.isdigit():
        assert composition["type"]["coding"][0] == {
            "system": SNOMED,
            "code": expected,
            "display": composition["type"]["coding"][0]["display"],
        }
    else:
        assert composition["type"] == {"text": expected}
    for field in ("subject", "custodian"):
        assert composition[field]["reference"] in full_urls
    assert all(a["reference"] in full_urls for a in composition["author"])
    assert composition["section"] and all(s["entry"] for s in composition["section"])


def test_patients_carry_seed_abhas() -> None:
    seed_abhas = {
        i["value"]
        for r in seed_resources()
        if r["resourceType"] == "Patient"
        for i in r["identifier"]
        if abha.identifier_kind(i) == "number"
    }
    for path in DOCUMENTS_DIR.glob("*.json"):
        patients = [e["resource"] for e in load(path)["entry"]
                    if e["resource"]["resourceType"] == "Patient"]  # fmt: skip
        assert len(patients) == 1
        numbers = [i["value"] for i in patients[0]["identifier"]
                   if abha.identifier_kind(i) == "number"]  # fmt: skip
        assert numbers and numbers[0] in seed_abhas, path.name


def test_invoice_record_adds_up() -> None:
    bundle = load(DOCUMENTS_DIR / "InvoiceRecord.json")
    invoice = next(e["resource"] for e in bundle["entry"]
                   if e["resource"]["resourceType"] == "Invoice")  # fmt: skip
    taxes = {c["code"]["coding"][0]["code"] for li in invoice["lineItem"]
             for c in li["priceComponent"]}  # fmt: skip
    assert {"00", "01", "03", "04"} <= taxes
    assert invoice_problems(invoice) == []
