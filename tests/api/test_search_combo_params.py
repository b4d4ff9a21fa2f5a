"""Observation's combo-* search parameters find main and component values alike (on
SQLite they are answered from the rows of the two parameters each one unites)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


def blood_pressure() -> dict[str, Any]:
    def part(code: str, value: float) -> dict[str, Any]:
        return {
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "valueQuantity": {"value": value, "unit": "mm[Hg]", "system": UCUM, "code": "mm[Hg]"},
        }

    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
        "subject": {"reference": "Patient/p1"},
        "component": [part("8480-6", 120), part("8462-4", 80)],
    }


def _pulse() -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "8867-4"}]},
        "subject": {"reference": "Patient/p1"},
        "valueQuantity": {"value": 72, "unit": "/min", "system": UCUM, "code": "/min"},
    }


def _ids(client: TestClient, query: str) -> set[str]:
    response = client.get(f"/fhir/Observation?{query}")
    assert response.status_code == 200, response.text
    return {e["resource"]["id"] for e in response.json().get("entry", [])}


def test_combo_searches_find_main_and_component_values(client: TestClient) -> None:
    client.put("/fhir/Patient/p1", json={"resourceType": "Patient", "id": "p1"})
    pressure = client.post("/fhir/Observation", json=blood_pressure()).json()["id"]
    pulse = client.post("/fhir/Observation", json=_pulse()).json()["id"]

    assert _ids(client, f"combo-code={LOINC}|8480-6") == {pressure}  # a component's code
    assert _ids(client, f"combo-code={LOINC}|8867-4") == {pulse}  # the main code
    assert _ids(client, "combo-code=8867-4,8462-4") == {pulse, pressure}
    assert _ids(client, "combo-code-value-quantity=8480-6$gt100") == {pressure}
    assert _ids(client, "combo-code-value-quantity=8867-4$72") == {pulse}
    assert _ids(client, "combo-code-value-quantity=8867-4$80") == set()
    assert _ids(client, "combo-value-quantity=lt90") == {pulse, pressure}
    assert _ids(client, "combo-value-quantity=gt100") == {pressure}
    assert _ids(client, "combo-code:not=8480-6") == {pulse}
    assert _ids(client, "combo-value-concept:missing=true") == {pulse, pressure}
    assert _ids(client, "combo-code:missing=false&_sort=combo-code") == {pulse, pressure}
    total = client.get("/fhir/Observation?combo-code=8480-6&_summary=count").json()["total"]
    assert total == 1
