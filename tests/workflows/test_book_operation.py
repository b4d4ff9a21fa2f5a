"""Appointment/$book: book a Slot for a patient in one call, with the booking rule's answers."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.workflows.network import clinic, put


def _parameters(slot: str, patient: str = "Patient/asha", **extra: Any) -> dict[str, Any]:
    parameter: list[dict[str, Any]] = [
        {"name": "slot", "valueReference": {"reference": slot}},
        {"name": "patient", "valueReference": {"reference": patient}},
    ]
    parameter += [{"name": name, **value} for name, value in extra.items()]
    return {"resourceType": "Parameters", "parameter": parameter}


def _book(client: TestClient, body: dict[str, Any]) -> Any:
    return client.post("/fhir/Appointment/$book", json=body)


def test_book_creates_the_appointment_and_takes_the_slot(client: TestClient) -> None:
    clinic(client)
    response = _book(client, _parameters("Slot/slot-0"))
    assert response.status_code == 201, response.text
    booked = response.json()
    assert response.headers["Location"].endswith(f"/Appointment/{booked['id']}/_history/1")
    assert booked["status"] == "booked"
    assert booked["start"] == "2026-12-01T09:00:00+05:30"
    assert [p["actor"]["reference"] for p in booked["participant"]] == [
        "Patient/asha",
        "Practitioner/meera",  # from the Slot's Schedule
    ]
    assert client.get("/fhir/Slot/slot-0").json()["status"] == "busy"


def test_book_takes_bare_ids_and_the_order_it_fulfils(client: TestClient) -> None:
    clinic(client)
    put(
        client,
        {
            "resourceType": "ServiceRequest",
            "id": "sr-hba1c",
            "status": "active",
            "intent": "order",
            "code": {"text": "HbA1c"},
            "subject": {"reference": "Patient/asha"},
        },
    )
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "slot", "valueId": "slot-1"},
            {"name": "patient", "valueString": "asha"},
            {"name": "basedOn", "valueReference": {"reference": "ServiceRequest/sr-hba1c"}},
            {"name": "comment", "valueString": "Fasting sample"},
        ],
    }
    response = _book(client, body)
    assert response.status_code == 201, response.text
    assert response.json()["basedOn"] == [{"reference": "ServiceRequest/sr-hba1c"}]
    assert client.get("/fhir/Appointment?based-on=ServiceRequest/sr-hba1c").json()["total"] == 1


def test_book_of_a_taken_slot_is_409(client: TestClient) -> None:
    clinic(client)
    assert _book(client, _parameters("Slot/slot-0")).status_code == 201
    again = _book(client, _parameters("Slot/slot-0"))
    assert again.status_code == 409
    assert "Slot/slot-0" in again.json()["issue"][0]["diagnostics"]
    assert client.get("/fhir/Appointment?slot=Slot/slot-0").json()["total"] == 1


def test_book_of_an_unknown_slot_or_patient_is_422(client: TestClient) -> None:
    clinic(client)
    assert _book(client, _parameters("Slot/slot-9")).status_code == 422
    unknown_patient = _book(client, _parameters("Slot/slot-0", "Patient/nobody"))
    assert unknown_patient.status_code == 422
    assert client.get("/fhir/Slot/slot-0").json()["status"] == "free"


def test_book_needs_a_parameters_body_with_slot_and_patient(client: TestClient) -> None:
    clinic(client)
    assert client.get("/fhir/Appointment/$book?slot=slot-0&patient=asha").status_code == 400
    only_slot = {
        "resourceType": "Parameters",
        "parameter": [_parameters("Slot/slot-0")["parameter"][0]],
    }
    missing = _book(client, only_slot)
    assert missing.status_code == 400
    assert "patient" in missing.json()["issue"][0]["diagnostics"]
    wrong_type = _book(client, _parameters("Patient/asha"))
    assert wrong_type.status_code == 400
    assert client.get("/fhir/Slot/slot-0").json()["status"] == "free"
