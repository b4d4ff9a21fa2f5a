"""update, update-as-create, no-op detection, conditional update."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.fixtures import patient

ABHA = "identifier=https://healthid.ndhm.gov.in|22-7225-4829-5255"


def test_update_as_create_with_client_id(client: TestClient) -> None:
    response = client.put("/fhir/Patient/pt-delhi-1", json=patient(id="pt-delhi-1"))
    assert response.status_code == 201
    assert response.headers["Location"].endswith("/fhir/Patient/pt-delhi-1/_history/1")


def test_update_with_identical_content_makes_no_new_version(client: TestClient) -> None:
    client.put("/fhir/Patient/p1", json=patient(id="p1"))
    again = client.put("/fhir/Patient/p1", json=patient(id="p1"))
    assert again.status_code == 200
    assert again.headers["ETag"] == 'W/"1"'
    assert client.get("/fhir/Patient/p1/_history").json()["total"] == 1


def test_update_id_mismatch_is_400(client: TestClient) -> None:
    response = client.put("/fhir/Patient/p1", json=patient(id="p2"))
    assert response.status_code == 400
    assert "p2" in response.json()["issue"][0]["diagnostics"]
    assert client.get("/fhir/Patient/p1").status_code == 404


def test_update_without_id_in_body_is_400(client: TestClient) -> None:
    assert client.put("/fhir/Patient/p1", json=patient()).status_code == 400


def test_update_with_wrong_resource_type_is_400(client: TestClient) -> None:
    body = patient(id="p1")
    response = client.put("/fhir/Observation/p1", json=body)
    assert response.status_code == 400
    assert "Patient" in response.json()["issue"][0]["diagnostics"]


def test_update_after_delete_recreates_with_next_version(client: TestClient) -> None:
    client.put("/fhir/Patient/p1", json=patient(id="p1"))
    client.delete("/fhir/Patient/p1")
    response = client.put("/fhir/Patient/p1", json=patient(id="p1"))
    assert response.status_code == 201
    assert response.headers["ETag"] == 'W/"3"'


def test_if_match_on_missing_resource_is_412(client: TestClient) -> None:
    response = client.put("/fhir/Patient/p9", json=patient(id="p9"), headers={"If-Match": 'W/"1"'})
    assert response.status_code == 412


def test_malformed_if_match_is_400(client: TestClient) -> None:
    client.put("/fhir/Patient/p1", json=patient(id="p1"))
    response = client.put("/fhir/Patient/p1", json=patient(id="p1"), headers={"If-Match": "abc"})
    assert response.status_code == 400


def test_conditional_update_creates_then_updates_the_match(client: TestClient) -> None:
    created = client.put(f"/fhir/Patient?{ABHA}", json=patient())
    assert created.status_code == 201
    id_ = created.json()["id"]
    updated = client.put(f"/fhir/Patient?{ABHA}", json=patient(gender="male"))
    assert updated.status_code == 200
    assert updated.json()["id"] == id_
    assert updated.json()["gender"] == "male"


def test_conditional_update_with_several_matches_is_412(client: TestClient) -> None:
    client.post("/fhir/Patient", json=patient())
    client.post("/fhir/Patient", json=patient())
    assert client.put(f"/fhir/Patient?{ABHA}", json=patient()).status_code == 412


def test_conditional_update_body_id_must_match_the_match(client: TestClient) -> None:
    client.post("/fhir/Patient", json=patient())
    response = client.put(f"/fhir/Patient?{ABHA}", json=patient(id="other"))
    assert response.status_code == 400
