"""Conditional create is race-free: concurrent identical If-None-Exist make one resource.

Runs against a real server with two worker processes on one SQLite file, so the two
requests of a pair really race in different processes. (The MongoDB adapter's guarantee,
a lock document written inside the transaction, can only be shown against a real replica
set: see tests/storage for the MONGODB_URI tests.)
"""

from __future__ import annotations

import threading

import httpx

PAIRS = 40
SYSTEM = "https://healthid.ndhm.gov.in"


def _patient(abha: str) -> dict:
    return {
        "resourceType": "Patient",
        "identifier": [{"system": SYSTEM, "value": abha}],
        "name": [{"family": "Race", "given": ["Test"]}],
    }


def test_racing_pairs_of_conditional_creates_make_exactly_one_resource(live_server: str) -> None:
    statuses: list[int] = []
    lock = threading.Lock()

    def post(abha: str, barrier: threading.Barrier) -> None:
        with httpx.Client(timeout=60) as client:
            barrier.wait()
            response = client.post(
                f"{live_server}/Patient",
                json=_patient(abha),
                headers={"If-None-Exist": f"identifier={SYSTEM}|{abha}"},
            )
        with lock:
            statuses.append(response.status_code)

    threads = []
    for pair in range(PAIRS):
        abha = f"77-0000-0000-{pair:04d}"
        barrier = threading.Barrier(2)
        threads += [threading.Thread(target=post, args=(abha, barrier)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(set(statuses)) == [200, 201], statuses
    assert statuses.count(201) == PAIRS
    duplicates = []
    with httpx.Client(timeout=60) as client:
        for pair in range(PAIRS):
            abha = f"77-0000-0000-{pair:04d}"
            total = client.get(
                f"{live_server}/Patient",
                params={"identifier": f"{SYSTEM}|{abha}", "_summary": "count"},
            ).json()["total"]
            if total != 1:
                duplicates.append((abha, total))
    assert duplicates == []
