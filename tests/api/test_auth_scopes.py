"""Each SMART scope allows exactly what it names: interactions x scopes over HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.api.fixtures import encounter, observation, patient
from tests.auth_support import Registrar, auth_client
from tests.conftest import ADAPTERS

ADMIN = "system/*.cruds"


@pytest.fixture(params=ADAPTERS)
def secured(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    with auth_client(request.param, tmp_path) as client:
        yield client


Interaction = Callable[[TestClient, dict[str, str], str], httpx.Response]

# name -> (the permission it needs on Patient, how to perform it on an existing Patient)
INTERACTIONS: dict[str, tuple[str, Interaction]] = {
    "read": ("r", lambda c, h, pid: c.get(f"/fhir/Patient/{pid}", headers=h)),
    "vread": ("r", lambda c, h, pid: c.get(f"/fhir/Patient/{pid}/_history/1", headers=h)),
    "history-instance": ("r", lambda c, h, pid: c.get(f"/fhir/Patient/{pid}/_history", headers=h)),
    "search": ("s", lambda c, h, pid: c.get("/fhir/Patient?family=Sharma", headers=h)),
    "search-post": ("s", lambda c, h, pid: c.post("/fhir/Patient/_search", headers=h)),
    "history-type": ("s", lambda c, h, pid: c.get("/fhir/Patient/_history", headers=h)),
    "create": ("c", lambda c, h, pid: c.post("/fhir/Patient", json=patient(), headers=h)),
    "update": (
        "u",
        lambda c, h, pid: c.put(
            f"/fhir/Patient/{pid}", json={**patient(given="Nisha"), "id": pid}, headers=h
        ),
    ),
    "patch": (
        "u",
        lambda c, h, pid: c.patch(
            f"/fhir/Patient/{pid}",
            json=[{"op": "add", "path": "/active", "value": False}],
            headers={**h, "Content-Type": "application/json-patch+json"},
        ),
    ),
    "delete": ("d", lambda c, h, pid: c.delete(f"/fhir/Patient/{pid}", headers=h)),
}

SCOPES = [
    "system/Patient.r",
    "system/Patient.s",
    "system/Patient.c",
    "system/Patient.u",
    "system/Patient.d",
    "system/Patient.cruds",
    "system/*.read",
    "user/*.write",
    "system/Observation.cruds",
    "patient/Patient.rs",
]


def _grants(scope: str, permission: str) -> bool:
    """The expectation, written out independently of the server's scope parser."""
    resource = scope.split("/", 1)[1].split(".", 1)
    if scope.startswith("patient/") or resource[0] not in ("Patient", "*"):
        return False
    letters = {"read": "rs", "write": "cud"}.get(resource[1], resource[1])
    return permission in letters


@pytest.mark.parametrize("scope", SCOPES)
@pytest.mark.parametrize("name", sorted(INTERACTIONS))
def test_scope_allows_exactly_what_it_names(secured: TestClient, scope: str, name: str) -> None:
    registrar = Registrar(secured)
    admin = registrar.headers(ADMIN)
    pid = secured.post("/fhir/Patient", json=patient(), headers=admin).json()["id"]
    permission, perform = INTERACTIONS[name]
    response = perform(secured, registrar.headers(scope), pid)
    if _grants(scope, permission):
        assert response.status_code < 300, (scope, name, response.text)
    else:
        assert response.status_code == 403, (scope, name, response.text)
        outcome = response.json()
        assert outcome["issue"][0]["code"] == "forbidden"
        # a refused write changed nothing
        current = secured.get(f"/fhir/Patient/{pid}", headers=admin).json()
        assert current["meta"]["versionId"] == "1"
        total = secured.get("/fhir/Patient?_summary=count", headers=admin).json()["total"]
        assert total == 1


def _transaction(*entries: dict) -> dict:
    return {"resourceType": "Bundle", "type": "transaction", "entry": list(entries)}


def test_transaction_checks_every_entry_before_writing(secured: TestClient) -> None:
    registrar = Registrar(secured)
    admin = registrar.headers(ADMIN)
    headers = registrar.headers("system/Patient.c system/Encounter.r")
    bundle = _transaction(
        {
            "fullUrl": "urn:uuid:p1",
            "resource": patient(),
            "request": {"method": "POST", "url": "Patient"},
        },
        {
            "resource": encounter("urn:uuid:p1"),
            "request": {"method": "POST", "url": "Encounter"},
        },
    )
    response = secured.post("/fhir", json=bundle, headers=headers)
    assert response.status_code == 403
    assert "Bundle.entry[1]" in response.json()["issue"][0]["diagnostics"]
    for type_ in ("Patient", "Encounter"):
        count = secured.get(f"/fhir/{type_}?_summary=count", headers=admin).json()["total"]
        assert count == 0
    allowed = registrar.headers("system/Patient.c system/Encounter.c")
    assert secured.post("/fhir", json=bundle, headers=allowed).status_code == 200


