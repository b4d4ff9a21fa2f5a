"""Bundle/$ingest-document: ABDM documents join the longitudinal record, once."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

DOCUMENTS = Path(__file__).resolve().parents[2] / "seed_bundles" / "abdm-documents"
KINDS = sorted(p.stem for p in DOCUMENTS.glob("*.json"))


def _load(kind: str) -> dict:
    return orjson.loads((DOCUMENTS / f"{kind}.json").read_bytes())


def _count(client: TestClient, query: str) -> int:
    return client.get(f"/fhir/{query}{'&' if '?' in query else '?'}_summary=count").json()["total"]


def test_every_kind_of_abdm_document_is_shipped() -> None:
    assert {
        "OPConsultRecord",
        "PrescriptionRecord",
        "DiagnosticReportRecord",
        "DischargeSummaryRecord",
        "ImmunizationRecord",
        "WellnessRecord",
        "HealthDocumentRecord",
        "InvoiceRecord",
    } <= set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_document_is_stored_and_unpacked_with_provenance(client: TestClient, kind: str) -> None:
    document = _load(kind)
    response = client.post("/fhir/Bundle/$ingest-document", json=document)
    assert response.status_code == 201, response.text
    bundle_id = response.headers["Location"].split("/")[-3]
    stored = client.get(f"/fhir/Bundle/{bundle_id}").json()
    assert stored["entry"] == document["entry"]  # kept exactly as sent
    identifier = document["identifier"]
    assert _count(client, f"Bundle?identifier={identifier['system']}|{identifier['value']}") == 1
    composition_type = document["entry"][0]["resource"]["type"]
    assert _count(client, "Composition") == 1
    provenance = client.get(f"/fhir/Provenance?entity=Bundle/{bundle_id}").json()
    assert provenance["total"] == 1
    targets = provenance["entry"][0]["resource"]["target"]
    assert len(targets) == len(document["entry"])
    # the document's own references now point at the stored resources
    composition = client.get("/fhir/" + targets[0]["reference"]).json()
    assert composition["type"] == composition_type
    subject = composition["subject"]["reference"]
    assert subject.startswith("Patient/") and client.get(f"/fhir/{subject}").status_code == 200


def test_reposting_the_same_document_does_not_duplicate(client: TestClient) -> None:
    document = _load("OPConsultRecord")
    assert client.post("/fhir/Bundle/$ingest-document", json=document).status_code == 201
    counts = {t: _count(client, t) for t in ("Bundle", "Composition", "Patient", "Provenance")}
    again = client.post("/fhir/Bundle/$ingest-document", json=document)
    assert again.status_code == 200
    assert "already ingested" in again.text
    assert {t: _count(client, t) for t in counts} == counts


def test_patient_is_shared_across_documents(client: TestClient) -> None:
    first, second = _load("OPConsultRecord"), _load("PrescriptionRecord")
    patients = [
        e["resource"]["identifier"][0]["value"]
        for d in (first, second)
        for e in d["entry"]
        if e["resource"]["resourceType"] == "Patient"
    ]
    client.post("/fhir/Bundle/$ingest-document", json=first)
    client.post("/fhir/Bundle/$ingest-document", json=second)
    expected = len(set(patients))
    assert _count(client, "Patient") == expected


def test_documents_appear_in_everything_by_abha(client: TestClient) -> None:
    document = _load("DiagnosticReportRecord")
    client.post("/fhir/Bundle/$ingest-document", json=document)
    patient = next(
        e["resource"] for e in document["entry"] if e["resource"]["resourceType"] == "Patient"
    )
    abha = next(i for i in patient["identifier"] if "healthid" in i.get("system", ""))
    body = client.get(
        "/fhir/Patient/$everything", params={"identifier": f"{abha['system']}|{abha['value']}"}
    ).json()
    types = {e["resource"]["resourceType"] for e in body["entry"]}
    assert {"Patient", "DiagnosticReport", "Observation"} <= types


def test_bad_documents(client: TestClient) -> None:
    document = _load("OPConsultRecord")
    assert (
        client.post(
            "/fhir/Bundle/$ingest-document", json={**document, "type": "collection"}
        ).status_code
        == 400
    )
    no_id = {k: v for k, v in document.items() if k != "identifier"}
    assert client.post("/fhir/Bundle/$ingest-document", json=no_id).status_code == 422
    reordered = {**document, "entry": document["entry"][1:] + document["entry"][:1]}
    assert client.post("/fhir/Bundle/$ingest-document", json=reordered).status_code == 422
    assert _count(client, "Bundle") == 0
