"""Ambulance booking: a ServiceRequest and a Task moving requested -> accepted -> completed."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.workflows.network import clinic, put


def _ambulance(client: TestClient) -> dict[str, Any]:
    clinic(client, slots=0)
    put(
        client,
        {
            "resourceType": "Location",
            "id": "pickup",
            "name": "Sector 10 Dwarka, gate 2",
            "address": {"postalCode": "110075", "city": "New Delhi"},
        },
    )
    put(
        client,
        {
            "resourceType": "ServiceRequest",
            "id": "amb-1",
            "status": "active",
            "intent": "order",
            "priority": "urgent",
            "code": {
                "coding": [
                    {
                        "system": "http://snomed.info/sct",
                        "code": "183460006",
                        "display": "Referral to ambulance service",
                    }
                ]
            },
            "subject": {"reference": "Patient/asha"},
            "locationReference": [{"reference": "Location/pickup"}],
        },
    )
    return put(
        client,
        {
            "resourceType": "Task",
            "id": "amb-task-1",
            "status": "requested",
            "intent": "order",
            "priority": "urgent",
            "focus": {"reference": "ServiceRequest/amb-1"},
            "for": {"reference": "Patient/asha"},
        },
    )


def _move(client: TestClient, task: dict[str, Any], status: str) -> Any:
    return client.put(f"/fhir/Task/{task['id']}", json={**task, "status": status})


def test_ambulance_task_moves_through_its_states(client: TestClient) -> None:
    task = _ambulance(client)
    for status in ("accepted", "in-progress", "completed"):
        response = _move(client, task, status)
        assert response.status_code == 200, response.text
        task = response.json()
    assert client.get("/fhir/Task?focus=ServiceRequest/amb-1&status=completed").json()["total"] == 1


def test_completed_before_accepted_is_422(client: TestClient) -> None:
    task = _ambulance(client)
    response = _move(client, task, "completed")
    assert response.status_code == 422
    assert "requested" in response.json()["issue"][0]["diagnostics"]
    assert client.get("/fhir/Task/amb-task-1").json()["status"] == "requested"


def test_completed_task_cannot_restart(client: TestClient) -> None:
    task = _ambulance(client)
    for status in ("accepted", "in-progress", "completed"):
        task = _move(client, task, status).json()
    assert _move(client, task, "in-progress").status_code == 422
