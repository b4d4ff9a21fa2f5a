"""Doctor appointment: find a free Slot, book it atomically, cancel to free it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.workflows.network import appointment, clinic


def _slot_status(client: TestClient, slot: str) -> str:
    return client.get(f"/fhir/Slot/{slot}").json()["status"]


def test_find_free_slots_of_a_doctor(client: TestClient) -> None:
    clinic(client, slots=3)
    url = "/fhir/Slot?schedule.actor=Practitioner/meera&status=free&start=ge2026-12-01"
    assert client.get(url).json()["total"] == 3


def test_booking_makes_the_slot_busy_in_the_same_write(client: TestClient) -> None:
    clinic(client)
    booked = client.post("/fhir/Appointment", json=appointment("slot-0"))
    assert booked.status_code == 201, booked.text
    assert _slot_status(client, "slot-0") == "busy"
    assert _slot_status(client, "slot-1") == "free"


def test_second_booking_of_a_slot_is_409(client: TestClient) -> None:
    clinic(client)
    assert client.post("/fhir/Appointment", json=appointment("slot-0")).status_code == 201
    again = client.post("/fhir/Appointment", json=appointment("slot-0"))
    assert again.status_code == 409
    assert "Slot/slot-0" in again.json()["issue"][0]["diagnostics"]
    assert client.get("/fhir/Appointment?_summary=count").json()["total"] == 1


def test_cancel_frees_the_slot_for_the_next_patient(client: TestClient) -> None:
    clinic(client)
    booked = client.post("/fhir/Appointment", json=appointment("slot-0")).json()
    cancelled = client.put(
        f"/fhir/Appointment/{booked['id']}", json={**booked, "status": "cancelled"}
    )
    assert cancelled.status_code == 200, cancelled.text
    assert _slot_status(client, "slot-0") == "free"
    assert client.post("/fhir/Appointment", json=appointment("slot-0")).status_code == 201


def test_booking_an_unknown_slot_is_422(client: TestClient) -> None:
    clinic(client)
    assert client.post("/fhir/Appointment", json=appointment("slot-9")).status_code == 422


def test_proposed_appointment_does_not_take_the_slot(client: TestClient) -> None:
    clinic(client)
    assert (
        client.post("/fhir/Appointment", json=appointment("slot-0", "proposed")).status_code == 201
    )
    assert _slot_status(client, "slot-0") == "free"


def test_one_transaction_cannot_book_a_slot_twice(client: TestClient) -> None:
    clinic(client)
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": appointment("slot-0"), "request": {"method": "POST", "url": "Appointment"}}
            for _ in range(2)
        ],
    }
    response = client.post("/fhir", json=bundle)
    assert response.status_code == 409
    assert response.json()["issue"][0]["diagnostics"].startswith("Bundle.entry[1]: Slot/slot-0")


def test_deleting_a_booked_appointment_frees_the_slot(client: TestClient) -> None:
    clinic(client)
    booked = client.post("/fhir/Appointment", json=appointment("slot-0")).json()
    assert client.delete(f"/fhir/Appointment/{booked['id']}").status_code == 204
    assert _slot_status(client, "slot-0") == "free"
