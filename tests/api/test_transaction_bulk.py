"""A big transaction (10k entries, ≈ 5 MB): validated on the worker pool, written in one call."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.api.fixtures import observation, patient


def _big_transaction(patients: int) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    for i in range(patients):
        patient_url = f"urn:uuid:{uuid.uuid4()}"
        entries.append(
            {
                "fullUrl": patient_url,
                "resource": patient(family=f"Family{i}"),
                "request": {"method": "POST", "url": "Patient"},
            }
        )
        obs = observation("ignored", value=float(i % 90))
        obs["subject"] = {"reference": patient_url}
        entries.append(
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": obs,
                "request": {"method": "POST", "url": "Observation"},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def _count(client: TestClient, query: str) -> int:
    separator = "&" if "?" in query else "?"
    response = client.get(f"/fhir/{query}{separator}_summary=count")
    assert response.status_code == 200, response.text
    return response.json()["total"]


def test_ten_thousand_entry_transaction(client: TestClient) -> None:
    # mongomock checks unique indexes by scanning every document (quadratic): a smaller
    # Bundle there; the full size runs on SQLite and on a real MongoDB (MONGODB_URI)
    patients = 500 if client.app.state.ctx.store.kind == "mongomock" else 5_000
    bundle = _big_transaction(patients)
    response = client.post("/fhir", json=bundle)
    assert response.status_code == 200, response.text[:500]
    statuses = {e["response"]["status"] for e in response.json()["entry"]}
    assert statuses == {"201 Created"}
    assert _count(client, "Patient") == patients
    assert _count(client, "Observation") == patients
    # the urn:uuid references were rewritten to the Patients created in the same Bundle
    last_patient = response.json()["entry"][-2]["response"]["location"].split("/")[1]
    assert _count(client, f"Observation?subject=Patient/{last_patient}") == 1


def test_big_transaction_with_one_invalid_entry_writes_nothing(client: TestClient) -> None:
    bundle = _big_transaction(300)
    bundle["entry"][457]["resource"]["status"] = 42  # an Observation.status must be a code
    response = client.post("/fhir", json=bundle)
    assert response.status_code == 400
    assert "Bundle.entry[457]" in response.json()["issue"][0]["diagnostics"]
    assert _count(client, "Patient") == 0
    assert _count(client, "Observation") == 0
