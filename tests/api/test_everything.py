"""Patient/$everything by id and, across facilities, by ABHA health ID."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.fixtures import encounter, medication_request, observation, patient

NDHM = "https://healthid.ndhm.gov.in"
ABDM = "https://healthid.abdm.gov.in"


def _put(client: TestClient, resource: dict[str, Any]) -> None:
    response = client.put(f"/fhir/{resource['resourceType']}/{resource['id']}", json=resource)
    assert response.status_code in (200, 201), response.text


def _network(client: TestClient) -> None:
    """Two facilities keep their own Patient for one person (same ABHA, two systems)."""
    _put(client, {"resourceType": "Organization", "id": "org-a", "name": "Lok Nayak Hospital"})
    _put(client, {"resourceType": "Organization", "id": "org-b", "name": "AAM Dwarka"})
    _put(client, {"resourceType": "Practitioner", "id": "doc", "name": [{"family": "Iyer"}]})
    a = patient(id="pa", managingOrganization={"reference": "Organization/org-a"})
    b = patient(id="pb", managingOrganization={"reference": "Organization/org-b"})
    b["identifier"] = [{"system": ABDM, "value": "22722548295255"}]
    other = patient(id="px", family="Kumar")
    other["identifier"] = [{"system": NDHM, "value": "91-4567-1234-8890"}]
    for p in (a, b, other):
        _put(client, p)
    enc = {
        **encounter("pa"),
        "id": "enc-a",
        "participant": [{"individual": {"reference": "Practitioner/doc"}}],
        "serviceProvider": {"reference": "Organization/org-a"},
    }
    _put(client, enc)
    _put(client, {**observation("pb"), "id": "obs-b"})
    _put(client, {**medication_request("pb"), "id": "med-b"})
    _put(client, {**observation("px"), "id": "obs-x"})


def _ids(bundle: dict[str, Any], mode: str | None = None) -> set[str]:
    return {
        f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in bundle.get("entry", [])
        if mode is None or e["search"]["mode"] == mode
    }


def test_everything_by_id_returns_compartment_and_referenced(client: TestClient) -> None:
    _network(client)
    body = client.get("/fhir/Patient/pa/$everything").json()
    assert _ids(body, "match") == {"Patient/pa", "Encounter/enc-a"}
    assert {"Practitioner/doc", "Organization/org-a"} <= _ids(body, "include")
    assert body["total"] == 2


def test_everything_by_abha_spans_facilities_and_systems(client: TestClient) -> None:
    _network(client)
    for query in (
        f"{NDHM}|22-7225-4829-5255",
        f"{ABDM}|22-7225-4829-5255",
        f"{NDHM}|22722548295255",
    ):
        body = client.get("/fhir/Patient/$everything", params={"identifier": query}).json()
        matches = _ids(body, "match")
        assert {
            "Patient/pa",
            "Patient/pb",
            "Encounter/enc-a",
            "Observation/obs-b",
            "MedicationRequest/med-b",
        } == matches, query
        assert "Observation/obs-x" not in matches


def test_everything_follows_patient_link(client: TestClient) -> None:
    _network(client)
    linked = patient(id="pl", family="Sharma")
    linked["identifier"] = [{"system": "urn:mrn:gtb", "value": "GTB-1"}]
    linked["link"] = [{"other": {"reference": "Patient/pa"}, "type": "seealso"}]
    _put(client, linked)
    body = client.get(
        "/fhir/Patient/$everything", params={"identifier": "urn:mrn:gtb|GTB-1"}
    ).json()
    assert {"Patient/pl", "Patient/pa", "Encounter/enc-a"} <= _ids(body, "match")


def test_everything_pages_without_duplicates(client: TestClient) -> None:
    _network(client)
    url: str | None = "/fhir/Patient/$everything?identifier=" + f"{NDHM}|22-7225-4829-5255&_count=2"
    seen: list[str] = []
    while url:
        body = client.get(url).json()
        seen += sorted(_ids(body, "match"))
        url = next((link["url"] for link in body["link"] if link["relation"] == "next"), None)
        url = url.replace("http://testserver", "") if url else None
    assert len(seen) == len(set(seen)) == 5


def test_everything_type_and_since_filters(client: TestClient) -> None:
    _network(client)
    body = client.get("/fhir/Patient/pb/$everything?_type=Observation").json()
    assert _ids(body, "match") == {"Observation/obs-b"}
    future = client.get("/fhir/Patient/pb/$everything?_since=2100-01-01").json()
    assert _ids(future, "match") == set()


def test_everything_start_end_window_keeps_undated(client: TestClient) -> None:
    _network(client)
    body = client.get("/fhir/Patient/pa/$everything?start=2030-01-01").json()
    # the encounter (2026) is outside; the Patient has no care date and stays
    assert _ids(body, "match") == {"Patient/pa"}


def test_everything_errors(client: TestClient) -> None:
    _network(client)
    assert client.get("/fhir/Patient/nobody/$everything").status_code == 404
    assert client.get("/fhir/Patient/$everything").status_code == 400
    unknown = client.get(
        "/fhir/Patient/$everything", params={"identifier": f"{NDHM}|11-1111-1111-1111"}
    )
    assert unknown.status_code == 404
    assert client.get("/fhir/Patient/pa/$everything?_type=Organization").status_code == 400
    assert client.get("/fhir/Observation/obs-b/$everything").status_code == 400
