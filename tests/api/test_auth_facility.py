"""Facility boundaries: consent opens another facility's records, revocation closes them,
break-the-glass needs its own right."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fhir_server.security.facility import FACILITY_TAG_SYSTEM
from tests.api.fixtures import observation, patient
from tests.auth_support import Registrar, auth_client
from tests.conftest import ADAPTERS

ABHA = {"system": "https://healthid.abdm.gov.in", "value": "91-1234-5678-9012"}
ALL = "system/*.cruds"


@pytest.fixture(params=ADAPTERS)
def secured(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    with auth_client(request.param, tmp_path) as client:
        yield client


def _consent(patient_id: str, facility: str, status: str = "active") -> dict[str, Any]:
    return {
        "resourceType": "Consent",
        "status": status,
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{patient_id}"},
        "policyRule": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}
            ]
        },
        "provision": {
            "type": "permit",
            "period": {"start": "2020-01-01", "end": "2099-12-31"},
            "actor": [
                {
                    "role": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                                "code": "IRCP",
                            }
                        ]
                    },
                    "reference": {"identifier": {"system": FACILITY_TAG_SYSTEM, "value": facility}},
                }
            ],
            "purpose": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": "CAREMGT"}
            ],
        },
    }


class Network:
    """Facility A records a patient's data; facility B wants to read it."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        registrar = Registrar(client)
        self.a = registrar.headers(ALL, facility="HFR-A")
        self.b = registrar.headers(ALL, facility="HFR-B")
        self.core = registrar.headers(ALL)  # network-level: no facility
        self.b_glass = registrar.headers(ALL, facility="HFR-B", break_glass=True)
        made = client.post("/fhir/Patient", json=patient(identifier=[ABHA]), headers=self.a)
        assert made.status_code == 201, made.text
        self.patient = made.json()["id"]
        obs = client.post("/fhir/Observation", json=observation(self.patient), headers=self.a)
        self.observation = obs.json()["id"]

    def b_reads(self, headers: dict[str, str] | None = None) -> int:
        url = f"/fhir/Observation/{self.observation}"
        return self.client.get(url, headers=headers or self.b).status_code


def test_writes_are_stamped_with_the_writing_facility(secured: TestClient) -> None:
    net = Network(secured)
    stored = secured.get(f"/fhir/Observation/{net.observation}", headers=net.a).json()
    assert {"system": FACILITY_TAG_SYSTEM, "code": "HFR-A"} in stored["meta"]["tag"]
    # a facility cannot pass its writes off as another's
    forged = observation(net.patient)
    forged["meta"] = {"tag": [{"system": FACILITY_TAG_SYSTEM, "code": "HFR-A"}]}
    made = secured.post("/fhir/Observation", json=forged, headers=net.b).json()
    assert [t["code"] for t in made["meta"]["tag"]] == ["HFR-B"]
    tagged = secured.get(f"/fhir/Observation?_tag={FACILITY_TAG_SYSTEM}|HFR-A", headers=net.core)
    assert tagged.json()["total"] == 1


def test_another_facility_cannot_change_or_delete_a_record(secured: TestClient) -> None:
    net = Network(secured)
    url = f"/fhir/Observation/{net.observation}"
    body = {**observation(net.patient, 7.2), "id": net.observation}
    assert secured.put(url, json=body, headers=net.b).status_code == 403
    assert secured.delete(url, headers=net.b).status_code == 403
    assert secured.put(url, json=body, headers=net.a).status_code == 200


def test_consent_opens_and_revocation_closes(secured: TestClient) -> None:
    net = Network(secured)
    assert net.b_reads() == 403
    search = secured.get(f"/fhir/Observation?subject=Patient/{net.patient}", headers=net.b)
    kinds = [e["resource"]["resourceType"] for e in search.json()["entry"]]
    assert kinds == ["OperationOutcome"]
    assert net.b_reads(net.core) == 200  # a network-level client is not facility-bound

    consent = secured.post("/fhir/Consent", json=_consent(net.patient, "HFR-B"), headers=net.core)
    assert consent.status_code == 201, consent.text
    assert net.b_reads() == 200
    search = secured.get(f"/fhir/Observation?subject=Patient/{net.patient}", headers=net.b)
    assert [e["resource"]["id"] for e in search.json()["entry"]] == [net.observation]

    revoked = {**consent.json(), "status": "inactive"}
    url = f"/fhir/Consent/{revoked['id']}"
    assert secured.put(url, json=revoked, headers=net.core).status_code == 200
    assert net.b_reads() == 403


def test_consent_for_another_facility_does_not_help(secured: TestClient) -> None:
    net = Network(secured)
    secured.post("/fhir/Consent", json=_consent(net.patient, "HFR-C"), headers=net.core)
    assert net.b_reads() == 403


def test_consent_given_at_the_reading_facility_covers_the_same_health_id(
    secured: TestClient,
) -> None:
    net = Network(secured)
    # the patient is registered at B too (same ABHA) and consents there
    at_b = secured.post("/fhir/Patient", json=patient(identifier=[ABHA]), headers=net.b).json()
    secured.post("/fhir/Consent", json=_consent(at_b["id"], "HFR-B"), headers=net.b)
    assert net.b_reads() == 200


