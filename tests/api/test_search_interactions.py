"""Type (GET and POST `_search`), system and compartment search; lenient vs strict."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.search_support import bundle, create, found, ids_of, outcome_of, put


def _two_patients(client: TestClient) -> None:
    for pid, family in (("123", "Sharma"), ("456", "Verma")):
        put(client, {"resourceType": "Patient", "id": pid, "name": [{"family": family}]})
        put(
            client,
            {
                "resourceType": "Observation",
                "id": f"obs-{pid}",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
                "subject": {"reference": f"Patient/{pid}"},
            },
        )
        put(
            client,
            {
                "resourceType": "Condition",
                "id": f"cond-{pid}",
                "subject": {"reference": f"Patient/{pid}"},
                "code": {"text": "Type 2 diabetes"},
            },
        )


def test_type_search_by_post_form_body(client: TestClient) -> None:
    _two_patients(client)
    response = client.post("/fhir/Patient/_search", data={"family": "sharma"})
    assert response.status_code == 200, response.text
    assert ids_of(response.json()) == ["123"]


def test_post_search_combines_query_and_form_parameters(client: TestClient) -> None:
    _two_patients(client)
    response = client.post("/fhir/Observation/_search?code=4548-4", data={"subject": "Patient/456"})
    assert ids_of(response.json()) == ["obs-456"]


def test_system_search_with_type(client: TestClient) -> None:
    _two_patients(client)
    body = bundle(client, "/fhir?_type=Patient,Condition&_id=123,cond-456")
    assert sorted(ids_of(body)) == ["123", "cond-456"]
    assert all(e["fullUrl"].startswith("http://testserver/fhir/") for e in body["entry"])


def test_system_search_with_a_shared_parameter(client: TestClient) -> None:
    _two_patients(client)
    body = bundle(client, "/fhir?_type=Observation,Condition&patient=Patient/123")
    assert sorted(ids_of(body)) == ["cond-123", "obs-123"]


def test_compartment_search(client: TestClient) -> None:
    _two_patients(client)
    assert found(client, "/fhir/Patient/123/Observation") == {"obs-123"}
    assert found(client, "/fhir/Patient/123/Condition?code:text=diabetes") == {"cond-123"}
    assert found(client, "/fhir/Patient/456/Observation?code=0000-0") == set()
    assert found(client, "/fhir/Patient/999/Observation") == set()


def test_self_link_repeats_the_search(client: TestClient) -> None:
    _two_patients(client)
    body = bundle(client, "/fhir/Patient?family=sharma")
    self_link = next(link["url"] for link in body["link"] if link["relation"] == "self")
    assert "family=sharma" in self_link and self_link.startswith("http://testserver/fhir/Patient")


def test_unknown_parameter_is_ignored_and_reported_when_lenient(client: TestClient) -> None:
    _two_patients(client)
    body = bundle(client, "/fhir/Patient?family=sharma&shoe-size=9")
    assert ids_of(body) == ["123"]
    outcome = outcome_of(body)
    assert outcome is not None
    assert outcome["issue"][0]["severity"] == "warning"
    assert "shoe-size" in str(outcome)


def test_unknown_parameter_is_an_error_when_strict(client: TestClient) -> None:
    response = client.get(
        "/fhir/Patient?family=sharma&shoe-size=9", headers={"Prefer": "handling=strict"}
    )
    assert response.status_code == 400
    assert "shoe-size" in response.text
    lenient = client.get("/fhir/Patient?shoe-size=9", headers={"Prefer": "handling=lenient"})
    assert lenient.status_code == 200


def test_text_and_content_are_reported_as_unsupported(client: TestClient) -> None:
    for name in ("_text", "_content"):
        body = bundle(client, f"/fhir/Patient?{name}=diabetes")
        assert name in str(outcome_of(body))
        strict = client.get(f"/fhir/Patient?{name}=x", headers={"Prefer": "handling=strict"})
        assert strict.status_code == 400 and name in strict.text


def test_empty_parameter_value_is_ignored(client: TestClient) -> None:
    _two_patients(client)
    assert found(client, "/fhir/Patient?family=") == {"123", "456"}


def test_format_parameter_is_not_a_criterion(client: TestClient) -> None:
    create(client, {"resourceType": "Patient"})
    body = bundle(client, "/fhir/Patient?_format=json")
    assert outcome_of(body) is None and len(ids_of(body)) == 1
