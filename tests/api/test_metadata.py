"""GET /metadata: the CapabilityStatement describes what is wired."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_capability_statement(client: TestClient) -> None:
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    body = response.json()
    assert body["resourceType"] == "CapabilityStatement"
    assert body["fhirVersion"] == "4.0.1"
    assert "application/fhir+json" in body["format"]
    resources = {r["type"]: r for r in body["rest"][0]["resource"]}
    for type_ in (
        "Patient",
        "Encounter",
        "Appointment",
        "MedicationRequest",
        "Observation",
        "Claim",
    ):
        codes = {i["code"] for i in resources[type_]["interaction"]}
        assert {"read", "vread", "update", "patch", "delete", "create", "history-instance"} <= codes
    patient = resources["Patient"]
    assert patient["conditionalCreate"] is True
    assert patient["conditionalDelete"] == "single"
    names = {p["name"] for p in patient["searchParam"]}
    assert {"identifier", "name", "birthdate", "_id", "_lastUpdated"} <= names
    assert any(op["name"] == "validate" for op in patient["operation"])


def test_openapi_docs_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"]


def test_own_operations_are_documented_as_operation_definitions(client: TestClient) -> None:
    body = client.get("/fhir/metadata").json()
    patient = next(r for r in body["rest"][0]["resource"] if r["type"] == "Patient")
    everything = next(op for op in patient["operation"] if op["name"] == "everything")
    definition_id = everything["definition"].rsplit("/", 1)[1]
    definition = client.get(f"/fhir/OperationDefinition/{definition_id}").json()
    assert definition["resourceType"] == "OperationDefinition"
    assert definition["url"] == everything["definition"]
    assert definition["type"] is True and definition["instance"] is True
    assert "identifier" in {p["name"] for p in definition["parameter"]}
    bundle = next(r for r in body["rest"][0]["resource"] if r["type"] == "Bundle")
    assert any(op["name"] == "ingest-document" for op in bundle["operation"])
    assert client.get("/fhir/OperationDefinition/no-such-operation").status_code == 404
