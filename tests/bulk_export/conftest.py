"""An HTTP client per adapter with its own export folder, and the async-flow helpers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import make_client
from tests.api.fixtures import encounter, observation, patient
from tests.conftest import ADAPTERS

ASYNC = {"Prefer": "respond-async"}
LOINC = "http://loinc.org"


@pytest.fixture(params=ADAPTERS)
def export_client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[TestClient]:
    with make_client(request.param, tmp_path, export_dir=str(tmp_path / "exports")) as client:
        yield client
        drop = getattr(client.app.state.ctx.store, "drop_database", None)
        if request.param == "mongodb" and drop is not None:
            drop()


def put(client: TestClient, resource: dict[str, Any]) -> dict[str, Any]:
    response = client.put(f"/fhir/{resource['resourceType']}/{resource['id']}", json=resource)
    assert response.status_code in (200, 201), response.text
    return response.json()


def network(client: TestClient) -> None:
    """Three patients with encounters and observations, one organization, one group."""
    put(client, {"resourceType": "Organization", "id": "org", "name": "Lok Nayak Hospital"})
    for pid in ("p1", "p2", "p3"):
        put(client, patient(id=pid, family=f"Family-{pid}"))
        put(client, {**encounter(pid), "id": f"enc-{pid}"})
        put(client, {**observation(pid), "id": f"hba1c-{pid}"})
        glucose = observation(pid, 110.0)
        glucose["code"] = {"coding": [{"system": LOINC, "code": "2339-0"}]}
        put(client, {**glucose, "id": f"glucose-{pid}"})
    put(
        client,
        {
            "resourceType": "Group",
            "id": "diabetes-camp",
            "type": "person",
            "actual": True,
            "member": [
                {"entity": {"reference": "Patient/p1"}},
                {"entity": {"reference": "Patient/p2"}},
            ],
        },
    )


def kick_off(client: TestClient, path: str = "/fhir/$export", **params: Any) -> str:
    response = client.get(path, params=params, headers=ASYNC)
    assert response.status_code == 202, response.text
    return response.headers["Content-Location"]


def wait_for_manifest(client: TestClient, status_url: str, timeout: float = 30.0) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(status_url)
        if response.status_code != 202:
            return response
        assert response.headers["X-Progress"].startswith("in progress")
        assert response.headers["Retry-After"].isdigit()
        assert time.monotonic() < deadline, "export did not finish"
        time.sleep(0.05)


def export(client: TestClient, path: str = "/fhir/$export", **params: Any) -> dict[str, Any]:
    """Kick off, poll until done, and return the manifest."""
    response = wait_for_manifest(client, kick_off(client, path, **params))
    assert response.status_code == 200, response.text
    return response.json()


def download(client: TestClient, manifest: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Every output file, read back as resources, by type."""
    found: dict[str, list[dict[str, Any]]] = {}
    for output in manifest["output"]:
        response = client.get(output["url"])
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/fhir+ndjson")
        lines = response.content.splitlines()
        assert len(lines) == output["count"]
        resources = [orjson.loads(line) for line in lines]
        assert {r["resourceType"] for r in resources} == {output["type"]}
        found.setdefault(output["type"], []).extend(resources)
    return found


def ids(found: dict[str, list[dict[str, Any]]]) -> set[str]:
    return {f"{r['resourceType']}/{r['id']}" for rs in found.values() for r in rs}
