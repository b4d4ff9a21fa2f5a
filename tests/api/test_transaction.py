"""batch and transaction Bundles (POST [base])."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import require_transactions
from tests.api.fixtures import observation, patient

HPR = "https://doctor.ndhm.gov.in"


def _tx(entries: list[dict[str, Any]], kind: str = "transaction") -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


def _post(resource: dict[str, Any], full_url: str | None = None, **request: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": resource,
        "request": {"method": "POST", "url": resource["resourceType"], **request},
    }
    if full_url:
        entry["fullUrl"] = full_url
    return entry


def _count(client: TestClient, type_: str) -> int:
    return client.get(f"/fhir/{type_}?_summary=count").json()["total"]


def test_transaction_resolves_urn_uuid_references_everywhere(client: TestClient) -> None:
    obs = observation("ignored")
    obs["subject"] = {"reference": "urn:uuid:11111111-1111-4111-8111-111111111111"}
    obs["extension"] = [
        {
            "url": "urn:test:also",
            "valueReference": {"reference": "urn:uuid:11111111-1111-4111-8111-111111111111"},
        }
    ]
    obs["contained"] = [
        {
            "resourceType": "Provenance",
            "id": "p",
            "recorded": "2026-11-02T10:00:00Z",
            "target": [{"reference": "urn:uuid:11111111-1111-4111-8111-111111111111"}],
            "agent": [{"who": {"display": "lab"}}],
        }
    ]
    bundle = _tx(
        [
            _post(obs, "urn:uuid:22222222-2222-4222-8222-222222222222"),
            _post(patient(), "urn:uuid:11111111-1111-4111-8111-111111111111"),
        ]
    )
    response = client.post("/fhir", json=bundle)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["type"] == "transaction-response"
    assert [e["response"]["status"] for e in body["entry"]] == ["201 Created", "201 Created"]
    patient_location = body["entry"][1]["response"]["location"]
    patient_ref = "/".join(patient_location.split("/")[:2])
    obs_id = body["entry"][0]["response"]["location"].split("/")[1]
    stored = client.get(f"/fhir/Observation/{obs_id}").json()
    assert stored["subject"]["reference"] == patient_ref
    assert stored["extension"][0]["valueReference"]["reference"] == patient_ref
    assert stored["contained"][0]["target"][0]["reference"] == patient_ref


def test_transaction_rolls_back_when_the_last_entry_fails(client: TestClient) -> None:
    bad = patient(birthDate="not-a-date")
    bundle = _tx([_post(patient()), _post(observation("x")), _post(bad)])
    response = client.post("/fhir", json=bundle)
    assert response.status_code == 400
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "Bundle.entry[2]" in outcome["issue"][0]["diagnostics"]
    assert _count(client, "Patient") == 0
    assert _count(client, "Observation") == 0


def test_transaction_rolls_back_on_a_store_level_failure(client: TestClient) -> None:
    require_transactions(client)
    client.put("/fhir/Patient/p1", json=patient(id="p1"))
    bundle = _tx(
        [
            _post(patient(given="New")),
            {
                "resource": patient(id="p1", given="Changed"),
                "request": {"method": "PUT", "url": "Patient/p1", "ifMatch": 'W/"9"'},
            },
        ]
    )
    response = client.post("/fhir", json=bundle)
    assert response.status_code == 412
    assert "Bundle.entry[1]" in response.json()["issue"][0]["diagnostics"]
    assert _count(client, "Patient") == 1
    assert client.get("/fhir/Patient/p1").json()["name"][0]["given"] == ["Asha"]


def test_conditional_reference_resolved_inside_transaction(client: TestClient) -> None:
    client.put(
        "/fhir/Practitioner/doc1",
        json={
            "resourceType": "Practitioner",
            "id": "doc1",
            "identifier": [{"system": HPR, "value": "71-2345-6789-0123"}],
        },
    )
    enc = {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "participant": [
            {"individual": {"reference": f"Practitioner?identifier={HPR}|71-2345-6789-0123"}}
        ],
    }
    response = client.post("/fhir", json=_tx([_post(enc)]))
    assert response.status_code == 200, response.text
    location = response.json()["entry"][0]["response"]["location"]
    stored = client.get("/fhir/" + "/".join(location.split("/")[:2])).json()
    assert stored["participant"][0]["individual"]["reference"] == "Practitioner/doc1"


def test_conditional_reference_matching_nothing_is_412(client: TestClient) -> None:
    enc = {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": "Patient?identifier=urn:none|0"},
    }
    response = client.post("/fhir", json=_tx([_post(enc)]))
    assert response.status_code == 412
    assert "Bundle.entry[0]" in response.json()["issue"][0]["diagnostics"]


def test_conditional_reference_matching_several_is_412(client: TestClient) -> None:
    client.post("/fhir/Patient", json=patient())
    client.post("/fhir/Patient", json=patient())
    obs = observation("x")
    obs["subject"] = {
        "reference": "Patient?identifier=https://healthid.ndhm.gov.in|22-7225-4829-5255"
    }
    response = client.post("/fhir", json=_tx([_post(obs)]))
    assert response.status_code == 412
    assert _count(client, "Observation") == 0


def test_reference_to_missing_urn_uuid_is_404(client: TestClient) -> None:
    obs = observation("x")
    obs["subject"] = {"reference": "urn:uuid:99999999-9999-4999-8999-999999999999"}
    response = client.post("/fhir", json=_tx([_post(obs)]))
    assert response.status_code == 404
    assert "urn:uuid:9999" in response.json()["issue"][0]["diagnostics"]


def test_if_none_exist_in_transaction_reuses_the_match(client: TestClient) -> None:
    existing = client.post("/fhir/Patient", json=patient()).json()
    obs = observation("x")
    obs["subject"] = {"reference": "urn:uuid:33333333-3333-4333-8333-333333333333"}
    bundle = _tx(
        [
            _post(
                patient(),
                "urn:uuid:33333333-3333-4333-8333-333333333333",
                ifNoneExist="identifier=https://healthid.ndhm.gov.in|22-7225-4829-5255",
            ),
            _post(obs),
        ]
    )
    response = client.post("/fhir", json=bundle)
    assert response.status_code == 200, response.text
    assert response.json()["entry"][0]["response"]["status"] == "200 OK"
    assert _count(client, "Patient") == 1
    obs_location = response.json()["entry"][1]["response"]["location"]
    stored = client.get("/fhir/" + "/".join(obs_location.split("/")[:2])).json()
    assert stored["subject"]["reference"] == f"Patient/{existing['id']}"


def test_processing_order_delete_post_put_get(client: TestClient) -> None:
    client.put("/fhir/Patient/old", json=patient(id="old"))
    bundle = _tx(
        [
            {"request": {"method": "GET", "url": "Patient/new"}},
            {"resource": patient(id="new"), "request": {"method": "PUT", "url": "Patient/new"}},
            {"request": {"method": "DELETE", "url": "Patient/old"}},
        ]
    )
    response = client.post("/fhir", json=bundle)
    assert response.status_code == 200, response.text
    entries = response.json()["entry"]
    assert entries[0]["response"]["status"] == "200 OK"
    assert entries[0]["resource"]["id"] == "new"
    assert entries[2]["response"]["status"] == "204 No Content"


def test_batch_entries_succeed_or_fail_independently(client: TestClient) -> None:
    bundle = _tx(
        [
            _post(patient()),
            _post(patient(birthDate="nope")),
            {"request": {"method": "GET", "url": "Patient/missing"}},
        ],
        kind="batch",
    )
    response = client.post("/fhir", json=bundle)
    assert response.status_code == 200
    statuses = [e["response"]["status"] for e in response.json()["entry"]]
    assert statuses[0].startswith("201")
    assert statuses[1].startswith("400")
    assert statuses[2].startswith("404")
    assert response.json()["entry"][1]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    assert _count(client, "Patient") == 1


def test_prefer_representation_returns_resources(client: TestClient) -> None:
    response = client.post(
        "/fhir", json=_tx([_post(patient())]), headers={"Prefer": "return=representation"}
    )
    assert response.json()["entry"][0]["resource"]["resourceType"] == "Patient"


def test_bad_bundles(client: TestClient) -> None:
    assert client.post("/fhir", json=patient()).status_code == 400
    wrong_type = client.post("/fhir", json={"resourceType": "Bundle", "type": "collection"})
    assert wrong_type.status_code == 400
    assert "collection" in wrong_type.text
    no_request = client.post("/fhir", json=_tx([{"resource": patient()}]))
    assert no_request.status_code == 400
    assert "entry[0]" in no_request.text
    bad_method = client.post(
        "/fhir",
        json=_tx([{"resource": patient(), "request": {"method": "FETCH", "url": "Patient"}}]),
    )
    assert bad_method.status_code == 400
    dup = client.post(
        "/fhir", json=_tx([_post(patient(), "urn:uuid:1"), _post(patient(), "urn:uuid:1")])
    )
    assert dup.status_code == 400
    assert "fullUrl" in dup.text
    assert _count(client, "Patient") == 0


def test_a_transaction_aborted_for_a_concurrent_one_runs_again_from_the_clients_json(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # MongoDB aborts the later of two conflicting transactions; simulate one such abort
    # after the first try has assigned ids and rewritten references in place
    from fhir_server.rest.deferred_writes import DeferredWrites
    from fhir_server.storage.base import TransactionConflict

    original = DeferredWrites.flush
    aborted: list[bool] = []

    def flush_once_aborted(self: DeferredWrites) -> None:
        if not aborted:
            aborted.append(True)
            raise TransactionConflict("The transaction")
        original(self)

    monkeypatch.setattr(DeferredWrites, "flush", flush_once_aborted)
    urn = "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a"
    obs = {**observation("ignored"), "subject": {"reference": urn}}
    bundle = _tx([_post(patient(), urn), _post(obs)])
    response = client.post("/fhir", json=bundle)
    assert response.status_code == 200, response.text
    assert aborted == [True]
    assert _count(client, "Patient") == 1 and _count(client, "Observation") == 1
    patient_id = client.get("/fhir/Patient").json()["entry"][0]["resource"]["id"]
    obs = client.get("/fhir/Observation").json()["entry"][0]["resource"]
    assert obs["subject"]["reference"] == f"Patient/{patient_id}"
