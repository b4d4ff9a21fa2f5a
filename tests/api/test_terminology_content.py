"""Terminology content beyond the shipped files: CodeSystems/ValueSets/ConceptMaps stored
through the API (seen at once, by every worker), shipped content kept read-only, and big
code systems loaded into the concept store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from fhir_server.terminology.loaders.common import concept, load_system
from fhir_server.terminology.loaders.loinc import load_loinc
from fhir_server.terminology.loaders.snomed import load_snomed

DATA = Path(__file__).resolve().parents[1] / "terminology" / "data"
GENDER_VS = "http://hl7.org/fhir/ValueSet/administrative-gender"
CS_URL = "https://fhir.delhi.example.in/CodeSystem/referral-reason"
VS_URL = "https://fhir.delhi.example.in/ValueSet/referral-reason"
SCT = "http://snomed.info/sct"


def _code_system(*codes: str, version: str = "1") -> dict[str, Any]:
    return {
        "resourceType": "CodeSystem",
        "id": "referral-reason",
        "url": CS_URL,
        "version": version,
        "status": "active",
        "content": "complete",
        "concept": [{"code": c, "display": f"Reason {c}"} for c in codes],
    }


def _value_set() -> dict[str, Any]:
    return {
        "resourceType": "ValueSet",
        "id": "referral-reason",
        "url": VS_URL,
        "status": "active",
        "compose": {"include": [{"system": CS_URL}]},
    }


def _valid(client: TestClient, url: str, system: str, code: str) -> bool:
    params = {"url": url, "system": system, "code": code}
    r = client.get("/fhir/ValueSet/$validate-code", params=params)
    assert r.status_code == 200, r.text
    return r.json()["parameter"][0]["valueBoolean"]


def _put(client: TestClient, resource: dict[str, Any]) -> None:
    r = client.put(f"/fhir/{resource['resourceType']}/{resource['id']}", json=resource)
    assert r.status_code in (200, 201), r.text


def test_stored_resources_are_used_at_once_and_follow_updates(client: TestClient) -> None:
    _put(client, _code_system("tb", "anc"))
    _put(client, _value_set())
    assert _valid(client, VS_URL, CS_URL, "tb")
    assert not _valid(client, VS_URL, CS_URL, "ncd")
    _put(client, _code_system("tb", "anc", "ncd", version="2"))
    assert _valid(client, VS_URL, CS_URL, "ncd")
    assert client.delete("/fhir/ValueSet/referral-reason").status_code in (200, 204)
    r = client.get("/fhir/ValueSet/$validate-code", params={"url": VS_URL, "code": "tb"})
    assert r.status_code == 404, r.text


def test_instance_level_operations(client: TestClient) -> None:
    _put(client, _code_system("tb", "anc"))
    _put(client, _value_set())
    r = client.get("/fhir/CodeSystem/referral-reason/$lookup", params={"code": "anc"})
    assert r.status_code == 200, r.text
    assert {"name": "display", "valueString": "Reason anc"} in r.json()["parameter"]
    r = client.get("/fhir/ValueSet/referral-reason/$expand")
    assert r.status_code == 200, r.text
    assert r.json()["expansion"]["total"] == 2
    r = client.get("/fhir/ValueSet/referral-reason/$validate-code", params={"code": "tb"})
    assert r.json()["parameter"][0] == {"name": "result", "valueBoolean": True}
    assert client.get("/fhir/ValueSet/nope/$expand").status_code == 404


def test_another_worker_sees_stored_value_sets(client_with: Callable[..., TestClient]) -> None:
    first, second = client_with(), client_with(share_store=True)
    assert second.get("/fhir/ValueSet/$expand", params={"url": VS_URL}).status_code == 404
    _put(first, _code_system("tb"))
    _put(first, _value_set())
    r = second.get("/fhir/ValueSet/$expand", params={"url": VS_URL})
    assert r.status_code == 200 and r.json()["expansion"]["total"] == 1


def test_shipped_content_is_read_only_but_new_versions_can_be_added(client: TestClient) -> None:
    shipped = {
        "resourceType": "ValueSet",
        "id": "gender-copy",
        "url": GENDER_VS,
        "version": "4.0.1",
        "status": "active",
        "compose": {"include": [{"system": CS_URL}]},
    }
    _put(client, shipped)
    r = client.get("/fhir/ValueSet/$expand", params={"url": f"{GENDER_VS}|4.0.1"})
    assert r.json()["expansion"]["total"] == 4  # still the shipped one
    _put(client, _code_system("x"))
    _put(client, {**shipped, "id": "gender-local", "version": "9.0.0"})
    r = client.get("/fhir/ValueSet/$expand", params={"url": f"{GENDER_VS}|9.0.0"})
    assert [c["code"] for c in r.json()["expansion"]["contains"]] == ["x"]


def test_loaded_snomed_lookup_subsumes_and_type_ahead(client: TestClient) -> None:
    ctx = client.app.state.ctx
    load_snomed(ctx.store.terminology, DATA / "rf2", "20240101")
    r = client.get("/fhir/CodeSystem/$lookup", params={"system": SCT, "code": "38341003"})
    body = r.json()
    assert r.status_code == 200, r.text
    assert {"name": "display", "valueString": "Hypertensive disorder, systemic arterial"} in (
        body["parameter"]
    )
    assert {"name": "version", "valueString": "20240101"} in body["parameter"]
    params = {"system": SCT, "codeA": "64572001", "codeB": "44054006"}
    r = client.get("/fhir/CodeSystem/$subsumes", params=params)
    assert r.json()["parameter"][0]["valueCode"] == "subsumes"
    params = {"url": f"{SCT}?fhir_vs=isa/73211009", "filter": "type", "count": "1"}
    expansion = client.get("/fhir/ValueSet/$expand", params=params).json()["expansion"]
    assert expansion["total"] == 2 and expansion["contains"][0]["code"] == "46635009"
    vs = f"{SCT}?fhir_vs=isa/64572001"
    assert _valid(client, vs, SCT, "44054006")
    assert not _valid(client, vs, SCT, "404684003")


def test_a_loaded_release_replaces_the_shipped_subset(client: TestClient) -> None:
    def lookup(code: str) -> int:
        params = {"system": "http://loinc.org", "code": code}
        return client.get("/fhir/CodeSystem/$lookup", params=params).status_code

    assert (lookup("8480-6"), lookup("99999-9")) == (200, 404)
    load_loinc(client.app.state.ctx.store.terminology, DATA / "Loinc.csv", "2.77")
    assert (lookup("8480-6"), lookup("99999-9")) == (404, 200)


def test_unfiltered_expansion_of_a_big_system_is_too_costly(
    client_with: Callable[..., TestClient],
) -> None:
    # the limit is a setting (10,000 by default): a small one keeps mongomock quick
    client = client_with(terminology_max_expansion=100)
    url = "http://example.org/big"
    load_system(
        client.app.state.ctx.store.terminology,
        url,
        "1",
        "Big",
        (concept(f"c{i}", f"Concept number {i}") for i in range(101)),
    )
    r = client.get("/fhir/ValueSet/$expand", params={"url": f"{url}?fhir_vs"})
    assert r.status_code == 422, r.text
    issue = r.json()["issue"][0]
    assert issue["code"] == "too-costly" and f"{url}?fhir_vs" in issue["diagnostics"]
    params = {"url": f"{url}?fhir_vs", "filter": "number 10", "count": "5"}
    expansion = client.get("/fhir/ValueSet/$expand", params=params).json()["expansion"]
    assert expansion["total"] == 2  # 10 and 100
    assert [c["code"] for c in expansion["contains"]] == ["c10", "c100"]
