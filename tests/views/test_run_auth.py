"""$run with authentication on: a view reads like a search of the type it views."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.api.fixtures import observation, patient
from tests.auth_support import Registrar, auth_client

VIEW = {
    "resourceType": "ViewDefinition",
    "id": "obs",
    "status": "active",
    "resource": "Observation",
    "select": [{"column": [{"name": "id", "path": "id"}]}],
}


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[TestClient]:
    with auth_client("sqlite", tmp_path) as client:
        yield client


def test_run_needs_rights_on_the_viewed_type(secured: TestClient) -> None:
    registrar = Registrar(secured)
    admin = registrar.headers("system/*.cruds")
    pid = secured.post("/fhir/Patient", json=patient(), headers=admin).json()["id"]
    oid = secured.post("/fhir/Observation", json=observation(pid), headers=admin).json()["id"]
    assert secured.put("/fhir/ViewDefinition/obs", json=VIEW, headers=admin).status_code == 201
    path = "/fhir/ViewDefinition/obs/$run?_format=csv"
    allowed = secured.get(path, headers=registrar.headers("system/*.rs"))
    assert allowed.status_code == 200, allowed.text
    assert allowed.text == f"id\r\n{oid}\r\n"
    denied = secured.get(path, headers=registrar.headers("system/ViewDefinition.rs"))
    assert denied.status_code == 403
    assert secured.get(path).status_code == 401


def test_run_checks_finer_rights_itself(secured: TestClient) -> None:
    # the gate leaves $run to the operation, which asks for read on the view and search on
    # the type it views
    registrar = Registrar(secured)
    admin = registrar.headers("system/*.cruds")
    assert secured.put("/fhir/ViewDefinition/obs", json=VIEW, headers=admin).status_code == 201
    path = "/fhir/ViewDefinition/obs/$run?_format=csv"
    narrow = registrar.headers("system/ViewDefinition.r system/Observation.s")
    assert secured.get(path, headers=narrow).status_code == 200
    no_type = secured.get(path, headers=registrar.headers("system/ViewDefinition.r"))
    assert no_type.status_code == 403
    assert "Observation" in no_type.json()["issue"][0]["diagnostics"]
    no_view = secured.get(path, headers=registrar.headers("system/Observation.s"))
    assert no_view.status_code == 403
    assert "ViewDefinition" in no_view.json()["issue"][0]["diagnostics"]


def test_a_facility_flattens_only_its_own_records(secured: TestClient) -> None:
    registrar = Registrar(secured)
    a = registrar.headers("system/*.cruds", facility="HFR-A")
    b = registrar.headers("system/*.cruds", facility="HFR-B")
    ids = {}
    for name, headers in (("a", a), ("b", b)):
        pid = secured.post("/fhir/Patient", json=patient(), headers=headers).json()["id"]
        made = secured.post("/fhir/Observation", json=observation(pid), headers=headers)
        ids[name] = made.json()["id"]
    assert secured.put("/fhir/ViewDefinition/obs", json=VIEW, headers=a).status_code == 201
    path = "/fhir/ViewDefinition/obs/$run?_format=csv"
    assert secured.get(path, headers=b).text == f"id\r\n{ids['b']}\r\n"
    network = registrar.headers("system/*.rs")
    assert sorted(secured.get(path, headers=network).text.split()[1:]) == sorted(ids.values())
