"""Helpers for the HTTP search tests: create resources, read ids out of search Bundles."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
ABHA = "https://healthid.ndhm.gov.in"


def create(client: TestClient, resource: dict[str, Any]) -> str:
    response = client.post(f"/fhir/{resource['resourceType']}", json=resource)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def put(client: TestClient, resource: dict[str, Any]) -> str:
    path = f"/fhir/{resource['resourceType']}/{resource['id']}"
    response = client.put(path, json=resource)
    assert response.status_code in (200, 201), response.text
    return resource["id"]


def bundle(client: TestClient, url: str, **kwargs: Any) -> dict[str, Any]:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["resourceType"] == "Bundle" and body["type"] == "searchset"
    return body


def ids_of(body: dict[str, Any], mode: str = "match") -> list[str]:
    return [
        e["resource"]["id"]
        for e in body.get("entry", [])
        if e.get("search", {}).get("mode") == mode
    ]


def found(client: TestClient, url: str) -> set[str]:
    """The ids of the matches of `url` (first page; tests keep results small)."""
    return set(ids_of(bundle(client, url)))


def outcome_of(body: dict[str, Any]) -> dict[str, Any] | None:
    for e in body.get("entry", []):
        if e.get("search", {}).get("mode") == "outcome":
            return e["resource"]
    return None


def assert_bad_request(response: Any, *needles: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    text = str(body)
    for needle in needles:
        assert needle in text, f"{needle!r} not in {text}"


def next_link(body: dict[str, Any]) -> str | None:
    for link in body.get("link", []):
        if link["relation"] == "next":
            return link["url"].removeprefix("http://testserver")
    return None
