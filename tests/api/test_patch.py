"""patch with JSON Patch and FHIRPath Patch, and conditional patch."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.fixtures import patient

JSON_PATCH = {"Content-Type": "application/json-patch+json"}


def test_json_patch_replaces_birth_date(client: TestClient) -> None:
    client.put("/fhir/Patient/p1", json=patient(id="p1"))
    ops = [{"op": "replace", "path": "/birthDate", "value": "1986-01-01"}]
    response = client.patch("/fhir/Patient/p1", json=ops, headers=JSON_PATCH)
    assert response.status_code == 200, response.text
    assert response.json()["birthDate"] == "1986-01-01"
    assert response.headers["ETag"] == 'W/"2"'
    history = client.get("/fhir/Patient/p1/_history").json()
    assert history["entry"][0]["request"]["method"] == "PATCH"


def test_fhirpath_patch_replaces_gender(client: TestClient) -> None:
    client.put("/fhir/Patient/p1", json=patient(id="p1"))
    parameters = {
        "resourceType": "Parameters",
        "parameter": [
            {
                "name": "operation",
                "part": [
                    {"name": "type", "valueCode": "replace"},
                    {"name": "path", "valueString": "Patient.gender"},
                    {"name": "value", "valueCode": "other"},
                ],
            }
        ],
    }
    response = client.patch(
        "/fhir/Patient/p1", json=parameters, headers={"Content-Type": "application/fhir+json"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["gender"] == "other"


def test_patch_that_makes_resource_invalid_is_rejected_and_not_stored(client: TestClient) -> None:
    client.put("/fhir/Patient/p1", json=patient(id="p1"))
    ops = [{"op": "replace", "path": "/birthDate", "value": "not-a-date"}]
    response = client.patch("/fhir/Patient/p1", json=ops, headers=JSON_PATCH)
    assert response.status_code == 400
    assert "birthDate" in str(response.json())
    assert client.get("/fhir/Patient/p1").json()["birthDate"] == "1985-04-12"


def test_patch_changing_id_is_refused(client: TestClient) -> None:
    client.put("/fhir/Patient/p1", json=patient(id="p1"))
    ops = [{"op": "replace", "path": "/id", "value": "p2"}]
    assert client.patch("/fhir/Patient/p1", json=ops, headers=JSON_PATCH).status_code in (400, 422)


def test_patch_with_stale_if_match_is_412(client: TestClient) -> None:
    client.put("/fhir/Patient/p1", json=patient(id="p1"))
    ops = [{"op": "replace", "path": "/gender", "value": "male"}]
    response = client.patch(
        "/fhir/Patient/p1", json=ops, headers={**JSON_PATCH, "If-Match": 'W/"3"'}
    )
    assert response.status_code == 412


def test_patch_unknown_resource_is_404(client: TestClient) -> None:
    ops = [{"op": "replace", "path": "/gender", "value": "male"}]
    assert client.patch("/fhir/Patient/nope", json=ops, headers=JSON_PATCH).status_code == 404


def test_patch_with_unsupported_content_type_is_415(client: TestClient) -> None:
    client.put("/fhir/Patient/p1", json=patient(id="p1"))
    response = client.patch(
        "/fhir/Patient/p1", content=b"<x/>", headers={"Content-Type": "application/xml"}
    )
    assert response.status_code == 415


def test_conditional_patch(client: TestClient) -> None:
    client.put("/fhir/Patient/p1", json=patient(id="p1"))
    ops = [{"op": "replace", "path": "/gender", "value": "male"}]
    response = client.patch(
        "/fhir/Patient?identifier=https://healthid.ndhm.gov.in|22-7225-4829-5255",
        json=ops,
        headers=JSON_PATCH,
    )
    assert response.status_code == 200
    assert client.get("/fhir/Patient/p1").json()["gender"] == "male"
