"""Runtime SearchParameters, `$reindex` in the background, and `_list`, over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.search_support import (
    assert_bad_request,
    bundle,
    create,
    found,
    ids_of,
    outcome_of,
    put,
)

BIRTH_PLACE = {
    "resourceType": "SearchParameter",
    "url": "https://fhir.example.in/SearchParameter/patient-birth-place",
    "name": "birth-place",
    "status": "active",
    "description": "City of birth",
    "code": "birth-place",
    "base": ["Patient"],
    "type": "string",
    "expression": (
        "Patient.extension.where(url='http://hl7.org/fhir/StructureDefinition/"
        "patient-birthPlace').value.city"
    ),
}


def _born_in(city: str) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "extension": [
            {
                "url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
                "valueAddress": {"city": city},
            }
        ],
    }


def _reindex(client: TestClient, path: str = "/fhir/$reindex") -> dict[str, Any]:
    """Start a reindex and poll its Task until it is done."""
    response = client.post(path, json={"resourceType": "Parameters"})
    assert response.status_code == 202, response.text
    status_url = response.headers["Content-Location"].removeprefix("http://testserver")
    assert status_url.startswith("/fhir/Task/")
    for _ in range(400):
        task = client.get(status_url).json()
        if task["status"] != "in-progress":
            break
        time.sleep(0.025)
    assert task["status"] == "completed", task
    return task


def _progress(task: dict[str, Any]) -> dict[str, int]:
    return {o["type"]["text"]: o["valueInteger"] for o in task["output"] if "valueInteger" in o}


def test_runtime_search_parameter_finds_old_resources_after_reindex(client: TestClient) -> None:
    delhi = create(client, _born_in("Delhi"))
    create(client, _born_in("Pune"))
    create(client, BIRTH_PLACE)
    # existing resources are not indexed yet: found only after $reindex
    assert found(client, "/fhir/Patient?birth-place=delhi") == set()
    task = _reindex(client, "/fhir/Patient/$reindex")
    assert _progress(task) == {"total": 2, "processed": 2}
    assert found(client, "/fhir/Patient?birth-place=delhi") == {delhi}


def test_resources_written_after_registration_are_indexed_at_once(client: TestClient) -> None:
    create(client, BIRTH_PLACE)
    pune = create(client, _born_in("Pune"))
    assert found(client, "/fhir/Patient?birth-place=pune") == {pune}
    assert found(client, "/fhir/Patient?birth-place:exact=Pune") == {pune}


def test_runtime_parameter_is_in_the_capability_statement(client: TestClient) -> None:
    create(client, BIRTH_PLACE)
    statement = client.get("/fhir/metadata").json()
    patient = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Patient")
    assert "birth-place" in {p["name"] for p in patient["searchParam"]}
    system_ops = {op["name"] for op in statement["rest"][0]["operation"]}
    assert "reindex" in system_ops


def test_retired_or_deleted_parameter_stops_being_searchable(client: TestClient) -> None:
    put(client, {**BIRTH_PLACE, "id": "birth-place"})
    assert outcome_of(bundle(client, "/fhir/Patient?birth-place=x")) is None
    put(client, {**BIRTH_PLACE, "id": "birth-place", "status": "retired"})
    assert "birth-place" in str(outcome_of(bundle(client, "/fhir/Patient?birth-place=x")))
    put(client, {**BIRTH_PLACE, "id": "birth-place"})
    assert outcome_of(bundle(client, "/fhir/Patient?birth-place=x")) is None
    assert client.delete("/fhir/SearchParameter/birth-place").status_code in (200, 204)
    assert "birth-place" in str(outcome_of(bundle(client, "/fhir/Patient?birth-place=x")))


def test_unusable_search_parameter_is_rejected(client: TestClient) -> None:
    bad = {**BIRTH_PLACE, "base": ["Spaceship"]}
    response = client.post("/fhir/SearchParameter", json=bad)
    # the required binding of SearchParameter.base (resource-types) refuses it first
    assert response.status_code == 422, response.text
    issue = response.json()["issue"][0]
    assert issue["code"] == "code-invalid"
    assert issue["expression"] == ["SearchParameter.base[0]"]
    assert "Spaceship" in issue["diagnostics"]


def test_parameter_stored_by_another_worker_is_picked_up(
    client_with: Callable[..., TestClient],
) -> None:
    worker_a = client_with()
    worker_b = client_with(share_store=True)
    create(worker_b, {"resourceType": "Patient"})  # b has started and looked already
    create(worker_a, BIRTH_PLACE)
    agra = create(worker_b, _born_in("Agra"))  # b indexes with a's parameter
    assert found(worker_b, "/fhir/Patient?birth-place=agra") == {agra}
    assert found(worker_a, "/fhir/Patient?birth-place=agra") == {agra}


def test_parameter_stored_before_start_up_is_loaded(
    client_with: Callable[..., TestClient],
) -> None:
    first = client_with()
    create(first, BIRTH_PLACE)
    later = client_with(share_store=True)
    agra = create(later, _born_in("Agra"))
    assert found(later, "/fhir/Patient?birth-place=agra") == {agra}


def test_search_during_reindex_warns_that_the_parameter_is_indexing(client: TestClient) -> None:
    create(client, _born_in("Delhi"))
    create(client, BIRTH_PLACE)
    jobs = client.app.state.ctx.reindex_jobs
    # hold the job before its first batch so the search surely sees it running
    gate = _hold_jobs(jobs)
    response = client.post("/fhir/Patient/$reindex")
    assert response.status_code == 202
    body = bundle(client, "/fhir/Patient?birth-place=delhi")
    outcome = outcome_of(body)
    assert outcome is not None, body
    text = str(outcome)
    assert "birth-place" in text and "reindexed" in text and "of 1" in text
    gate.set()
    jobs.wait()
    body = bundle(client, "/fhir/Patient?birth-place=delhi")
    assert outcome_of(body) is None and len(ids_of(body)) == 1


def _hold_jobs(jobs: Any) -> Any:
    import threading

    gate = threading.Event()
    flush = jobs._flush

    def held(job: Any, batch: list) -> None:
        gate.wait(10)
        flush(job, batch)

    jobs._flush = held
    return gate


def test_system_reindex_covers_every_type_with_resources(client: TestClient) -> None:
    create(client, _born_in("Delhi"))
    create(client, {"resourceType": "Observation", "status": "final", "code": {"text": "x"}})
    task = _reindex(client)
    assert _progress(task) == {"total": 2, "processed": 2}
    assert {i["valueString"] for i in task["input"]} == {"Patient", "Observation"}


def test_reindex_of_unknown_type_is_400(client: TestClient) -> None:
    assert_bad_request(client.post("/fhir/$reindex?type=Spaceship"), "Spaceship")


def test_list_parameter_finds_the_items_of_a_list(client: TestClient) -> None:
    a = create(client, {"resourceType": "Observation", "status": "final", "code": {"text": "a"}})
    b = create(client, {"resourceType": "Observation", "status": "final", "code": {"text": "b"}})
    create(client, {"resourceType": "Observation", "status": "final", "code": {"text": "c"}})
    patient = create(client, {"resourceType": "Patient"})
    put(
        client,
        {
            "resourceType": "List",
            "id": "watch",
            "status": "current",
            "mode": "working",
            "entry": [
                {"item": {"reference": f"Observation/{a}"}},
                {"item": {"reference": f"Observation/{b}"}},
                {"item": {"reference": f"Patient/{patient}"}},
            ],
        },
    )
    assert found(client, "/fhir/Observation?_list=watch") == {a, b}
    assert found(client, "/fhir/Patient?_list=watch") == {patient}
    assert found(client, "/fhir/Observation?_list=nothing") == set()
    assert found(client, "/fhir/Observation?_list=watch&code:text=a") == {a}


def test_system_list_search_matches_each_id_as_the_type_listed(client: TestClient) -> None:
    # the same id under two types: the List holds only the Patient
    put(client, {"resourceType": "Patient", "id": "dup"})
    put(client, {"resourceType": "Practitioner", "id": "dup"})
    put(client, {"resourceType": "Practitioner", "id": "doc"})
    put(
        client,
        {
            "resourceType": "List",
            "id": "mixed",
            "status": "current",
            "mode": "working",
            "entry": [
                {"item": {"reference": "Patient/dup"}},
                {"item": {"reference": "Practitioner/doc"}},
            ],
        },
    )
    body = client.get("/fhir?_list=mixed").json()
    keys = {(e["resource"]["resourceType"], e["resource"]["id"]) for e in body["entry"]}
    assert keys == {("Patient", "dup"), ("Practitioner", "doc")}
    only = client.get("/fhir?_list=mixed&_type=Practitioner").json()
    assert [e["resource"]["id"] for e in only["entry"]] == ["doc"]


def test_functional_list_is_not_supported(client: TestClient) -> None:
    response = client.get("/fhir/AllergyIntolerance?_list=$current-allergies")
    assert_bad_request(response, "_list")


def test_parameter_and_resources_in_one_transaction_bundle(client: TestClient) -> None:
    bundle_in = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": BIRTH_PLACE, "request": {"method": "POST", "url": "SearchParameter"}},
            {"resource": _born_in("Indore"), "request": {"method": "POST", "url": "Patient"}},
        ],
    }
    response = client.post("/fhir", json=bundle_in)
    assert response.status_code == 200, response.text
    assert len(found(client, "/fhir/Patient?birth-place=indore")) == 1


def test_a_reindex_left_by_a_dead_worker_is_marked_failed(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fhir_server.operations import reindex_jobs

    task = {
        "resourceType": "Task",
        "status": "in-progress",
        "intent": "order",
        "code": {
            "coding": [{"system": reindex_jobs.TASK_CODE_SYSTEM, "code": reindex_jobs.TASK_CODE}]
        },
        "input": [{"type": {"text": "type"}, "valueString": "Patient"}],
    }
    made = client.post("/fhir/Task", json=task)
    assert made.status_code == 201, made.text
    jobs = client.app.state.ctx.reindex_jobs
    assert [j.id for j in jobs._stored_running()] == [made.json()["id"]]  # alive: recent
    # as if its last heartbeat were long ago: no worker runs it any more
    monkeypatch.setattr(reindex_jobs, "ABANDONED_AFTER_SECONDS", -5.0)
    assert jobs._stored_running() == []
    stored = client.get(f"/fhir/Task/{made.json()['id']}").json()
    assert stored["status"] == "failed"
    assert "stopped" in stored["statusReason"]["text"]