def test_batch_refuses_only_the_entries_out_of_scope(secured: TestClient) -> None:
    registrar = Registrar(secured)
    headers = registrar.headers("system/Patient.c")
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"resource": patient(), "request": {"method": "POST", "url": "Patient"}},
            {"request": {"method": "GET", "url": "Patient?family=Sharma"}},
        ],
    }
    response = secured.post("/fhir", json=bundle, headers=headers)
    assert response.status_code == 200
    statuses = [e["response"]["status"] for e in response.json()["entry"]]
    assert statuses[0].startswith("201")
    assert statuses[1].startswith("403")


def test_includes_of_unreadable_types_are_withheld(secured: TestClient) -> None:
    registrar = Registrar(secured)
    admin = registrar.headers(ADMIN)
    pid = secured.post("/fhir/Patient", json=patient(), headers=admin).json()["id"]
    secured.post("/fhir/Observation", json=observation(pid), headers=admin)
    url = "/fhir/Observation?_include=Observation:subject"
    everything = secured.get(url, headers=admin).json()
    assert {e["resource"]["resourceType"] for e in everything["entry"]} == {
        "Observation",
        "Patient",
    }
    narrow = secured.get(url, headers=registrar.headers("system/Observation.rs")).json()
    kinds = [e["resource"]["resourceType"] for e in narrow["entry"]]
    assert "Patient" not in kinds and "Observation" in kinds
    outcome = next(e["resource"] for e in narrow["entry"] if e["search"]["mode"] == "outcome")
    assert "Withheld 1 Patient" in outcome["issue"][0]["diagnostics"]


def test_everything_returns_only_readable_types(secured: TestClient) -> None:
    registrar = Registrar(secured)
    admin = registrar.headers(ADMIN)
    pid = secured.post("/fhir/Patient", json=patient(), headers=admin).json()["id"]
    secured.post("/fhir/Observation", json=observation(pid), headers=admin)
    secured.post("/fhir/Encounter", json=encounter(pid), headers=admin)
    path = f"/fhir/Patient/{pid}/$everything"
    full = secured.get(path, headers=admin).json()
    assert {e["resource"]["resourceType"] for e in full["entry"]} == {
        "Patient",
        "Observation",
        "Encounter",
    }
    narrow = secured.get(
        path, headers=registrar.headers("system/Patient.r system/Observation.r")
    ).json()
    kinds = {e["resource"]["resourceType"] for e in narrow["entry"]}
    assert kinds == {"Patient", "Observation", "OperationOutcome"}
    outcome = next(e["resource"] for e in narrow["entry"] if e["search"]["mode"] == "outcome")
    assert "Encounter" in outcome["issue"][0]["diagnostics"]
    denied = secured.get(path, headers=registrar.headers("system/Observation.r"))
    assert denied.status_code == 403


def test_patient_scopes_reach_the_token_patients_compartment_only(secured: TestClient) -> None:
    registrar = Registrar(secured)
    admin = registrar.headers(ADMIN)
    mine = secured.post("/fhir/Patient", json=patient(), headers=admin).json()["id"]
    other = secured.post("/fhir/Patient", json=patient(given="Ravi"), headers=admin).json()["id"]
    own_obs = secured.post("/fhir/Observation", json=observation(mine), headers=admin).json()
    other_obs = secured.post("/fhir/Observation", json=observation(other), headers=admin).json()
    app = registrar.headers(
        "patient/Observation.crs patient/Patient.r", rate_per_minute=0, patient=mine
    )
    assert secured.get(f"/fhir/Observation/{own_obs['id']}", headers=app).status_code == 200
    assert secured.get(f"/fhir/Observation/{other_obs['id']}", headers=app).status_code == 403
    assert secured.get(f"/fhir/Patient/{mine}", headers=app).status_code == 200
    assert secured.get(f"/fhir/Patient/{other}", headers=app).status_code == 403
    found = secured.get("/fhir/Observation", headers=app).json()
    assert found["total"] == 1  # the compartment is in the query: totals count only hers
    assert [e["resource"]["id"] for e in found["entry"]] == [own_obs["id"]]
    assert secured.post("/fhir/Observation", json=observation(mine), headers=app).status_code == 201
    refused = secured.post("/fhir/Observation", json=observation(other), headers=app)
    assert refused.status_code == 403
    assert "outside the compartment" in refused.json()["issue"][0]["diagnostics"]
    everything = secured.get(f"/fhir/Patient/{mine}/$everything", headers=app).json()
    assert {e["resource"]["id"] for e in everything["entry"] if "id" in e["resource"]} >= {
        mine,
        own_obs["id"],
    }
    assert other_obs["id"] not in str(everything)
    # the same scopes without a patient context grant nothing
    unbound = registrar.headers("patient/Observation.rs")
    assert secured.get("/fhir/Observation", headers=unbound).status_code == 403