def test_everything_by_health_id_says_what_was_withheld(secured: TestClient) -> None:
    net = Network(secured)
    secured.post("/fhir/Patient", json=patient(identifier=[ABHA]), headers=net.b)
    url = f"/fhir/Patient/$everything?identifier={ABHA['system']}|{ABHA['value']}"
    bundle = secured.get(url, headers=net.b).json()
    kinds = sorted(e["resource"]["resourceType"] for e in bundle["entry"])
    assert kinds == ["OperationOutcome", "Patient"]  # B's own Patient; A's data withheld
    outcome = next(e["resource"] for e in bundle["entry"] if e["search"]["mode"] == "outcome")
    assert "Withheld 2 resource(s)" in outcome["issue"][0]["diagnostics"]


def test_break_the_glass_needs_the_right(secured: TestClient) -> None:
    net = Network(secured)
    btg = {"X-Purpose-Of-Use": "BTG"}
    refused = secured.get(f"/fhir/Observation/{net.observation}", headers={**net.b, **btg})
    assert refused.status_code == 403
    assert "no such right" in refused.json()["issue"][0]["diagnostics"]
    assert net.b_reads(net.b_glass) == 403  # the right alone does not open anything
    assert net.b_reads({**net.b_glass, **btg}) == 200
    by_parameter = secured.get(
        f"/fhir/Observation?subject=Patient/{net.patient}&_purpose=BTG", headers=net.b_glass
    )
    assert [e["resource"]["id"] for e in by_parameter.json()["entry"]] == [net.observation]


def test_records_not_about_a_patient_are_shared(secured: TestClient) -> None:
    net = Network(secured)
    org = {"resourceType": "Organization", "name": "Aam Aadmi Mohalla Clinic, Okhla"}
    made = secured.post("/fhir/Organization", json=org, headers=net.a).json()
    assert made["meta"]["tag"][0]["code"] == "HFR-A"
    assert secured.get(f"/fhir/Organization/{made['id']}", headers=net.b).status_code == 200


def test_conditional_create_does_not_hand_out_another_facilitys_record(
    secured: TestClient,
) -> None:
    net = Network(secured)
    criteria = {"If-None-Exist": f"identifier={ABHA['system']}|{ABHA['value']}"}
    response = secured.post(
        "/fhir/Patient", json=patient(identifier=[ABHA]), headers={**net.b, **criteria}
    )
    assert response.status_code == 403
    assert "Sharma" not in response.text
    same = secured.post(
        "/fhir/Patient", json=patient(identifier=[ABHA]), headers={**net.a, **criteria}
    )
    assert same.status_code == 200 and same.json()["id"] == net.patient


def test_shared_records_may_be_updated_and_keep_their_facility(secured: TestClient) -> None:
    net = Network(secured)
    org = {"resourceType": "Organization", "name": "AAM Okhla", "active": True}
    made = secured.post("/fhir/Organization", json=org, headers=net.a).json()
    changed = {**made, "active": False}
    changed["meta"] = {"tag": [{"system": FACILITY_TAG_SYSTEM, "code": "HFR-B"}]}
    response = secured.put(f"/fhir/Organization/{made['id']}", json=changed, headers=net.b)
    assert response.status_code == 200, response.text
    assert response.json()["meta"]["tag"] == [{"system": FACILITY_TAG_SYSTEM, "code": "HFR-A"}]


def test_a_facility_books_another_facilitys_slot(secured: TestClient) -> None:
    from tests.workflows.network import appointment

    net = Network(secured)
    for resource in (
        {"resourceType": "Patient", "id": "asha", "name": [{"family": "Sharma"}]},
        {"resourceType": "Practitioner", "id": "meera", "name": [{"family": "Iyer"}]},
        {
            "resourceType": "Schedule",
            "id": "sched-meera",
            "actor": [{"reference": "Practitioner/meera"}],
        },
        {
            "resourceType": "Slot",
            "id": "slot-0",
            "schedule": {"reference": "Schedule/sched-meera"},
            "status": "free",
            "start": "2026-12-01T09:00:00+05:30",
            "end": "2026-12-01T09:15:00+05:30",
        },
    ):
        url = f"/fhir/{resource['resourceType']}/{resource['id']}"
        assert secured.put(url, json=resource, headers=net.a).status_code == 201
    booked = secured.post("/fhir/Appointment", json=appointment("slot-0"), headers=net.b)
    assert booked.status_code == 201, booked.text
    slot = secured.get("/fhir/Slot/slot-0", headers=net.b).json()
    assert slot["status"] == "busy"
    assert slot["meta"]["tag"] == [{"system": FACILITY_TAG_SYSTEM, "code": "HFR-A"}]


def test_consent_may_name_the_facility_in_either_hfr_system(secured: TestClient) -> None:
    net = Network(secured)
    consent = _consent(net.patient, "HFR-B")
    consent["provision"]["actor"][0]["reference"]["identifier"]["system"] = (
        "https://hfr.abdm.gov.in"
    )
    assert secured.post("/fhir/Consent", json=consent, headers=net.core).status_code == 201
    assert net.b_reads() == 200
