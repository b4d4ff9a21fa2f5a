"""Document Bundles posted to /fhir/Bundle are stored and searchable."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

COMPOSITION_ID = "c0a1e2f3-0000-4000-8000-000000000001"
PATIENT_ID = "c0a1e2f3-0000-4000-8000-000000000002"


def _document() -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "identifier": {"system": "https://lnh.delhi.gov.in/docs", "value": "OPC-0001"},
        "type": "document",
        "timestamp": "2026-11-02T10:00:00+05:30",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{COMPOSITION_ID}",
                "resource": {
                    "resourceType": "Composition",
                    "id": COMPOSITION_ID,
                    "status": "final",
                    "type": {"coding": [{"system": "http://snomed.info/sct", "code": "371530004"}]},
                    "subject": {"reference": f"urn:uuid:{PATIENT_ID}"},
                    "date": "2026-11-02T10:00:00+05:30",
                    "author": [{"reference": f"urn:uuid:{PATIENT_ID}"}],
                    "title": "OP Consultation",
                },
            },
            {
                "fullUrl": f"urn:uuid:{PATIENT_ID}",
                "resource": {"resourceType": "Patient", "id": PATIENT_ID},
            },
        ],
    }


def test_document_bundle_is_stored_as_a_bundle_and_searchable(client: TestClient) -> None:
    created = client.post("/fhir/Bundle", json=_document())
    assert created.status_code == 201, created.text
    assert created.json()["entry"][0]["resource"]["title"] == "OP Consultation"
    for query in (
        "identifier=https://lnh.delhi.gov.in/docs|OPC-0001",
        "type=document",
        "timestamp=2026-11-02",
        f"composition=Composition/{COMPOSITION_ID}",
    ):
        body = client.get(f"/fhir/Bundle?{query}&_summary=count").json()
        assert body["total"] == 1, query
    assert client.get("/fhir/Bundle?timestamp=2025&_summary=count").json()["total"] == 0
    # storing a document does not unpack it: that is $ingest-document's job
    assert client.get("/fhir/Composition?_summary=count").json()["total"] == 0
