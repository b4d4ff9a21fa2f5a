"""Pharmacy: a prescription dispensed at a Jan Aushadhi Kendra, never beyond what it allows."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.workflows.network import clinic, put


def _prescribe(client: TestClient, quantity: dict[str, Any], repeats: int | None = None) -> None:
    """The doctor's MedicationRequest rx-1 for Asha (metformin)."""
    clinic(client, slots=0)
    dispense_request: dict[str, Any] = {"quantity": quantity}
    if repeats is not None:
        dispense_request["numberOfRepeatsAllowed"] = repeats
    put(
        client,
        {
            "resourceType": "MedicationRequest",
            "id": "rx-1",
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": {"text": "Metformin 500 mg tablet"},
            "subject": {"reference": "Patient/asha"},
            "dispenseRequest": dispense_request,
        },
    )


def _dispense(quantity: float, status: str = "completed", unit: str = "tablet") -> dict[str, Any]:
    return _dispense_as(status, {"value": quantity, "unit": unit})


def _dispense_as(status: str, quantity: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "MedicationDispense",
        "status": status,
        "medicationCodeableConcept": {"text": "Metformin 500 mg tablet"},
        "subject": {"reference": "Patient/asha"},
        "authorizingPrescription": [{"reference": "MedicationRequest/rx-1"}],
        "quantity": quantity,
    }


def _dispensed_count(client: TestClient) -> int:
    return client.get(
        "/fhir/MedicationDispense?prescription=MedicationRequest/rx-1&_summary=count"
    ).json()["total"]


def test_dispense_up_to_the_prescribed_quantity(client: TestClient) -> None:
    _prescribe(client, {"value": 60, "unit": "tablet"})
    assert client.post("/fhir/MedicationDispense", json=_dispense(30)).status_code == 201
    assert client.post("/fhir/MedicationDispense", json=_dispense(30)).status_code == 201
    over = client.post("/fhir/MedicationDispense", json=_dispense(1))
    assert over.status_code == 422
    assert "exceed" in over.json()["issue"][0]["diagnostics"]


def test_dispense_more_than_prescribed_at_once_is_422(client: TestClient) -> None:
    _prescribe(client, {"value": 60, "unit": "tablet"})
    assert client.post("/fhir/MedicationDispense", json=_dispense(61)).status_code == 422
    assert client.get("/fhir/MedicationDispense?_summary=count").json()["total"] == 0


def test_cancelled_dispense_does_not_count(client: TestClient) -> None:
    _prescribe(client, {"value": 60, "unit": "tablet"})
    assert (
        client.post("/fhir/MedicationDispense", json=_dispense(60, "cancelled")).status_code == 201
    )
    assert client.post("/fhir/MedicationDispense", json=_dispense(60)).status_code == 201


def test_repeats_allow_the_quantity_once_more_per_repeat(client: TestClient) -> None:
    # 30 tablets, 2 repeats: three monthly fills of 30, and not a fourth
    _prescribe(client, {"value": 30, "unit": "tablet"}, repeats=2)
    for _ in range(3):
        assert client.post("/fhir/MedicationDispense", json=_dispense(30)).status_code == 201
    fourth = client.post("/fhir/MedicationDispense", json=_dispense(30))
    assert fourth.status_code == 422
    assert "prescribed 90, already dispensed 90" in fourth.json()["issue"][0]["diagnostics"]
    assert _dispensed_count(client) == 3


def test_correcting_a_dispense_does_not_count_it_twice(client: TestClient) -> None:
    _prescribe(client, {"value": 60, "unit": "tablet"})
    first = client.post("/fhir/MedicationDispense", json=_dispense(50)).json()
    corrected = client.put(
        f"/fhir/MedicationDispense/{first['id']}",
        json={**first, "quantity": {"value": 60, "unit": "tablet"}},
    )
    assert corrected.status_code == 200, corrected.text


def test_dispense_in_another_unit_is_422(client: TestClient) -> None:
    _prescribe(client, {"value": 60, "unit": "tablet"})
    strips = client.post("/fhir/MedicationDispense", json=_dispense(6, unit="strip"))
    assert strips.status_code == 422
    issue = strips.json()["issue"][0]
    assert "'strip' differs from the prescribed unit 'tablet'" in issue["diagnostics"]
    assert issue["expression"] == ["MedicationDispense.quantity"]
    assert _dispensed_count(client) == 0


def test_unit_text_matches_a_coded_prescription(client: TestClient) -> None:
    # the prescriber's system codes the unit (UCUM {tbl}); the Kendra's counter sends text
    ucum = "http://unitsofmeasure.org"
    _prescribe(client, {"value": 60, "unit": "tablet", "system": ucum, "code": "{tbl}"})
    assert client.post("/fhir/MedicationDispense", json=_dispense(30)).status_code == 201
    coded_other = _dispense_as("completed", {"value": 5, "system": ucum, "code": "mL"})
    assert client.post("/fhir/MedicationDispense", json=coded_other).status_code == 422
