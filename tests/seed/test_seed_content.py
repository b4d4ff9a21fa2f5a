"""The seed network: valid, complete, self-consistent, and what the generator writes."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from fhir_server.abdm import abha
from fhir_server.abdm.identifier_rules import check_identifiers
from fhir_server.generate import network
from fhir_server.generate.fhir import HFR, HPR, LGD
from fhir_server.validation.resource import ResourceValidator
from tests.seed.support import SEED_DIR, invoice_problems, load, references, seed_resources

RESOURCES = seed_resources()
BY_KEY = {f"{r['resourceType']}/{r['id']}": r for r in RESOURCES}


def of_type(type_: str) -> list[dict]:
    return [r for r in RESOURCES if r["resourceType"] == type_]


def test_committed_seed_files_are_what_the_generator_writes() -> None:
    # edit fhir_server/generate/* and run `python -m fhir_server.generate`, not the JSON
    written = network.seed_files()
    on_disk = {p.name: p.read_bytes() for p in SEED_DIR.glob("*.json")}
    assert on_disk.keys() == written.keys()
    for name, data in written.items():
        assert on_disk[name] == data, f"{name} differs from the generator's output"


def test_every_seed_resource_is_valid_and_unique() -> None:
    validator = ResourceValidator()
    problems = {key: validator.issues(r) for key, r in BY_KEY.items()}
    assert {k: v for k, v in problems.items() if v} == {}
    assert len(BY_KEY) == len(RESOURCES), "duplicate ids"
    for resource in RESOURCES:
        check_identifiers(resource)  # ABHA numbers and addresses are well-formed


def test_files_are_put_transactions_referring_only_backwards() -> None:
    seen: set[str] = set()
    for path in sorted(SEED_DIR.glob("*.json")):
        bundle = load(path)
        assert bundle["type"] == "transaction"
        keys = set()
        for entry in bundle["entry"]:
            r = entry["resource"]
            url = f"{r['resourceType']}/{r['id']}"
            assert entry["request"] == {"method": "PUT", "url": url}
            keys.add(url)
        seen |= keys
        for entry in bundle["entry"]:
            missing = [ref for ref in references(entry["resource"]) if ref not in seen]
            assert not missing, f"{path.name}: {entry['fullUrl']} refers to {missing}"


def test_facilities_of_the_issue_are_there() -> None:
    orgs = of_type("Organization")
    aams = [o for o in orgs if o["id"].startswith("org-aam-")]
    jaks = [o for o in orgs if o["id"].startswith("org-jak-")]
    hospitals = [o for o in orgs if any(
        c.get("code") == "22232009" for t in o["type"] for c in t["coding"])]  # fmt: skip
    assert len(aams) == 34
    assert len(jaks) == 8
    assert len(hospitals) >= 6
    districts = {o["address"][0]["district"] for o in aams}
    assert len(districts) == 11
    for org in aams + jaks + hospitals:
        assert org["identifier"][0]["system"] == HFR
        assert org["identifier"][0]["value"].startswith("IN07")
        address = org["address"][0]
        assert address["state"] == "Delhi" and len(address["postalCode"]) == 6
        assert address["postalCode"].startswith("110")
        state_code = address["_state"]["extension"][0]["valueCoding"]
        assert (state_code["system"], state_code["code"]) == (LGD, "07")
        assert org["telecom"]
    for jak in jaks:
        codes = {c["code"] for t in jak["type"] for c in t["coding"]}
        assert {"prov", "264372000"} <= codes
        location = BY_KEY[f"Location/loc-{jak['id'].removeprefix('org-')}"]
        assert location["type"][0]["coding"][0]["code"] == "PHARM"
    assert len({o["identifier"][0]["value"] for o in aams + jaks + hospitals}) == 52


def test_staff_services_schedules_and_free_slots() -> None:
    for prac in of_type("Practitioner"):
        assert prac["identifier"][0]["system"] == HPR
        assert len(prac["identifier"][0]["value"].replace("-", "")) == 14
        latin, devanagari = prac["name"]
        assert latin["use"] == "official" and any(
            "\u0900" <= ch <= "\u097f" for ch in devanagari["text"]
        )
    specialties = Counter(
        c["code"] for r in of_type("PractitionerRole") for s in r["specialty"] for c in s["coding"]
    )
    assert {"394802001", "394537008", "394586005", "394915009"} <= specialties.keys()
    services = Counter(
        c["code"]
        for s in of_type("HealthcareService")
        for t in s["type"]
        for c in t["coding"]
        if c["system"] == "urn:fhir-server:hims-service"
    )
    assert set(services) == {"opd", "lab", "ambulance", "pharmacy"}
    slots = of_type("Slot")
    assert {s["schedule"]["reference"] for s in slots} == {
        f"Schedule/{s['id']}" for s in of_type("Schedule")
    }
    assert min(s["start"] for s in slots).startswith("2026-12-01")
    assert max(s["start"] for s in slots) < "2026-12-29"
    statuses = Counter(s["status"] for s in slots)
    assert statuses["busy"] == len(of_type("Appointment")) and statuses["free"] > 5000


def test_patients_share_abha_across_facilities() -> None:
    by_abha: dict[str, set[str]] = defaultdict(set)
    for patient in of_type("Patient"):
        number = next(i for i in patient["identifier"] if abha.identifier_kind(i) == "number")
        address = next(i for i in patient["identifier"] if abha.identifier_kind(i) == "address")
        assert abha.is_abha_number(number["value"]) and abha.is_abha_address(address["value"])
        by_abha[number["value"]].add(patient["managingOrganization"]["reference"])
        official, hindi = patient["name"][:2]
        assert official["use"] == "official" and official["family"]
        assert any("\u0900" <= ch <= "\u097f" for ch in hindi["text"])
        assert patient["address"][0]["postalCode"] and patient["telecom"]
    multi = [n for n, orgs in by_abha.items() if len(orgs) > 1]
    assert len(multi) >= 5
    assert by_abha["22-7225-4829-5255"] >= {"Organization/org-lnh", "Organization/org-aam-dwarka"}


def test_first_sample_ids_are_kept() -> None:
    hba1c = BY_KEY["Observation/obs-aam-asha-hba1c"]
    assert hba1c["valueQuantity"]["value"] == 7.2
    assert hba1c["interpretation"][0]["coding"][0]["code"] == "H"
    assert hba1c["referenceRange"][0]["high"]["value"] == 5.7
    assert hba1c["encounter"]["reference"] == "Encounter/enc-aam-asha-1"
    assert BY_KEY["MedicationRequest/medreq-aam-asha-1"]["subject"]["reference"] == (
        "Patient/pat-aam-asha"
    )
    for key in ("Patient/pat-lnh-asha", "Patient/pat-gtbh-ravi", "Organization/org-jak-laxmi",
                "Practitioner/prac-meera", "Practitioner/prac-rohit"):  # fmt: skip
        assert key in BY_KEY


def test_history_covers_every_kind_of_record() -> None:
    counts = Counter(r["resourceType"] for r in RESOURCES)
    for type_ in ("Encounter", "Condition", "MedicationRequest", "MedicationDispense",
                  "ServiceRequest", "Specimen", "Observation", "DiagnosticReport",
                  "Immunization", "AllergyIntolerance", "ChargeItem", "Invoice", "Account",
                  "Coverage", "Claim", "ClaimResponse", "Appointment"):  # fmt: skip
        assert counts[type_] > 0, type_
    classes = {e["class"]["code"] for e in of_type("Encounter")}
    assert classes == {"AMB", "IMP", "EMER"}
    loinc = {c["code"] for o in of_type("Observation") for c in o["code"]["coding"]}
    assert {"718-7", "6690-2", "777-3", "4548-4", "1558-6", "2093-3", "2085-9", "13457-7",
            "2571-8"} <= loinc  # fmt: skip
    for obs in of_type("Observation"):
        assert obs["referenceRange"] and obs["interpretation"]
    assert {"H", "L", "N"} <= {
        o["interpretation"][0]["coding"][0]["code"] for o in of_type("Observation")
    }
    for dispense in of_type("MedicationDispense"):
        assert dispense["location"]["reference"].startswith("Location/loc-jak-")
    for coverage in of_type("Coverage"):
        assert coverage["payor"][0]["reference"] == "Organization/org-nha"


@pytest.mark.parametrize("source", ["seed", "generated"])
def test_invoice_totals_add_up(source: str) -> None:
    if source == "seed":
        invoices = of_type("Invoice")
    else:
        import orjson

        files = network.generated_files(40, 11)
        invoices = [
            e["resource"]
            for name, data in files.items()
            if name.startswith("10-")
            for e in orjson.loads(data)["entry"]
            if e["resource"]["resourceType"] == "Invoice"
        ]
    assert invoices
    problems = [p for invoice in invoices for p in invoice_problems(invoice)]
    assert problems == []
