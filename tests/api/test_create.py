"""create and conditional create (POST [base]/[type])."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.fixtures import patient


def test_create_assigns_id_and_ignores_client_id(client: TestClient) -> None:
    response = client.post("/fhir/Patient", json=patient(id="client-chosen"))
    assert response.status_code == 201
    body = response.json()
    assert body["id"] != "client-chosen"
    assert body["meta"]["versionId"] == "1"
    assert body["meta"]["lastUpdated"].endswith("Z")
    assert response.headers["Content-Type"].startswith("application/fhir+json")


def test_create_keeps_client_json_as_sent(client: TestClient) -> None:
    sent = patient(extension=[{"url": "urn:x", "valueString": "राम कुमार"}])
    body = client.post("/fhir/Patient", json=sent).json()
    for key, value in sent.items():
        assert body[key] == value


def test_prefer_return_minimal_sends_no_body(client: TestClient) -> None:
    response = client.post("/fhir/Patient", json=patient(), headers={"Prefer": "return=minimal"})
    assert response.status_code == 201
    assert response.content == b""
    assert response.headers["Location"]


def test_prefer_return_operation_outcome(client: TestClient) -> None:
    response = client.post(
        "/fhir/Patient", json=patient(), headers={"Prefer": "return=OperationOutcome"}
    )
    assert response.status_code == 201
    assert response.json()["resourceType"] == "OperationOutcome"


def test_conditional_create_returns_existing_match(client: TestClient) -> None:
    condition = {"If-None-Exist": "identifier=https://healthid.ndhm.gov.in|22-7225-4829-5255"}
    first = client.post("/fhir/Patient", json=patient(), headers=condition)
    assert first.status_code == 201
    second = client.post("/fhir/Patient", json=patient(), headers=condition)
    assert second.status_code == 200
    assert second.json()["id"] == first.json()["id"]
    assert client.get("/fhir/Patient/" + first.json()["id"] + "/_history").json()["total"] == 1


def test_conditional_create_by_id_criteria(client: TestClient) -> None:
    existing = client.post("/fhir/Patient", json=patient()).json()
    again = client.post(
        "/fhir/Patient", json=patient(), headers={"If-None-Exist": f"_id={existing['id']}"}
    )
    assert again.status_code == 200
    assert again.json()["id"] == existing["id"]


def test_conditional_create_with_several_matches_is_412(client: TestClient) -> None:
    client.post("/fhir/Patient", json=patient())
    client.post("/fhir/Patient", json=patient())
    response = client.post(
        "/fhir/Patient",
        json=patient(),
        headers={"If-None-Exist": "identifier=https://healthid.ndhm.gov.in|22-7225-4829-5255"},
    )
    assert response.status_code == 412
    assert "match 2" in response.json()["issue"][0]["diagnostics"]


def test_conditional_create_with_unknown_parameter_is_400(client: TestClient) -> None:
    response = client.post(
        "/fhir/Patient", json=patient(), headers={"If-None-Exist": "no-such-param=1"}
    )
    assert response.status_code == 400
    assert "no-such-param" in response.json()["issue"][0]["diagnostics"]
