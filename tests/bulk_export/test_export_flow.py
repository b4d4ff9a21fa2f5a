"""$export over HTTP, the whole asynchronous flow, on every adapter."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from fhir_server.instants import fhir_instant, now_utc
from tests.bulk_export.conftest import (
    ASYNC,
    LOINC,
    download,
    export,
    ids,
    kick_off,
    network,
    put,
    wait_for_manifest,
)


def _search_total(client: TestClient, type_: str) -> int:
    response = client.get(f"/fhir/{type_}", params={"_summary": "count"})
    assert response.status_code == 200, response.text
    return response.json()["total"]


def test_system_export_matches_search_totals_and_is_deleted(export_client: TestClient) -> None:
    client = export_client
    network(client)
    status_url = kick_off(client)
    assert "/fhir/bulk-status/" in status_url
    response = wait_for_manifest(client, status_url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    manifest = response.json()
    assert manifest["request"].endswith("/fhir/$export")
    assert manifest["requiresAccessToken"] is False
    assert manifest["error"] == []
    assert manifest["transactionTime"].endswith("Z")
    found = download(client, manifest)
    assert set(found) == {"Encounter", "Group", "Observation", "Organization", "Patient"}
    for type_, resources in found.items():
        assert len(resources) == _search_total(client, type_), type_
    # served bytes, not re-serialised: a line is the resource as read
    read = client.get("/fhir/Patient/p1").json()
    assert next(r for r in found["Patient"] if r["id"] == "p1") == read

    file_url = manifest["output"][0]["url"]
    assert client.delete(status_url).status_code == 202
    assert client.get(status_url).status_code == 404
    assert client.get(file_url).status_code == 404
    assert client.delete(status_url).status_code == 404


def test_post_kick_off_with_parameters(export_client: TestClient) -> None:
    network(export_client)
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "_type", "valueString": "Patient,Organization"},
            {"name": "_outputFormat", "valueString": "application/fhir+ndjson"},
        ],
    }
    response = export_client.post("/fhir/$export", json=body, headers=ASYNC)
    assert response.status_code == 202, response.text
    manifest = wait_for_manifest(export_client, response.headers["Content-Location"]).json()
    assert {o["type"]: o["count"] for o in manifest["output"]} == {"Organization": 1, "Patient": 3}


def test_type_since_and_type_filter(export_client: TestClient) -> None:
    client = export_client
    network(client)
    found = download(client, export(client, _type="Patient,Encounter"))
    assert set(found) == {"Patient", "Encounter"}

    time.sleep(0.01)
    since = fhir_instant(now_utc())
    time.sleep(0.01)
    changed = client.get("/fhir/Patient/p2").json()
    put(client, {**changed, "gender": "male"})
    found = download(client, export(client, _since=since))
    assert ids(found) == {"Patient/p2"}

    hba1c = f"Observation?code={LOINC}|4548-4"
    found = download(client, export(client, _type="Observation", _typeFilter=hba1c))
    assert ids(found) == {"Observation/hba1c-p1", "Observation/hba1c-p2", "Observation/hba1c-p3"}
    # two filters for one type are alternatives; types without a filter export whole
    either = f"{hba1c},Observation?code={LOINC}|2339-0&subject=Patient/p1"
    found = download(client, export(client, _type="Observation,Organization", _typeFilter=either))
    assert ids(found) == {
        "Observation/hba1c-p1",
        "Observation/hba1c-p2",
        "Observation/hba1c-p3",
        "Observation/glucose-p1",
        "Organization/org",
    }


def test_patient_export_holds_only_compartment_resources(export_client: TestClient) -> None:
    network(export_client)
    found = download(export_client, export(export_client, "/fhir/Patient/$export"))
    assert "Organization" not in found  # not a Patient compartment type
    assert ids({"Group": found["Group"]}) == {"Group/diabetes-camp"}  # Group.member is
    assert len(found["Patient"]) == 3
    assert len(found["Observation"]) == 6
    assert len(found["Encounter"]) == 3


def test_group_export_holds_its_members_compartments(export_client: TestClient) -> None:
    network(export_client)
    manifest = export(
        export_client, "/fhir/Group/diabetes-camp/$export", _type="Patient,Observation"
    )
    found = download(export_client, manifest)
    assert ids(found) == {
        "Patient/p1",
        "Patient/p2",
        "Observation/hba1c-p1",
        "Observation/glucose-p1",
        "Observation/hba1c-p2",
        "Observation/glucose-p2",
    }
    assert manifest["request"].endswith(
        "/fhir/Group/diabetes-camp/$export?_type=Patient%2CObservation"
    )


def test_patient_parameter_limits_patient_and_group_export(export_client: TestClient) -> None:
    network(export_client)
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "_type", "valueString": "Patient,Observation"},
            {"name": "patient", "valueReference": {"reference": "Patient/p3"}},
        ],
    }
    response = export_client.post("/fhir/Patient/$export", json=body, headers=ASYNC)
    assert response.status_code == 202, response.text
    found = download(
        export_client,
        wait_for_manifest(export_client, response.headers["Content-Location"]).json(),
    )
    assert ids(found) == {"Patient/p3", "Observation/hba1c-p3", "Observation/glucose-p3"}
    # in a Group: the named patients among its members (p3 is not one)
    body["parameter"][1] = {"name": "patient", "valueReference": {"reference": "Patient/p1"}}
    response = export_client.post("/fhir/Group/diabetes-camp/$export", json=body, headers=ASYNC)
    found = download(
        export_client,
        wait_for_manifest(export_client, response.headers["Content-Location"]).json(),
    )
    assert ids(found) == {"Patient/p1", "Observation/hba1c-p1", "Observation/glucose-p1"}
    system = export_client.post("/fhir/$export", json=body, headers=ASYNC)
    assert system.status_code == 400 and "patient" in system.text
    bad = {"resourceType": "Parameters", "parameter": [{"name": "patient", "valueString": "x"}]}
    assert export_client.post("/fhir/Patient/$export", json=bad, headers=ASYNC).status_code == 400


def test_elements_keep_the_named_and_mandatory_elements(export_client: TestClient) -> None:
    network(export_client)
    manifest = export(
        export_client, _type="Patient,Observation", _elements="Observation.code,gender"
    )
    found = download(export_client, manifest)
    observation = found["Observation"][0]
    assert {"resourceType", "id", "meta", "code", "status"} <= set(observation)
    assert "valueQuantity" not in observation and "subject" not in observation
    assert "SUBSETTED" in {t["code"] for t in observation["meta"]["tag"]}
    patient = found["Patient"][0]
    assert "gender" in patient and "name" not in patient  # `gender` applies to every type


def test_unknown_group_is_404(export_client: TestClient) -> None:
    response = export_client.get("/fhir/Group/nobody/$export", headers=ASYNC)
    assert response.status_code == 404
    assert "Group/nobody" in response.json()["issue"][0]["diagnostics"]


def test_large_type_is_split_into_several_files(tmp_path, export_client: TestClient) -> None:
    export_client.app.state.ctx.export_jobs.settings = (
        export_client.app.state.ctx.settings.model_copy(update={"export_file_max_resources": 2})
    )
    network(export_client)
    manifest = export(export_client, _type="Observation")
    assert [(o["url"].rsplit("/", 1)[1], o["count"]) for o in manifest["output"]] == [
        ("Observation-1.ndjson", 2),
        ("Observation-2.ndjson", 2),
        ("Observation-3.ndjson", 2),
    ]
    assert len(ids(download(export_client, manifest))) == 6


def test_export_appears_in_capability_statement(export_client: TestClient) -> None:
    statement = export_client.get("/fhir/metadata").json()
    names = [op["name"] for op in statement["rest"][0].get("operation", [])]
    assert "export" in names


def test_type_filter_list_splits_only_before_a_type(export_client: TestClient) -> None:
    """`a,b` inside one search stays an OR of codes; `,Patient?...` starts a new filter."""
    network(export_client)
    filters = f"Observation?code={LOINC}|4548-4,{LOINC}|2339-0&subject=Patient/p3,Patient?_id=p1"
    found = download(
        export_client, export(export_client, _type="Observation,Patient", _typeFilter=filters)
    )
    assert ids(found) == {"Observation/hba1c-p3", "Observation/glucose-p3", "Patient/p1"}
