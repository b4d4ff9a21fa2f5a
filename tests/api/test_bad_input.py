"""Bad input gets a 4xx OperationOutcome naming the problem, and nothing is stored."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import make_client
from tests.api.fixtures import patient


def _nothing_stored(client: TestClient) -> None:
    history = client.get("/fhir/_history").json()
    assert history.get("entry", []) == []


def _outcome(response, status: int, *needles: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    text = str(body)
    for needle in needles:
        assert needle in text, f"{needle!r} not in {text}"


def test_malformed_json(client: TestClient) -> None:
    response = client.post(
        "/fhir/Patient",
        content=b'{"resourceType": "Patient",',
        headers={"Content-Type": "application/fhir+json"},
    )
    _outcome(response, 400, "JSON")
    _nothing_stored(client)


def test_body_that_is_not_a_resource(client: TestClient) -> None:
    _outcome(client.post("/fhir/Patient", json=[1, 2, 3]), 400, "resourceType")
    _outcome(client.post("/fhir/Patient", json={"name": "x"}), 400, "resourceType")
    _nothing_stored(client)


def test_resource_type_not_matching_url(client: TestClient) -> None:
    _outcome(client.post("/fhir/Observation", json=patient()), 400, "Patient", "Observation")
    _nothing_stored(client)


def test_invalid_date(client: TestClient) -> None:
    _outcome(client.post("/fhir/Patient", json=patient(birthDate="2020-13-45")), 400, "birthDate")
    _nothing_stored(client)


def test_unknown_element(client: TestClient) -> None:
    _outcome(
        client.post("/fhir/Patient", json=patient(favouriteColour="blue")), 400, "favouriteColour"
    )
    _nothing_stored(client)


def test_wrong_type(client: TestClient) -> None:
    body = patient()
    body["name"] = [{"family": 42}]
    _outcome(client.post("/fhir/Patient", json=body), 400, "name[0].family")
    _nothing_stored(client)


def test_invalid_id_in_url_on_put(client: TestClient) -> None:
    _outcome(client.put("/fhir/Patient/bad id!", json=patient(id="bad id!")), 400, "id")
    _nothing_stored(client)


def test_deeply_nested_payload(client: TestClient) -> None:
    nested: dict = {"url": "urn:x", "valueString": "leaf"}
    for _ in range(200):
        nested = {"url": "urn:x", "extension": [nested]}
    _outcome(client.post("/fhir/Patient", json=patient(extension=[nested])), 400, "nest")
    _nothing_stored(client)


def test_oversized_payload(tmp_path) -> None:
    with make_client("sqlite", tmp_path, max_body_bytes=10_000) as small:
        big = patient(extension=[{"url": "urn:x", "valueString": "x" * 20_000}])
        _outcome(small.post("/fhir/Patient", json=big), 413, "10000")
        _nothing_stored(small)


def test_xml_body_is_415(client: TestClient) -> None:
    response = client.post(
        "/fhir/Patient", content=b"<Patient/>", headers={"Content-Type": "application/fhir+xml"}
    )
    _outcome(response, 415, "XML")


def test_xml_accept_is_406(client: TestClient) -> None:
    _outcome(client.get("/fhir/metadata", headers={"Accept": "application/fhir+xml"}), 406, "XML")
    _outcome(client.get("/fhir/metadata?_format=xml"), 406, "xml")


@pytest.mark.parametrize("fmt", ["json", "application/fhir+json", "application/json"])
def test_format_parameter_json(client: TestClient, fmt: str) -> None:
    assert client.get(f"/fhir/metadata?_format={fmt}").status_code == 200


def test_unknown_route_is_404_outcome(client: TestClient) -> None:
    _outcome(client.get("/nothing-here"), 404, "No such endpoint")


def test_method_not_allowed_is_405_outcome(client: TestClient) -> None:
    _outcome(client.post("/fhir/Patient/123", json=patient()), 405, "PUT")


def test_empty_body_is_400(client: TestClient) -> None:
    response = client.post(
        "/fhir/Patient", content=b"", headers={"Content-Type": "application/fhir+json"}
    )
    _outcome(response, 400, "body")


def test_internal_error_is_500_outcome_without_stack_trace(client: TestClient, monkeypatch) -> None:
    from fhir_server.rest import read as read_module

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(read_module, "read", explode)
    response = client.get("/fhir/Patient/p1")
    _outcome(response, 500, "logged")
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