def test_an_update_that_creates_needs_the_create_right(secured: TestClient) -> None:
    registrar = Registrar(secured)
    update_only = registrar.headers("system/Patient.rus")
    body = {**patient(), "id": "new-by-put"}
    refused = secured.put("/fhir/Patient/new-by-put", json=body, headers=update_only)
    assert refused.status_code == 403
    assert "create" in refused.json()["issue"][0]["diagnostics"]
    both = registrar.headers("system/Patient.cru")
    assert secured.put("/fhir/Patient/new-by-put", json=body, headers=both).status_code == 201
    again = {**body, "active": True}
    assert (
        secured.put("/fhir/Patient/new-by-put", json=again, headers=update_only).status_code == 200
    )


def test_a_conditional_create_that_matches_needs_the_read_right(secured: TestClient) -> None:
    registrar = Registrar(secured)
    admin = registrar.headers(ADMIN)
    secured.post("/fhir/Patient", json=patient(family="Kohli"), headers=admin)
    criteria = {"If-None-Exist": "family=Kohli"}
    create_only = registrar.headers("system/Patient.c")
    refused = secured.post(
        "/fhir/Patient", json=patient(family="Kohli"), headers={**create_only, **criteria}
    )
    assert refused.status_code == 403 and "Kohli" not in refused.text
    reader = registrar.headers("system/Patient.cr")
    found = secured.post(
        "/fhir/Patient", json=patient(family="Kohli"), headers={**reader, **criteria}
    )
    assert found.status_code == 200
    assert secured.get("/fhir/Patient?family=Kohli", headers=admin).json()["total"] == 1


def _categorised(patient_id: str, category: str) -> dict:
    obs = observation(patient_id)
    obs["category"] = [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": category,
                }
            ]
        }
    ]
    return obs


def test_query_restricted_scopes_grant_only_what_they_match(secured: TestClient) -> None:
    registrar = Registrar(secured)
    admin = registrar.headers(ADMIN)
    pid = secured.post("/fhir/Patient", json=patient(), headers=admin).json()["id"]
    lab = secured.post("/fhir/Observation", json=_categorised(pid, "laboratory"), headers=admin)
    vital = secured.post("/fhir/Observation", json=_categorised(pid, "vital-signs"), headers=admin)
    lab_id, vital_id = lab.json()["id"], vital.json()["id"]
    labs_only = registrar.headers(
        "system/Observation.rs?category=laboratory system/Patient.r system/Patient.s"
    )
    found = secured.get("/fhir/Observation", headers=labs_only).json()
    assert found["total"] == 1  # the restriction is part of the query
    assert [e["resource"]["id"] for e in found["entry"]] == [lab_id]
    assert secured.get(f"/fhir/Observation/{lab_id}", headers=labs_only).status_code == 200
    refused = secured.get(f"/fhir/Observation/{vital_id}", headers=labs_only)
    assert refused.status_code == 403
    assert "query-restricted" in refused.json()["issue"][0]["diagnostics"]
    everything = secured.get(f"/fhir/Patient/{pid}/$everything", headers=labs_only).json()
    ids = {e["resource"].get("id") for e in everything["entry"]}
    assert lab_id in ids and vital_id not in ids
    included = secured.get(
        f"/fhir/Patient?_id={pid}&_revinclude=Observation:subject", headers=labs_only
    ).json()
    assert vital_id not in str(included) and lab_id in str(included)
    # it grants no writes and no bulk copies
    write = secured.post(
        "/fhir/Observation", json=_categorised(pid, "laboratory"), headers=labs_only
    )
    assert write.status_code == 403
    export = secured.get(
        "/fhir/$export?_type=Observation",
        headers={**labs_only, "Prefer": "respond-async"},
    )
    assert export.status_code == 403
    # a restriction the server cannot read grants nothing
    unreadable = registrar.headers("system/Observation.rs?colour=red")
    assert secured.get("/fhir/Observation", headers=unreadable).json()["total"] == 0


def test_patient_scopes_delete_inside_the_compartment_only(secured: TestClient) -> None:
    registrar = Registrar(secured)
    admin = registrar.headers(ADMIN)
    mine = secured.post("/fhir/Patient", json=patient(), headers=admin).json()["id"]
    other = secured.post("/fhir/Patient", json=patient(given="Ravi"), headers=admin).json()["id"]
    own_obs = secured.post("/fhir/Observation", json=observation(mine), headers=admin).json()
    other_obs = secured.post("/fhir/Observation", json=observation(other), headers=admin).json()
    app = registrar.headers("patient/Observation.d", patient=mine)
    refused = secured.delete(f"/fhir/Observation/{other_obs['id']}", headers=app)
    assert refused.status_code == 403
    assert secured.get(f"/fhir/Observation/{other_obs['id']}", headers=admin).status_code == 200
    assert secured.delete(f"/fhir/Observation/{own_obs['id']}", headers=app).status_code == 204
