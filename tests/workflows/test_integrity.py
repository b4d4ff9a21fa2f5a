"""Referential integrity: a reference to a resource this server does not hold is 422,
unless it is absolute or logical, it points at an entry of the same transaction, or the
policy is off."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import make_client
from tests.workflows.network import clinic


def _blood_pressure(subject: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "BP"},
        "subject": {"reference": subject},
    }


def _transaction(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "transaction", "entry": list(entries)}


def test_reference_to_a_missing_resource_is_422(client: TestClient) -> None:
    response = client.post("/fhir/Observation", json=_blood_pressure("Patient/nobody"))
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["Observation.subject.reference"]


def test_absolute_and_logical_references_are_not_checked(client: TestClient) -> None:
    observation = _blood_pressure("https://other.example.in/fhir/Patient/1")
    observation["performer"] = [
        {"identifier": {"system": "https://doctor.ndhm.gov.in", "value": "71-2345-6789-0123"}}
    ]
    assert client.post("/fhir/Observation", json=observation).status_code == 201


def test_policy_off_accepts_dangling_references(tmp_path) -> None:
    with make_client("sqlite", tmp_path, referential_integrity="off") as client:
        response = client.post("/fhir/Observation", json=_blood_pressure("Patient/nobody"))
        assert response.status_code == 201


def test_transaction_entries_may_reference_later_entries(client: TestClient) -> None:
    # the Observations come first and name Patients that only later entries create:
    # one by urn:uuid (POST), one by its id (PUT)
    registered = "urn:uuid:0b9f6d3e-0000-4000-8000-000000000001"
    bundle = _transaction(
        {
            "resource": _blood_pressure(registered),
            "request": {"method": "POST", "url": "Observation"},
        },
        {
            "resource": _blood_pressure("Patient/ravi"),
            "request": {"method": "POST", "url": "Observation"},
        },
        {
            "fullUrl": registered,
            "resource": {"resourceType": "Patient", "name": [{"family": "Verma"}]},
            "request": {"method": "POST", "url": "Patient"},
        },
        {
            "resource": {"resourceType": "Patient", "id": "ravi", "name": [{"family": "Kumar"}]},
            "request": {"method": "PUT", "url": "Patient/ravi"},
        },
    )
    response = client.post("/fhir", json=bundle)
    assert response.status_code == 200, response.text
    assert client.get("/fhir/Observation?subject=Patient/ravi").json()["total"] == 1
    assert client.get("/fhir/Observation?subject.family=Verma").json()["total"] == 1


def test_transaction_reference_to_a_missing_resource_names_the_entry(
    client: TestClient,
) -> None:
    clinic(client, slots=0)
    bundle = _transaction(
        {
            "resource": _blood_pressure("Patient/asha"),
            "request": {"method": "POST", "url": "Observation"},
        },
        {
            "resource": _blood_pressure("Patient/nobody"),
            "request": {"method": "POST", "url": "Observation"},
        },
    )
    response = client.post("/fhir", json=bundle)
    assert response.status_code == 422
    issue = response.json()["issue"][0]
    assert issue["diagnostics"].startswith("Bundle.entry[1]: Patient/nobody does not exist")
    assert issue["expression"] == ["Bundle.entry[1]", "Observation.subject.reference"]
    if client.app.state.ctx.store.transactional:  # mongomock cannot roll back entry 0
        assert client.get("/fhir/Observation?_summary=count").json()["total"] == 0


def test_batch_refuses_only_the_dangling_entry(client: TestClient) -> None:
    clinic(client, slots=0)
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {
                "resource": _blood_pressure("Patient/nobody"),
                "request": {"method": "POST", "url": "Observation"},
            },
            {
                "resource": _blood_pressure("Patient/asha"),
                "request": {"method": "POST", "url": "Observation"},
            },
        ],
    }
    response = client.post("/fhir", json=bundle)
    assert response.status_code == 200, response.text
    statuses = [e["response"]["status"][:3] for e in response.json()["entry"]]
    assert statuses == ["422", "201"]


def test_a_stored_document_bundle_keeps_its_own_references(client: TestClient) -> None:
    # a collection/document resolves references against its entries' fullUrls, not
    # against this server: storing it as a Bundle resource is not a dangling reference
    document = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "fullUrl": "https://hospital.example.in/fhir/Patient/p1",
                "resource": {"resourceType": "Patient", "id": "p1"},
            },
            {
                "fullUrl": "https://hospital.example.in/fhir/Observation/o1",
                "resource": {**_blood_pressure("Patient/p1"), "id": "o1"},
            },
        ],
    }
    response = client.post("/fhir/Bundle", json=document)
    assert response.status_code == 201, response.text
