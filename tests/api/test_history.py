"""history at instance, type and system level: order, paging, _since, _at."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from tests.api.fixtures import patient


def _versions(client: TestClient, id_: str, n: int) -> None:
    for i in range(n):
        client.put(f"/fhir/Patient/{id_}", json=patient(id=id_, given=f"Given{i}"))


def test_instance_history_newest_first_with_paging(client: TestClient) -> None:
    _versions(client, "p1", 5)
    page = client.get("/fhir/Patient/p1/_history?_count=2").json()
    seen = []
    while True:
        seen += [e["resource"]["meta"]["versionId"] for e in page["entry"]]
        nxt = [link["url"] for link in page["link"] if link["relation"] == "next"]
        if not nxt:
            break
        page = client.get(nxt[0].replace("http://testserver", "")).json()
    assert seen == ["5", "4", "3", "2", "1"]


def test_type_and_system_history(client: TestClient) -> None:
    _versions(client, "p1", 2)
    client.post(
        "/fhir/Observation",
        json={"resourceType": "Observation", "status": "final", "code": {"text": "BP"}},
    )
    type_history = client.get("/fhir/Patient/_history").json()
    assert {e["resource"]["resourceType"] for e in type_history["entry"]} == {"Patient"}
    assert len(type_history["entry"]) == 2
    system = client.get("/fhir/_history").json()
    assert len(system["entry"]) == 3
    assert system["entry"][0]["resource"]["resourceType"] == "Observation"


def test_history_since(client: TestClient) -> None:
    _versions(client, "p1", 1)
    time.sleep(0.01)
    middle = client.get("/fhir/Patient/p1").json()["meta"]["lastUpdated"]
    time.sleep(0.01)
    _versions(client, "p2", 1)
    since = client.get(f"/fhir/_history?_since={middle}").json()
    ids = [e["resource"]["id"] for e in since["entry"]]
    assert "p2" in ids
    assert ids.count("p1") <= 1  # p1's only version is exactly at `middle`


def test_history_at_returns_versions_current_then(client: TestClient) -> None:
    _versions(client, "p1", 1)
    time.sleep(0.01)
    first = client.get("/fhir/Patient/p1").json()["meta"]["lastUpdated"]
    time.sleep(0.01)
    _versions(client, "p1", 2)  # versions 2 (content changes) ...
    at = client.get(f"/fhir/Patient/p1/_history?_at={first}").json()
    assert [e["resource"]["meta"]["versionId"] for e in at["entry"]] == ["1"]


def test_deleted_version_in_history_has_no_resource(client: TestClient) -> None:
    _versions(client, "p1", 1)
    client.delete("/fhir/Patient/p1")
    entries = client.get("/fhir/Patient/p1/_history").json()["entry"]
    assert entries[0]["request"] == {"method": "DELETE", "url": "Patient/p1"}
    assert "resource" not in entries[0]


def test_history_of_unknown_resource_is_404(client: TestClient) -> None:
    assert client.get("/fhir/Patient/nope/_history").status_code == 404


def test_history_bad_parameters_are_400(client: TestClient) -> None:
    assert client.get("/fhir/_history?_since=yesterday").status_code == 400
    assert client.get("/fhir/_history?_count=0").status_code == 400
    assert client.get("/fhir/_history?_cursor=%%%").status_code == 400
