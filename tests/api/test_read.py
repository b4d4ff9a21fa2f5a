"""read, vread, conditional read (If-None-Match, If-Modified-Since), _summary, _elements."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.fixtures import patient


def _create(client: TestClient) -> dict:
    return client.post(
        "/fhir/Patient",
        json=patient(
            text={
                "status": "generated",
                "div": '<div xmlns="http://www.w3.org/1999/xhtml">Asha Sharma</div>',
            }
        ),
    ).json()


def test_read_unknown_is_404_outcome(client: TestClient) -> None:
    response = client.get("/fhir/Patient/does-not-exist")
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


def test_read_invalid_id_is_400(client: TestClient) -> None:
    response = client.get("/fhir/Patient/" + "x" * 65)
    assert response.status_code == 400
    assert "id" in response.json()["issue"][0]["diagnostics"]


def test_unknown_resource_type_is_404(client: TestClient) -> None:
    response = client.get("/fhir/Patientt/1")
    assert response.status_code == 404
    assert "Patientt" in response.json()["issue"][0]["diagnostics"]


def test_vread_of_unknown_version_is_404(client: TestClient) -> None:
    created = _create(client)
    assert client.get(f"/fhir/Patient/{created['id']}/_history/9").status_code == 404
    assert client.get(f"/fhir/Patient/{created['id']}/_history/x").status_code == 400


def test_if_none_match_current_version_is_304(client: TestClient) -> None:
    created = _create(client)
    response = client.get(f"/fhir/Patient/{created['id']}", headers={"If-None-Match": 'W/"1"'})
    assert response.status_code == 304
    assert response.content == b""
    changed = client.get(f"/fhir/Patient/{created['id']}", headers={"If-None-Match": 'W/"0"'})
    assert changed.status_code == 200


def test_if_modified_since(client: TestClient) -> None:
    created = _create(client)
    url = f"/fhir/Patient/{created['id']}"
    later = client.get(url, headers={"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"})
    assert later.status_code == 304
    earlier = client.get(url, headers={"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"})
    assert earlier.status_code == 200


def test_summary_true_keeps_summary_elements_and_marks_subsetted(client: TestClient) -> None:
    created = _create(client)
    body = client.get(f"/fhir/Patient/{created['id']}?_summary=true").json()
    assert "text" not in body
    assert body["name"] and body["birthDate"]
    assert any(t["code"] == "SUBSETTED" for t in body["meta"]["tag"])


def test_summary_text_and_data(client: TestClient) -> None:
    created = _create(client)
    text = client.get(f"/fhir/Patient/{created['id']}?_summary=text").json()
    assert "text" in text and "name" not in text
    data = client.get(f"/fhir/Patient/{created['id']}?_summary=data").json()
    assert "text" not in data and "name" in data


def test_elements_returns_only_named_elements(client: TestClient) -> None:
    created = _create(client)
    body = client.get(f"/fhir/Patient/{created['id']}?_elements=gender,birthDate").json()
    assert body["gender"] == "female"
    assert "name" not in body and "identifier" not in body
    assert body["id"] == created["id"]


def test_bad_summary_value_is_400(client: TestClient) -> None:
    created = _create(client)
    assert client.get(f"/fhir/Patient/{created['id']}?_summary=maybe").status_code == 400


def test_head_read(client: TestClient) -> None:
    created = _create(client)
    response = client.head(f"/fhir/Patient/{created['id']}")
    assert response.status_code == 200
    assert response.headers["ETag"] == 'W/"1"'
