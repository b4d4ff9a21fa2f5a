"""delete and conditional delete."""

from __future__ import annotations

from fastapi.testclient import TestClient

from fhir_server.settings import Settings
from tests.api.fixtures import patient

ABHA = "identifier=https://healthid.ndhm.gov.in|22-7225-4829-5255"


def test_delete_twice_is_a_no_op(client: TestClient) -> None:
    client.put("/fhir/Patient/p1", json=patient(id="p1"))
    assert client.delete("/fhir/Patient/p1").status_code == 204
    assert client.delete("/fhir/Patient/p1").status_code == 204
    history = client.get("/fhir/Patient/p1/_history").json()
    assert history["total"] == 2


def test_delete_unknown_is_404(client: TestClient) -> None:
    assert client.delete("/fhir/Patient/nope").status_code == 404


def test_read_after_delete_is_410_and_old_version_still_readable(client: TestClient) -> None:
    client.put("/fhir/Patient/p1", json=patient(id="p1"))
    client.delete("/fhir/Patient/p1")
    gone = client.get("/fhir/Patient/p1")
    assert gone.status_code == 410
    assert gone.json()["issue"][0]["code"] == "deleted"
    assert client.get("/fhir/Patient/p1/_history/1").status_code == 200
    assert client.get("/fhir/Patient/p1/_history/2").status_code == 410


def test_delete_with_stale_if_match_is_412(client: TestClient) -> None:
    client.put("/fhir/Patient/p1", json=patient(id="p1"))
    assert client.delete("/fhir/Patient/p1", headers={"If-Match": 'W/"5"'}).status_code == 412
    assert client.get("/fhir/Patient/p1").status_code == 200


def test_conditional_delete_single_match(client: TestClient) -> None:
    client.put("/fhir/Patient/p1", json=patient(id="p1"))
    response = client.delete(f"/fhir/Patient?{ABHA}")
    assert response.status_code == 200
    assert client.get("/fhir/Patient/p1").status_code == 410


def test_conditional_delete_no_match_deletes_nothing(client: TestClient) -> None:
    client.put("/fhir/Patient/p1", json=patient(id="p1"))
    response = client.delete("/fhir/Patient?identifier=urn:none|0")
    assert response.status_code == 200
    assert "Deleted 0" in response.json()["issue"][0]["diagnostics"]
    assert client.get("/fhir/Patient/p1").status_code == 200


def test_conditional_delete_multiple_refused_by_default(client: TestClient) -> None:
    client.put("/fhir/Patient/p1", json=patient(id="p1"))
    client.put("/fhir/Patient/p2", json=patient(id="p2"))
    assert client.delete(f"/fhir/Patient?{ABHA}").status_code == 412
    assert client.get("/fhir/Patient/p1").status_code == 200


def test_conditional_delete_multiple_when_allowed(client: TestClient) -> None:
    ctx = client.app.state.ctx
    ctx.settings = Settings(**{**ctx.settings.model_dump(), "allow_multiple_delete": True})
    client.put("/fhir/Patient/p1", json=patient(id="p1"))
    client.put("/fhir/Patient/p2", json=patient(id="p2"))
    response = client.delete(f"/fhir/Patient?{ABHA}")
    assert response.status_code == 200
    assert client.get("/fhir/Patient/p1").status_code == 410
    assert client.get("/fhir/Patient/p2").status_code == 410


def test_conditional_delete_without_criteria_is_400(client: TestClient) -> None:
    assert client.delete("/fhir/Patient").status_code == 400
