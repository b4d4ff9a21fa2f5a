"""$export kick-off, status and file requests a client gets wrong: OperationOutcomes."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.bulk_export.conftest import ASYNC, export, network


def _diagnostics(response: Any) -> str:
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    return body["issue"][0]["diagnostics"]


def test_kick_off_without_prefer_respond_async_is_400(export_client: TestClient) -> None:
    response = export_client.get("/fhir/$export")
    assert response.status_code == 400
    assert "respond-async" in _diagnostics(response)


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"_type": "Observation,Unicorn"}, "Unicorn"),
        ({"_since": "2024-01-01"}, "_since"),
        ({"_since": "yesterday"}, "_since"),
        ({"_since": "2024-01-01T10:00:00"}, "_since"),  # an instant needs a zone
        ({"_outputFormat": "application/fhir+json"}, "_outputFormat"),
        ({"_outputFormat": "text/csv"}, "_outputFormat"),
        ({"_count": "10"}, "_count"),
        ({"_elements": "Spaceship.code"}, "_elements"),
        ({"_elements": "code-value"}, "_elements"),
        ({"_typeFilter": "code=1234"}, "_typeFilter"),
        ({"_typeFilter": "Observation?colour=red"}, "colour"),
        ({"_typeFilter": "Observation?code=1&_sort=date"}, "_sort"),
        ({"_type": "Patient", "_typeFilter": "Observation?code=1"}, "Observation"),
    ],
)
def test_bad_kick_off_parameters_are_400(
    export_client: TestClient, params: dict[str, str], named: str
) -> None:
    response = export_client.get("/fhir/$export", params=params, headers=ASYNC)
    assert response.status_code == 400, response.text
    assert named in _diagnostics(response)


def test_patient_export_of_a_type_outside_the_compartment_is_400(
    export_client: TestClient,
) -> None:
    response = export_client.get(
        "/fhir/Patient/$export", params={"_type": "Organization"}, headers=ASYNC
    )
    assert response.status_code == 400
    assert "Organization" in _diagnostics(response)


@pytest.mark.parametrize("path", ["/fhir/Observation/$export", "/fhir/Patient/p1/$export"])
def test_export_on_other_levels_is_400(export_client: TestClient, path: str) -> None:
    assert export_client.get(path, headers=ASYNC).status_code == 400


def test_post_body_must_be_parameters(export_client: TestClient) -> None:
    response = export_client.post("/fhir/$export", json={"resourceType": "Patient"}, headers=ASYNC)
    assert response.status_code == 400
    assert "Parameters" in _diagnostics(response)


@pytest.mark.parametrize(
    "job",
    ["0123456789abcdef0123456789abcdef", "0123456789ABCDEF0123456789ABCDEF", "not-a-job", "%2e%2e"],
)
def test_unknown_job_is_404(export_client: TestClient, job: str) -> None:
    assert export_client.get(f"/fhir/bulk-status/{job}").status_code == 404
    assert export_client.delete(f"/fhir/bulk-status/{job}").status_code == 404
    assert export_client.get(f"/fhir/bulk-files/{job}/Patient-1.ndjson").status_code == 404


@pytest.mark.parametrize(
    "name",
    [
        "state.json",
        "manifest.json",
        "..%2Fstate.json",
        "%2e%2e",
        "..%2F..%2F..%2Fetc%2Fpasswd",
        "Patient-1.ndjson.part",
        "Patient-9.ndjson",
    ],
)
def test_bulk_files_serve_only_listed_ndjson_files(export_client: TestClient, name: str) -> None:
    network(export_client)
    manifest = export(export_client, _type="Patient")
    job = manifest["output"][0]["url"].split("/")[-2]
    response = export_client.get(f"/fhir/bulk-files/{job}/{name}")
    assert response.status_code == 404
    assert b"transactionTime" not in response.content and b"root:" not in response.content
