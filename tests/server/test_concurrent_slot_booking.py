"""Booking is atomic: many clients booking one Slot at once, in two worker processes,
produce exactly one Appointment; every other client gets 409."""

from __future__ import annotations

import threading

import httpx

from tests.workflows.network import appointment

CLIENTS = 12


def _put(client: httpx.Client, base: str, resource: dict) -> None:
    response = client.put(f"{base}/{resource['resourceType']}/{resource['id']}", json=resource)
    assert response.status_code in (200, 201), response.text


def test_concurrent_bookings_of_one_slot_give_one_appointment(live_server: str) -> None:
    with httpx.Client(timeout=60) as client:
        _put(client, live_server, {"resourceType": "Patient", "id": "asha"})
        _put(client, live_server, {"resourceType": "Practitioner", "id": "meera"})
        _put(
            client,
            live_server,
            {
                "resourceType": "Schedule",
                "id": "sched-meera",
                "actor": [{"reference": "Practitioner/meera"}],
            },
        )
        _put(
            client,
            live_server,
            {
                "resourceType": "Slot",
                "id": "slot-0",
                "status": "free",
                "schedule": {"reference": "Schedule/sched-meera"},
                "start": "2026-12-01T09:00:00+05:30",
                "end": "2026-12-01T09:15:00+05:30",
            },
        )

    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(CLIENTS)

    def book() -> None:
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            response = client.post(f"{live_server}/Appointment", json=appointment("slot-0"))
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=book) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201] + [409] * (CLIENTS - 1), statuses
    with httpx.Client(timeout=60) as client:
        total = client.get(
            f"{live_server}/Appointment", params={"slot": "Slot/slot-0", "_summary": "count"}
        )
        assert total.json()["total"] == 1
        assert client.get(f"{live_server}/Slot/slot-0").json()["status"] == "busy"
