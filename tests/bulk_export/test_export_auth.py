"""$export with authentication on: scopes narrow it, a facility exports only its own
records, and only the client that started a job can poll, download or cancel it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.api.fixtures import observation, patient
from tests.auth_support import Registrar, auth_client
from tests.bulk_export.conftest import ASYNC
from tests.conftest import ADAPTERS


@pytest.fixture(params=ADAPTERS)
def secured(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    with auth_client(request.param, tmp_path, export_dir=str(tmp_path / "exports")) as client:
        yield client


def _finish(client: TestClient, headers: dict[str, str], kick_off: str) -> dict:
    response = client.get(kick_off, headers={**headers, **ASYNC})
    assert response.status_code == 202, response.text
    status_url = response.headers["Content-Location"]
    for _ in range(600):
        polled = client.get(status_url, headers=headers)
        if polled.status_code != 202:
            assert polled.status_code == 200, polled.text
            manifest = polled.json()
            manifest["status_url"] = status_url
            return manifest
        time.sleep(0.05)
    raise AssertionError("export did not finish")


def _lines(client: TestClient, headers: dict[str, str], manifest: dict) -> list[dict]:
    rows = []
    for output in manifest["output"]:
        body = client.get(output["url"], headers=headers).content
        rows += [orjson.loads(line) for line in body.splitlines() if line]
    return rows


def test_a_facility_exports_only_what_it_recorded(secured: TestClient) -> None:
    registrar = Registrar(secured)
    a = registrar.headers("system/*.cruds", facility="HFR-A")
    b = registrar.headers("system/*.cruds", facility="HFR-B")
    for headers in (a, b):
        pid = secured.post("/fhir/Patient", json=patient(), headers=headers).json()["id"]
        secured.post("/fhir/Observation", json=observation(pid), headers=headers)
    manifest = _finish(secured, b, "/fhir/$export?_type=Patient,Observation")
    assert manifest["requiresAccessToken"] is True
    rows = _lines(secured, b, manifest)
    assert len(rows) == 2
    assert all(
        {"system": "https://facility.ndhm.gov.in", "code": "HFR-B"} in r["meta"]["tag"]
        for r in rows
    )
    network = registrar.headers("system/*.rs")  # no facility: the whole network
    everything = _finish(secured, network, "/fhir/$export?_type=Patient,Observation")
    assert len(_lines(secured, network, everything)) == 4


def test_scopes_narrow_the_export(secured: TestClient) -> None:
    registrar = Registrar(secured)
    admin = registrar.headers("system/*.cruds")
    pid = secured.post("/fhir/Patient", json=patient(), headers=admin).json()["id"]
    secured.post("/fhir/Observation", json=observation(pid), headers=admin)
    narrow = registrar.headers("system/Observation.rs")
    manifest = _finish(secured, narrow, "/fhir/$export")
    assert [o["type"] for o in manifest["output"]] == ["Observation"]  # not AuditEvent either
    refused = secured.get("/fhir/$export?_type=Patient", headers={**narrow, **ASYNC})
    assert refused.status_code == 403
    nothing = registrar.headers("system/Observation.c")
    assert secured.get("/fhir/$export", headers={**nothing, **ASYNC}).status_code == 403


def test_only_the_starting_client_sees_its_job(secured: TestClient) -> None:
    registrar = Registrar(secured)
    owner = registrar.headers("system/*.cruds")
    secured.post("/fhir/Patient", json=patient(), headers=owner)
    manifest = _finish(secured, owner, "/fhir/$export?_type=Patient")
    stranger = registrar.headers("system/*.cruds")
    assert secured.get(manifest["status_url"], headers=stranger).status_code == 404
    file_url = manifest["output"][0]["url"]
    assert secured.get(file_url, headers=stranger).status_code == 404
    assert secured.get(file_url).status_code == 401  # files need the token too
    assert secured.delete(manifest["status_url"], headers=stranger).status_code == 404
    assert secured.get(file_url, headers=owner).status_code == 200
    assert secured.delete(manifest["status_url"], headers=owner).status_code == 202
