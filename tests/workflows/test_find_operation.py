"""Appointment/$find: a patient app asks for a doctor's free Slots in a date range."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.workflows.network import appointment, clinic, put


def _doctor_at_a_facility(client: TestClient) -> None:
    """Meera's Schedule names her PractitionerRole at AAM Dwarka, as the seed data does."""
    clinic(client, slots=3)  # slot-0..2 on sched-meera (actor Practitioner/meera)
    put(client, {"resourceType": "Location", "id": "loc-dwarka", "name": "AAM Dwarka"})
    put(
        client,
        {
            "resourceType": "PractitionerRole",
            "id": "role-dwarka",
            "practitioner": {"reference": "Practitioner/meera"},
            "location": [{"reference": "Location/loc-dwarka"}],
        },
    )
    put(
        client,
        {
            "resourceType": "Schedule",
            "id": "sched-dwarka",
            "actor": [
                {"reference": "PractitionerRole/role-dwarka"},
                {"reference": "Location/loc-dwarka"},
            ],
        },
    )
    put(
        client,
        {
            "resourceType": "Slot",
            "id": "slot-dwarka-0900",
            "schedule": {"reference": "Schedule/sched-dwarka"},
            "status": "free",
            "start": "2026-12-02T09:00:00+05:30",
            "end": "2026-12-02T09:20:00+05:30",
        },
    )


def _found(client: TestClient, query: str) -> list[str]:
    response = client.get(f"/fhir/Appointment/$find?{query}")
    assert response.status_code == 200, response.text
    return [e["resource"]["id"] for e in response.json().get("entry", [])]


def test_find_lists_a_doctors_free_slots_soonest_first(client: TestClient) -> None:
    _doctor_at_a_facility(client)
    assert client.post("/fhir/Appointment", json=appointment("slot-1")).status_code == 201
    # her own Schedule and the one of her role at Dwarka; the booked slot-1 is gone
    assert _found(client, "practitioner=meera") == ["slot-0", "slot-2", "slot-dwarka-0900"]
    assert _found(client, "practitioner=Practitioner/meera&_count=1") == ["slot-0"]


def test_find_bounds_slots_by_date(client: TestClient) -> None:
    _doctor_at_a_facility(client)
    assert _found(client, "practitioner=meera&start=2026-12-02") == ["slot-dwarka-0900"]
    assert _found(client, "practitioner=meera&end=2026-12-01") == ["slot-0", "slot-1", "slot-2"]
    assert _found(client, "practitioner=meera&start=2026-12-03") == []


def test_find_by_location_and_doctor_together(client: TestClient) -> None:
    _doctor_at_a_facility(client)
    assert _found(client, "location=loc-dwarka") == ["slot-dwarka-0900"]
    assert _found(client, "practitioner=meera&location=loc-dwarka") == ["slot-dwarka-0900"]


def test_find_needs_someone_to_book_with(client: TestClient) -> None:
    response = client.get("/fhir/Appointment/$find?start=2026-12-01")
    assert response.status_code == 400
    assert "practitioner, service or location" in response.json()["issue"][0]["diagnostics"]
    assert client.get("/fhir/Appointment/$find?doctor=meera").status_code == 400


def test_find_is_listed_in_the_capability_statement(client: TestClient) -> None:
    resources = client.get("/fhir/metadata").json()["rest"][0]["resource"]
    appointment_ = next(r for r in resources if r["type"] == "Appointment")
    assert {"find", "book"} <= {op["name"] for op in appointment_["operation"]}
