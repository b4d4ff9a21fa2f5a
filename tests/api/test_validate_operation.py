"""$validate at type and instance level: an OperationOutcome, nothing stored."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.fixtures import patient


def test_valid_resource_gives_information_outcome(client: TestClient) -> None:
    response = client.post("/fhir/Patient/$validate", json=patient())
    assert response.status_code == 200
    issues = response.json()["issue"]
    assert all(i["severity"] in ("information", "warning") for i in issues)
    assert client.get("/fhir/_history").json().get("entry", []) == []


def test_invalid_resource_reports_paths(client: TestClient) -> None:
    body = patient(birthDate="20-20-20")
    response = client.post("/fhir/Patient/$validate", json=body)
    assert response.status_code == 200
    issues = response.json()["issue"]
    assert any(i["severity"] == "error" and "birthDate" in str(i) for i in issues)
    assert client.get("/fhir/_history").json().get("entry", []) == []


def test_parameters_form_with_mode_and_profile(client: TestClient) -> None:
    params = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "resource", "resource": patient()},
            {"name": "mode", "valueCode": "create"},
            {
                "name": "profile",
                "valueUri": "https://nrces.in/ndhm/fhir/r4/StructureDefinition/Patient",
            },
        ],
    }
    response = client.post("/fhir/Patient/$validate", json=params)
    assert response.status_code == 200
    assert "nrces.in" in response.text


def test_instance_validate_of_stored_resource(client: TestClient) -> None:
    client.put("/fhir/Patient/p1", json=patient(id="p1"))
    response = client.get("/fhir/Patient/p1/$validate")
    assert response.status_code == 200
    delete_mode = client.post(
        "/fhir/Patient/p1/$validate",
        json={"resourceType": "Parameters", "parameter": [{"name": "mode", "valueCode": "delete"}]},
    )
    assert delete_mode.status_code == 200


def test_unknown_operation_is_404(client: TestClient) -> None:
    assert client.post("/fhir/Patient/$nope", json={}).status_code == 404


def test_validate_reports_broken_bindings(client: TestClient) -> None:
    bad = {
        "resourceType": "Encounter",
        "status": "finished",
        # v3 ActCode has no such code: Encounter.class is an extensible binding
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "SPACE"},
        "identifier": [{"use": "sometimes", "value": "1"}],  # identifier-use is required
    }
    outcome = client.post("/fhir/Encounter/$validate", json=bad).json()
    found = {(i["severity"], tuple(i.get("expression", []))) for i in outcome["issue"]}
    assert ("warning", ("Encounter.class",)) in found
    assert any(s == "error" and "Encounter.identifier[0].use" in e[0] for s, e in found if e)
    stored = client.get("/fhir/Encounter?_summary=count").json()["total"]
    assert stored == 0  # $validate stores nothing
