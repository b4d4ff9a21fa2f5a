"""String and token parameters over HTTP, on every adapter."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.search_support import ABHA, LOINC, create, found


def _patients(client: TestClient) -> dict[str, str]:
    people = {
        "asha": {"family": "Sharma", "given": ["Asha"]},
        "jose": {"family": "Gonçalves", "given": ["José"]},
        "ramesh": {"family": "कुमार", "given": ["रमेश"]},
        "sharmila": {"family": "Sharmila-Rao", "given": ["Devi"]},
    }
    ids = {}
    for key, name in people.items():
        ids[key] = create(client, {"resourceType": "Patient", "name": [name]})
    return ids


def test_string_default_is_case_insensitive_prefix(client: TestClient) -> None:
    p = _patients(client)
    assert found(client, "/fhir/Patient?family=sharm") == {p["asha"], p["sharmila"]}
    assert found(client, "/fhir/Patient?family=SHARMA") == {p["asha"]}
    assert found(client, "/fhir/Patient?name=asha") == {p["asha"]}


def test_string_ignores_accents(client: TestClient) -> None:
    p = _patients(client)
    assert found(client, "/fhir/Patient?family=goncalves") == {p["jose"]}
    assert found(client, "/fhir/Patient?given=jose") == {p["jose"]}
    assert found(client, "/fhir/Patient?given=JOSÉ") == {p["jose"]}


def test_string_devanagari_keeps_vowel_signs(client: TestClient) -> None:
    p = _patients(client)
    assert found(client, "/fhir/Patient?family=कुमार") == {p["ramesh"]}
    assert found(client, "/fhir/Patient?name=रमे") == {p["ramesh"]}
    # dropping the vowel sign U+0941 would be a different name
    assert found(client, "/fhir/Patient?family=कमार") == set()


def test_string_exact_is_case_and_accent_sensitive(client: TestClient) -> None:
    p = _patients(client)
    assert found(client, "/fhir/Patient?family:exact=Gonçalves") == {p["jose"]}
    assert found(client, "/fhir/Patient?family:exact=Goncalves") == set()
    assert found(client, "/fhir/Patient?family:exact=sharma") == set()
    assert found(client, "/fhir/Patient?family:exact=Sharm") == set()
    assert found(client, "/fhir/Patient?family:exact=कुमार") == {p["ramesh"]}


def test_string_contains_matches_inside_the_value(client: TestClient) -> None:
    p = _patients(client)
    assert found(client, "/fhir/Patient?family:contains=arm") == {p["asha"], p["sharmila"]}
    assert found(client, "/fhir/Patient?family:contains=rao") == {p["sharmila"]}
    assert found(client, "/fhir/Patient?family:contains=ुमा") == {p["ramesh"]}


def _observations(client: TestClient) -> dict[str, str]:
    def obs(code: str, system: str | None, status: str, text: str) -> dict:
        coding = {"code": code, "display": text}
        if system:
            coding["system"] = system
        return {
            "resourceType": "Observation",
            "status": status,
            "code": {"coding": [coding], "text": text},
        }

    return {
        "hba1c": create(client, obs("4548-4", LOINC, "final", "Hemoglobin A1c")),
        "glucose": create(client, obs("2345-7", LOINC, "preliminary", "Glucose in serum")),
        "local": create(client, obs("4548-4", None, "final", "Local HbA1c")),
        "other": create(client, obs("4548-4", "http://example.org/codes", "amended", "Other")),
    }


def test_token_code_matches_any_system(client: TestClient) -> None:
    o = _observations(client)
    assert found(client, "/fhir/Observation?code=4548-4") == {o["hba1c"], o["local"], o["other"]}


def test_token_system_and_code(client: TestClient) -> None:
    o = _observations(client)
    assert found(client, f"/fhir/Observation?code={LOINC}|4548-4") == {o["hba1c"]}


def test_token_bar_code_means_no_system(client: TestClient) -> None:
    o = _observations(client)
    assert found(client, "/fhir/Observation?code=|4548-4") == {o["local"]}


def test_token_system_bar_means_any_code_of_that_system(client: TestClient) -> None:
    o = _observations(client)
    assert found(client, f"/fhir/Observation?code={LOINC}|") == {o["hba1c"], o["glucose"]}


def test_token_text_matches_words_of_the_display(client: TestClient) -> None:
    o = _observations(client)
    assert found(client, "/fhir/Observation?code:text=glucose") == {o["glucose"]}
    assert found(client, "/fhir/Observation?code:text=hemo") == {o["hba1c"]}


def test_token_not_excludes_matches_and_keeps_resources_without_value(
    client: TestClient,
) -> None:
    o = _observations(client)
    assert found(client, "/fhir/Observation?status:not=final") == {o["glucose"], o["other"]}
    no_status_code = create(client, {"resourceType": "Patient"})
    assert no_status_code in found(client, "/fhir/Patient?gender:not=male")


def test_token_comma_is_or(client: TestClient) -> None:
    o = _observations(client)
    assert found(client, "/fhir/Observation?status=preliminary,amended") == {
        o["glucose"],
        o["other"],
    }


def test_token_repeated_parameter_is_and(client: TestClient) -> None:
    o = _observations(client)
    url = f"/fhir/Observation?code=4548-4&code={LOINC}|4548-4"
    assert found(client, url) == {o["hba1c"]}
    assert found(client, "/fhir/Observation?status=final&status=amended") == set()


def test_identifier_abha_number(client: TestClient) -> None:
    abha = create(
        client,
        {
            "resourceType": "Patient",
            "identifier": [{"system": ABHA, "value": "22-7225-4829-5255"}],
        },
    )
    create(client, {"resourceType": "Patient", "identifier": [{"value": "22-7225-4829-5255"}]})
    assert found(client, f"/fhir/Patient?identifier={ABHA}|22-7225-4829-5255") == {abha}
    assert len(found(client, "/fhir/Patient?identifier=22-7225-4829-5255")) == 2
    assert found(client, f"/fhir/Patient?identifier={ABHA}|22-0000-0000-0000") == set()


def test_identifier_of_type(client: TestClient) -> None:
    v2 = "http://terminology.hl7.org/CodeSystem/v2-0203"
    mr = create(
        client,
        {
            "resourceType": "Patient",
            "identifier": [
                {
                    "type": {"coding": [{"system": v2, "code": "MR"}]},
                    "system": "https://aiims.example.in/mrn",
                    "value": "MRN-1001",
                }
            ],
        },
    )
    assert found(client, f"/fhir/Patient?identifier:of-type={v2}|MR|MRN-1001") == {mr}
    assert found(client, f"/fhir/Patient?identifier:of-type={v2}|PPN|MRN-1001") == set()


def test_token_on_boolean_and_code_elements(client: TestClient) -> None:
    alive = create(client, {"resourceType": "Patient", "active": True, "gender": "female"})
    create(client, {"resourceType": "Patient", "active": False, "gender": "male"})
    assert found(client, "/fhir/Patient?active=true") == {alive}
    assert found(client, "/fhir/Patient?gender=female") == {alive}
