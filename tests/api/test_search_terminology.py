"""Token search modifiers that use the terminology service, over HTTP on every adapter."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.fixtures import observation, patient

LOINC = "http://loinc.org"
VITALS = "https://example.in/fhir/ValueSet/bp-vitals"
ICD = "https://example.in/fhir/CodeSystem/icd10-mini"
ICD_ALL = "https://example.in/fhir/ValueSet/icd10-mini-all"


def _created(client: TestClient, resource: dict[str, Any]) -> str:
    response = client.post(f"/fhir/{resource['resourceType']}", json=resource)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def _ids(client: TestClient, query: str) -> set[str]:
    response = client.get(f"/fhir/{query}")
    assert response.status_code == 200, response.text
    return {e["resource"]["id"] for e in response.json().get("entry", [])}


def _obs(client: TestClient, patient_id: str, code: str, status: str = "final") -> str:
    resource = observation(patient_id)
    resource["code"] = {"coding": [{"system": LOINC, "code": code}]}
    resource["status"] = status
    return _created(client, resource)


def _vitals_world(client: TestClient) -> dict[str, str]:
    _created(
        client,
        {
            "resourceType": "ValueSet",
            "url": VITALS,
            "status": "active",
            "compose": {
                "include": [{"system": LOINC, "concept": [{"code": "8480-6"}, {"code": "8462-4"}]}]
            },
        },
    )
    pid = _created(client, patient())
    return {
        "systolic": _obs(client, pid, "8480-6"),
        "diastolic": _obs(client, pid, "8462-4"),
        "diastolic_prelim": _obs(client, pid, "8462-4", "preliminary"),
        "hba1c": _obs(client, pid, "4548-4"),
    }


def test_in_matches_codes_of_the_value_set(client: TestClient) -> None:
    ids = _vitals_world(client)
    assert _ids(client, f"Observation?code:in={VITALS}") == {
        ids["systolic"],
        ids["diastolic"],
        ids["diastolic_prelim"],
    }


def test_not_in_matches_the_rest(client: TestClient) -> None:
    ids = _vitals_world(client)
    assert _ids(client, f"Observation?code:not-in={VITALS}") == {ids["hba1c"]}


def test_in_combines_with_other_parameters(client: TestClient) -> None:
    ids = _vitals_world(client)
    found = _ids(client, f"Observation?code:in={VITALS}&status=preliminary")
    assert found == {ids["diastolic_prelim"]}


def test_in_pages_through_all_matches(client: TestClient) -> None:
    ids = _vitals_world(client)
    seen: list[str] = []
    url: str | None = f"/fhir/Observation?code:in={VITALS}&_count=1"
    while url:
        body = client.get(url).json()
        seen += [e["resource"]["id"] for e in body.get("entry", [])]
        url = next((link["url"] for link in body["link"] if link["relation"] == "next"), None)
    assert sorted(seen) == sorted([ids["systolic"], ids["diastolic"], ids["diastolic_prelim"]])


def test_unknown_value_set_is_a_400_naming_it(client: TestClient) -> None:
    response = client.get("/fhir/Observation?code:in=https://example.in/ValueSet/none")
    assert response.status_code == 400
    assert "https://example.in/ValueSet/none" in response.text


# -- hierarchy: :below / :above -------------------------------------------------------------


def _icd_world(client: TestClient) -> dict[str, str]:
    _created(
        client,
        {
            "resourceType": "CodeSystem",
            "url": ICD,
            "status": "active",
            "content": "complete",
            "hierarchyMeaning": "is-a",
            "valueSet": ICD_ALL,
            "concept": [
                {
                    "code": "E10-E14",
                    "display": "Diabetes mellitus",
                    "concept": [
                        {
                            "code": "E11",
                            "display": "Type 2 diabetes mellitus",
                            "concept": [{"code": "E11.9", "display": "without complications"}],
                        },
                        {"code": "E10", "display": "Type 1 diabetes mellitus"},
                    ],
                },
                {"code": "I10", "display": "Essential (primary) hypertension"},
            ],
        },
    )
    pid = _created(client, patient())
    out = {}
    for code in ("E10-E14", "E11", "E11.9", "E10", "I10"):
        out[code] = _created(
            client,
            {
                "resourceType": "Condition",
                "code": {"coding": [{"system": ICD, "code": code}]},
                "subject": {"reference": f"Patient/{pid}"},
            },
        )
    return out


def test_below_matches_the_code_and_its_descendants(client: TestClient) -> None:
    ids = _icd_world(client)
    assert _ids(client, f"Condition?code:below={ICD}|E11") == {ids["E11"], ids["E11.9"]}
    below_block = _ids(client, f"Condition?code:below={ICD}|E10-E14")
    assert below_block == {ids[c] for c in ("E10-E14", "E11", "E11.9", "E10")}


def test_above_matches_the_code_and_its_ancestors(client: TestClient) -> None:
    ids = _icd_world(client)
    assert _ids(client, f"Condition?code:above={ICD}|E11.9") == {
        ids["E11.9"],
        ids["E11"],
        ids["E10-E14"],
    }


def test_in_over_a_whole_code_system_value_set(client: TestClient) -> None:
    ids = _icd_world(client)
    assert _ids(client, f"Condition?code:in={ICD_ALL}") == set(ids.values())


def test_below_with_paging_and_other_parameters(client: TestClient) -> None:
    ids = _icd_world(client)
    body = client.get(f"/fhir/Condition?code:below={ICD}|E10-E14&_count=2&_total=accurate").json()
    assert body["total"] == 4
    assert len(body["entry"]) == 2
    none = _ids(client, f"Condition?code:below={ICD}|E10-E14&_id={ids['I10']}")
    assert none == set()


def test_below_in_an_unknown_system_matches_the_code_and_warns(client: TestClient) -> None:
    pid = _created(client, patient())
    system = "https://example.in/fhir/CodeSystem/unknown"
    cid = _created(
        client,
        {
            "resourceType": "Condition",
            "code": {"coding": [{"system": system, "code": "X1"}]},
            "subject": {"reference": f"Patient/{pid}"},
        },
    )
    body = client.get(f"/fhir/Condition?code:below={system}|X1").json()
    assert {e["resource"]["id"] for e in body["entry"] if e["search"]["mode"] == "match"} == {cid}
    outcome = [e for e in body["entry"] if e["search"]["mode"] == "outcome"]
    assert outcome and "no hierarchy" in str(outcome[0]["resource"])
