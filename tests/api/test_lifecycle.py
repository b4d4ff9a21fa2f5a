"""Done-when of the foundation: six resource types through the whole version lifecycle."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api import fixtures

FHIR = "application/fhir+json"
BUILDERS: dict[str, Callable[[str], dict[str, Any]]] = {
    "Encounter": fixtures.encounter,
    "Appointment": fixtures.appointment,
    "MedicationRequest": fixtures.medication_request,
    "Observation": fixtures.observation,
    "Claim": fixtures.claim,
}


def _lifecycle(client: TestClient, resource: dict[str, Any]) -> None:
    type_ = resource["resourceType"]
    created = client.post(f"/fhir/{type_}", json=resource, headers={"Content-Type": FHIR})
    assert created.status_code == 201, created.text
    id_ = created.json()["id"]
    assert created.headers["ETag"] == 'W/"1"'
    assert created.headers["Location"].endswith(f"/fhir/{type_}/{id_}/_history/1")
    assert created.headers["Last-Modified"]

    read = client.get(f"/fhir/{type_}/{id_}")
    assert read.status_code == 200
    assert read.headers["ETag"] == 'W/"1"'
    body = read.json()
    assert body["meta"]["versionId"] == "1"

    body["meta"] = {"tag": [{"system": "urn:test", "code": "edited"}]}
    stale = client.put(f"/fhir/{type_}/{id_}", json=body, headers={"If-Match": 'W/"7"'})
    assert stale.status_code == 412
    assert stale.json()["resourceType"] == "OperationOutcome"

    updated = client.put(f"/fhir/{type_}/{id_}", json=body, headers={"If-Match": 'W/"1"'})
    assert updated.status_code == 200, updated.text
    assert updated.headers["ETag"] == 'W/"2"'
    assert updated.json()["meta"]["versionId"] == "2"

    first = client.get(f"/fhir/{type_}/{id_}/_history/1")
    assert first.status_code == 200
    assert "tag" not in first.json()["meta"]
    assert (
        client.get(f"/fhir/{type_}/{id_}/_history/2").json()["meta"]["tag"][0]["code"] == "edited"
    )

    deleted = client.delete(f"/fhir/{type_}/{id_}")
    assert deleted.status_code == 204
    assert client.get(f"/fhir/{type_}/{id_}").status_code == 410

    history = client.get(f"/fhir/{type_}/{id_}/_history").json()
    assert history["type"] == "history"
    assert [e["request"]["method"] for e in history["entry"]] == ["DELETE", "PUT", "POST"]
    assert history["total"] == 3


def test_patient_lifecycle(client: TestClient) -> None:
    _lifecycle(client, fixtures.patient())


@pytest.mark.parametrize("type_", sorted(BUILDERS))
def test_resource_lifecycle(client: TestClient, type_: str) -> None:
    patient = client.post("/fhir/Patient", json=fixtures.patient()).json()
    _lifecycle(client, BUILDERS[type_](patient["id"]))
