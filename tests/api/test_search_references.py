"""Reference, uri and the common (`_id`, `_lastUpdated`, meta) parameters over HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable

from fastapi.testclient import TestClient

from tests.api.search_support import ABHA, bundle, create, found, put


def _obs(subject: str | dict, **extra: object) -> dict:
    ref = {"reference": subject} if isinstance(subject, str) else subject
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "subject": ref,
        **extra,
    }


def test_reference_forms_match_each_other(client_with: Callable[..., TestClient]) -> None:
    client = client_with(base_url="http://testserver/fhir")
    put(client, {"resourceType": "Patient", "id": "p1"})
    relative = create(client, _obs("Patient/p1"))
    absolute = create(client, _obs("http://testserver/fhir/Patient/p1"))
    versioned = create(client, _obs("Patient/p1/_history/1"))
    everyone = {relative, absolute, versioned}
    assert found(client, "/fhir/Observation?subject=Patient/p1") == everyone
    assert found(client, "/fhir/Observation?subject=http://testserver/fhir/Patient/p1") == everyone
    assert found(client, "/fhir/Observation?subject:Patient=p1") == everyone
    assert found(client, "/fhir/Observation?patient=p1") == everyone
    assert found(client, "/fhir/Observation?subject:Group=p1") == set()


def test_reference_to_another_server_stays_a_url(client: TestClient) -> None:
    put(client, {"resourceType": "Patient", "id": "p1"})
    url = "https://other.example.in/fhir/Patient/p1"
    foreign = create(client, _obs(url))
    local = create(client, _obs("Patient/p1"))
    assert found(client, f"/fhir/Observation?subject={url}") == {foreign}
    assert found(client, "/fhir/Observation?subject=Patient/p1") == {local}


def test_reference_identifier_modifier(client: TestClient) -> None:
    put(client, {"resourceType": "Patient", "id": "p1"})
    by_abha = create(client, _obs({"identifier": {"system": ABHA, "value": "22-7225-4829-5255"}}))
    create(client, _obs("Patient/p1"))
    url = f"/fhir/Observation?subject:identifier={ABHA}|22-7225-4829-5255"
    assert found(client, url) == {by_abha}


def test_reference_missing(client: TestClient) -> None:
    put(client, {"resourceType": "Patient", "id": "p1"})
    with_subject = create(client, _obs("Patient/p1"))
    without = create(
        client, {"resourceType": "Observation", "status": "final", "code": {"text": "x"}}
    )
    assert found(client, "/fhir/Observation?subject:missing=true") == {without}
    assert found(client, "/fhir/Observation?subject:missing=false") == {with_subject}


def _value_sets(client: TestClient) -> dict[str, str]:
    urls = {
        "root": "http://example.in/fhir/ValueSet",
        "leaf": "http://example.in/fhir/ValueSet/diabetes",
        "deeper": "http://example.in/fhir/ValueSet/diabetes/type-2",
        "other": "http://other.in/fhir/ValueSet/diabetes",
    }
    return {
        key: create(client, {"resourceType": "ValueSet", "status": "active", "url": url})
        for key, url in urls.items()
    }


def test_uri_exact_match(client: TestClient) -> None:
    v = _value_sets(client)
    assert found(client, "/fhir/ValueSet?url=http://example.in/fhir/ValueSet/diabetes") == {
        v["leaf"]
    }


def test_uri_below_matches_the_url_and_everything_under_it(client: TestClient) -> None:
    v = _value_sets(client)
    url = "/fhir/ValueSet?url:below=http://example.in/fhir/ValueSet/diabetes"
    assert found(client, url) == {v["leaf"], v["deeper"]}


def test_uri_above_matches_the_url_and_its_ancestors(client: TestClient) -> None:
    v = _value_sets(client)
    url = "/fhir/ValueSet?url:above=http://example.in/fhir/ValueSet/diabetes/type-2"
    assert found(client, url) == {v["root"], v["leaf"], v["deeper"]}


def test_id_parameter_with_or(client: TestClient) -> None:
    a = put(client, {"resourceType": "Patient", "id": "a"})
    b = put(client, {"resourceType": "Patient", "id": "b"})
    put(client, {"resourceType": "Patient", "id": "c"})
    assert found(client, "/fhir/Patient?_id=a") == {a}
    assert found(client, "/fhir/Patient?_id=a,b") == {a, b}
    assert found(client, "/fhir/Patient?_id=zzz") == set()


def test_last_updated_prefixes(client: TestClient) -> None:
    first = create(client, {"resourceType": "Patient"})
    stamp = client.get(f"/fhir/Patient/{first}").json()["meta"]["lastUpdated"]
    time.sleep(0.01)
    second = create(client, {"resourceType": "Patient"})
    assert found(client, f"/fhir/Patient?_lastUpdated=gt{stamp}".replace("+", "%2B")) == {second}
    assert found(client, f"/fhir/Patient?_lastUpdated=le{stamp}".replace("+", "%2B")) == {first}
    year = stamp[:4]
    assert found(client, f"/fhir/Patient?_lastUpdated={year}") == {first, second}
    assert found(client, "/fhir/Patient?_lastUpdated=lt2000") == set()


def test_meta_tag_profile_security_source(client: TestClient) -> None:
    profile = "http://nrces.in/ndhm/fhir/r4/StructureDefinition/Patient"
    tagged = create(
        client,
        {
            "resourceType": "Patient",
            "meta": {
                "tag": [{"system": "urn:facility", "code": "aiims"}],
                "profile": [profile],
                "security": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
                        "code": "R",
                    }
                ],
                "source": "https://aiims.example.in/his",
            },
        },
    )
    create(client, {"resourceType": "Patient"})
    assert found(client, "/fhir/Patient?_tag=urn:facility|aiims") == {tagged}
    assert found(client, "/fhir/Patient?_tag=aiims") == {tagged}
    assert found(client, f"/fhir/Patient?_profile={profile}") == {tagged}
    assert found(client, "/fhir/Patient?_security=R") == {tagged}
    assert found(client, "/fhir/Patient?_source=https://aiims.example.in/his") == {tagged}
    assert found(client, "/fhir/Patient?_tag=other") == set()


def test_meta_parameters_work_in_system_search(client: TestClient) -> None:
    tag = {"tag": [{"system": "urn:facility", "code": "aiims"}]}
    patient = create(client, {"resourceType": "Patient", "meta": tag})
    obs = create(client, {**_obs(f"Patient/{patient}"), "meta": tag})
    create(client, {"resourceType": "Patient"})
    body = bundle(client, "/fhir?_tag=urn:facility|aiims")
    assert {e["resource"]["id"] for e in body["entry"]} == {patient, obs}
