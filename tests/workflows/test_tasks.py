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


def test_cancelled_ambulance_cannot_be_completed(client: TestClient) -> None:
    task = _ambulance(client)
    cancelled = _move(client, task, "cancelled")
    assert cancelled.status_code == 200, cancelled.text
    response = _move(client, cancelled.json(), "completed")
    assert response.status_code == 422
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["Task.status"]
    assert "'cancelled' to 'completed'" in issue["diagnostics"]
    assert client.get("/fhir/Task/amb-task-1").json()["status"] == "cancelled"


def test_dispatcher_finds_open_requests_with_their_pickup(client: TestClient) -> None:
    task = _ambulance(client)
    # a second, earlier booking that has already been served
    put(client, {**task, "id": "amb-task-0", "status": "completed"})

    waiting = client.get("/fhir/Task?status=requested&_include=Task:focus").json()
    matched = [e["resource"]["id"] for e in waiting["entry"] if e["search"]["mode"] == "match"]
    included = [e["resource"] for e in waiting["entry"] if e["search"]["mode"] == "include"]
    assert matched == ["amb-task-1"]
    assert [r["id"] for r in included] == ["amb-1"]
    assert included[0]["priority"] == "urgent"
    assert included[0]["locationReference"] == [{"reference": "Location/pickup"}]

    on_request = client.get("/fhir/Task?focus=ServiceRequest/amb-1&_sort=_id").json()
    assert [e["resource"]["id"] for e in on_request["entry"]] == ["amb-task-0", "amb-task-1"]
    both = client.get("/fhir/Task?focus=ServiceRequest/amb-1&status=requested,accepted").json()
    assert both["total"] == 1
