"""Pharmacy dispensing limits, invoice arithmetic, and referential integrity."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import make_client
from tests.workflows.network import clinic, put

NRCES_PRICE = "https://nrces.in/ndhm/fhir/r4/CodeSystem/ndhm-price-components"


def _prescription(client: TestClient) -> None:
    clinic(client, slots=0)
    put(
        client,
        {
            "resourceType": "MedicationRequest",
            "id": "rx-1",
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": {"text": "Metformin 500 mg tablet"},
            "subject": {"reference": "Patient/asha"},
            "dispenseRequest": {"quantity": {"value": 60, "unit": "tablet"}},
        },
    )


def _dispense(quantity: float, status: str = "completed") -> dict[str, Any]:
    return {
        "resourceType": "MedicationDispense",
        "status": status,
        "medicationCodeableConcept": {"text": "Metformin 500 mg tablet"},
        "subject": {"reference": "Patient/asha"},
        "authorizingPrescription": [{"reference": "MedicationRequest/rx-1"}],
        "quantity": {"value": quantity, "unit": "tablet"},
    }


def test_dispense_up_to_the_prescribed_quantity(client: TestClient) -> None:
    _prescription(client)
    assert client.post("/fhir/MedicationDispense", json=_dispense(30)).status_code == 201
    assert client.post("/fhir/MedicationDispense", json=_dispense(30)).status_code == 201
    over = client.post("/fhir/MedicationDispense", json=_dispense(1))
    assert over.status_code == 422
    assert "exceed" in over.json()["issue"][0]["diagnostics"]


def test_dispense_more_than_prescribed_at_once_is_422(client: TestClient) -> None:
    _prescription(client)
    assert client.post("/fhir/MedicationDispense", json=_dispense(61)).status_code == 422
    assert client.get("/fhir/MedicationDispense?_summary=count").json()["total"] == 0


def test_cancelled_dispense_does_not_count(client: TestClient) -> None:
    _prescription(client)
    assert (
        client.post("/fhir/MedicationDispense", json=_dispense(60, "cancelled")).status_code == 201
    )
    assert client.post("/fhir/MedicationDispense", json=_dispense(60)).status_code == 201


def _invoice(net: float, gross: float, cgst: float = 1.58) -> dict[str, Any]:
    def component(kind: str, code: str, amount: float, factor: float | None = None) -> dict:
        out: dict[str, Any] = {
            "type": kind,
            "code": {"coding": [{"system": NRCES_PRICE, "code": code}]},
            "amount": {"value": amount, "currency": "INR"},
        }
        if factor is not None:
            out["factor"] = factor
        return out

    return {
        "resourceType": "Invoice",
        "status": "issued",
        "subject": {"reference": "Patient/asha"},
        "lineItem": [
            {
                "sequence": 1,
                "chargeItemCodeableConcept": {"text": "Metformin 500 mg x 60"},
                "priceComponent": [
                    component("base", "01", 63.0),
                    component("informational", "00", 66.6),
                    component("tax", "03", cgst, 0.025),
                    component("tax", "04", 1.58, 0.025),
                ],
            }
        ],
        "totalNet": {"value": net, "currency": "INR"},
        "totalGross": {"value": gross, "currency": "INR"},
    }


def test_invoice_whose_totals_add_up_is_stored(client: TestClient) -> None:
    clinic(client, slots=0)
    assert client.post("/fhir/Invoice", json=_invoice(63.0, 66.16)).status_code == 201


def test_invoice_with_wrong_gross_total_is_422(client: TestClient) -> None:
    clinic(client, slots=0)
    response = client.post("/fhir/Invoice", json=_invoice(63.0, 70.0))
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["Invoice.totalGross"]


def test_invoice_with_wrong_gst_is_422(client: TestClient) -> None:
    clinic(client, slots=0)
    response = client.post("/fhir/Invoice", json=_invoice(63.0, 67.58, cgst=3.0))
    assert response.status_code == 422
    assert "factor" in response.json()["issue"][0]["diagnostics"]


def test_reference_to_a_missing_resource_is_422(client: TestClient) -> None:
    response = client.post(
        "/fhir/Observation",
        json={
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "BP"},
            "subject": {"reference": "Patient/nobody"},
        },
    )
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["Observation.subject.reference"]


def test_absolute_and_logical_references_are_not_checked(client: TestClient) -> None:
    response = client.post(
        "/fhir/Observation",
        json={
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "BP"},
            "subject": {"reference": "https://other.example.in/fhir/Patient/1"},
            "performer": [
                {
                    "identifier": {
                        "system": "https://doctor.ndhm.gov.in",
                        "value": "71-2345-6789-0123",
                    }
                }
            ],
        },
    )
    assert response.status_code == 201


def test_policy_off_accepts_dangling_references(tmp_path) -> None:
    with make_client("sqlite", tmp_path, referential_integrity="off") as client:
        response = client.post(
            "/fhir/Observation",
            json={
                "resourceType": "Observation",
                "status": "final",
                "code": {"text": "BP"},
                "subject": {"reference": "Patient/nobody"},
            },
        )
        assert response.status_code == 201
