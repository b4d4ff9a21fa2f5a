"""Every malformed search gets a 400 OperationOutcome that names the parameter."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.api.search_support import assert_bad_request

BAD = [
    ("/fhir/Patient?birthdate=xx1985", "birthdate"),
    ("/fhir/Patient?birthdate=1985-13-01", "birthdate"),
    ("/fhir/Patient?birthdate=yesterday", "birthdate"),
    ("/fhir/Patient?_lastUpdated=gt2020-02-30", "_lastUpdated"),
    ("/fhir/RiskAssessment?probability=abc", "probability"),
    ("/fhir/RiskAssessment?probability=zz0.5", "probability"),
    ("/fhir/Observation?value-quantity=five|http://unitsofmeasure.org|mg", "value-quantity"),
    ("/fhir/Observation?value-quantity=5|a|b|c", "value-quantity"),
    ("/fhir/Observation?code-value-quantity=4548-4", "code-value-quantity"),
    ("/fhir/Patient?family:sounds-like=sharma", "family"),
    ("/fhir/Patient?gender:exact=female", "gender"),
    ("/fhir/Patient?birthdate:contains=1985", "birthdate"),
    ("/fhir/Observation?subject:Nonsense=1", "subject"),
    ("/fhir/Observation?code:in=http://example.in/ValueSet/x", "code"),
    ("/fhir/Patient?family.name=sharma", "family"),
    ("/fhir/Observation?code.name=x", "code"),
    ("/fhir/Observation?subject:Patient.shoe-size=9", "subject"),
    ("/fhir/Patient?_count=-1", "_count"),
    ("/fhir/Patient?_count=abc", "_count"),
    ("/fhir/Patient?_count=100000", "_count"),
    ("/fhir/Patient?_sort=shoe-size", "_sort"),
    ("/fhir/Patient?_sort=address:missing", "_sort"),
    ("/fhir/Patient?_summary=maybe", "_summary"),
    ("/fhir/Patient?_total=some", "_total"),
    ("/fhir/Patient?_elements=na%20me", "_elements"),
    ("/fhir/Patient?_include=Patient:shoe", "_include"),
    ("/fhir/Patient?_include:deep=Patient:organization", "_include"),
    ("/fhir/Patient?_has:Observation:code:status=final", "_has"),
    ("/fhir/Patient?_has:Observation=final", "_has"),
    ("/fhir/Patient?gender:missing=perhaps", "gender"),
    ("/fhir/Patient?_id:exact=1", "_id"),
    ("/fhir?_type=Spaceship", "_type"),
    ("/fhir/Patient?_cursor=not-a-cursor", "_cursor"),
]


@pytest.mark.parametrize(("url", "param"), BAD, ids=[url for url, _ in BAD])
def test_malformed_search_is_400_naming_the_parameter(
    client: TestClient, url: str, param: str
) -> None:
    assert_bad_request(client.get(url), param)


def test_malformed_post_search_is_400(client: TestClient) -> None:
    response = client.post("/fhir/Patient/_search", data={"birthdate": "xx1985"})
    assert_bad_request(response, "birthdate")


def test_unknown_type_in_the_path_is_404(client: TestClient) -> None:
    assert client.get("/fhir/Spaceship?name=x").status_code == 404
