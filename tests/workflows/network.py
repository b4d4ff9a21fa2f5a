"""A small synthetic clinic for workflow tests: patient, doctor, schedule, slots."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def put(client: TestClient, resource: dict[str, Any]) -> dict[str, Any]:
    response = client.put(f"/fhir/{resource['resourceType']}/{resource['id']}", json=resource)
    assert response.status_code in (200, 201), response.text
    return response.json()


def clinic(client: TestClient, slots: int = 2) -> None:
    put(
        client, {"resourceType": "Organization", "id": "aam-dwarka", "name": "AAM Dwarka Sector 10"}
    )
    put(client, {"resourceType": "Patient", "id": "asha", "name": [{"family": "Sharma"}]})
    put(client, {"resourceType": "Practitioner", "id": "meera", "name": [{"family": "Iyer"}]})
    put(
        client,
        {
            "resourceType": "Schedule",
            "id": "sched-meera",
            "actor": [{"reference": "Practitioner/meera"}],
        },
    )
    for i in range(slots):
        put(
            client,
            {
                "resourceType": "Slot",
                "id": f"slot-{i}",
                "schedule": {"reference": "Schedule/sched-meera"},
                "status": "free",
                "start": f"2026-12-01T09:{i * 15:02d}:00+05:30",
                "end": f"2026-12-01T09:{i * 15 + 15:02d}:00+05:30",
            },
        )


def appointment(slot: str, status: str = "booked") -> dict[str, Any]:
    return {
        "resourceType": "Appointment",
        "status": status,
        "slot": [{"reference": f"Slot/{slot}"}],
        "participant": [
            {"actor": {"reference": "Patient/asha"}, "status": "accepted"},
            {"actor": {"reference": "Practitioner/meera"}, "status": "accepted"},
        ],
    }
