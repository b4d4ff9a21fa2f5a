"""Chains, reverse chains (`_has`), `_include` and `_revinclude` over HTTP."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.search_support import assert_bad_request, bundle, found, ids_of, put


def _network(client: TestClient) -> None:
    """Two facilities, two patients, their encounters and observations."""
    put(client, {"resourceType": "Organization", "id": "aiims", "name": "AIIMS Delhi"})
    put(client, {"resourceType": "Organization", "id": "lnjp", "name": "LNJP Hospital"})
    for pid, family, org in (("asha", "Sharma", "aiims"), ("ravi", "Verma", "lnjp")):
        put(
            client,
            {
                "resourceType": "Patient",
                "id": pid,
                "name": [{"family": family}],
                "managingOrganization": {"reference": f"Organization/{org}"},
            },
        )
        put(
            client,
            {
                "resourceType": "Encounter",
                "id": f"enc-{pid}",
                "status": "finished",
                "class": {"code": "AMB"},
                "subject": {"reference": f"Patient/{pid}"},
                "serviceProvider": {"reference": f"Organization/{org}"},
            },
        )
        put(
            client,
            {
                "resourceType": "Observation",
                "id": f"obs-{pid}",
                "status": "final",
                "code": {"coding": [{"system": "http://loinc.org", "code": "4548-4"}]},
                "subject": {"reference": f"Patient/{pid}"},
                "encounter": {"reference": f"Encounter/enc-{pid}"},
            },
        )


def test_chain_one_level(client: TestClient) -> None:
    _network(client)
    assert found(client, "/fhir/Observation?subject:Patient.name=sharma") == {"obs-asha"}
    assert found(client, "/fhir/Observation?patient.family=verma") == {"obs-ravi"}
    assert found(client, "/fhir/Observation?subject.name=nobody") == set()


def test_chain_two_levels(client: TestClient) -> None:
    _network(client)
    url = "/fhir/Observation?subject:Patient.organization.name=AIIMS"
    assert found(client, url) == {"obs-asha"}
    url = "/fhir/Observation?encounter.service-provider.name=lnjp"
    assert found(client, url) == {"obs-ravi"}


def test_chain_combined_with_other_criteria(client: TestClient) -> None:
    _network(client)
    url = "/fhir/Observation?subject:Patient.name=sharma&code=4548-4"
    assert found(client, url) == {"obs-asha"}
    url = "/fhir/Observation?subject:Patient.name=sharma&code=0000-0"
    assert found(client, url) == set()


def test_has_reverse_chain(client: TestClient) -> None:
    _network(client)
    assert found(client, "/fhir/Patient?_has:Observation:patient:code=4548-4") == {"asha", "ravi"}
    url = "/fhir/Patient?_has:Encounter:subject:_id=enc-ravi"
    assert found(client, url) == {"ravi"}


def test_has_nested(client: TestClient) -> None:
    _network(client)
    # organisations whose patients have an observation with that id
    url = "/fhir/Organization?_has:Patient:organization:_has:Observation:patient:_id=obs-asha"
    assert found(client, url) == {"aiims"}


def test_include_adds_referenced_resources(client: TestClient) -> None:
    _network(client)
    body = bundle(client, "/fhir/Observation?_id=obs-asha&_include=Observation:subject")
    assert ids_of(body) == ["obs-asha"]
    assert ids_of(body, "include") == ["asha"]


def test_include_with_target_type_and_wildcard(client: TestClient) -> None:
    _network(client)
    url = "/fhir/Observation?_id=obs-asha&_include=Observation:encounter:Encounter"
    assert ids_of(bundle(client, url), "include") == ["enc-asha"]
    url = "/fhir/Observation?_id=obs-asha&_include=Observation:subject:Group"
    assert ids_of(bundle(client, url), "include") == []
    body = bundle(client, "/fhir/Observation?_id=obs-asha&_include=*")
    assert set(ids_of(body, "include")) == {"asha", "enc-asha"}


def test_include_iterate_follows_included_resources(client: TestClient) -> None:
    _network(client)
    url = (
        "/fhir/Observation?_id=obs-asha&_include=Observation:subject"
        "&_include:iterate=Patient:organization"
    )
    assert set(ids_of(bundle(client, url), "include")) == {"asha", "aiims"}
    url = (
        "/fhir/Observation?_id=obs-asha&_include=Observation:subject&_include=Patient:organization"
    )
    # without :iterate an include must start from the searched type
    assert_bad_request(client.get(url), "_include", "Patient")


def test_revinclude_adds_referring_resources(client: TestClient) -> None:
    _network(client)
    body = bundle(client, "/fhir/Patient?_id=asha&_revinclude=Observation:subject")
    assert ids_of(body) == ["asha"]
    assert ids_of(body, "include") == ["obs-asha"]
    body = bundle(client, "/fhir/Patient?_id=asha&_revinclude=Encounter:*")
    assert ids_of(body, "include") == ["enc-asha"]


def test_revinclude_iterate(client: TestClient) -> None:
    _network(client)
    url = (
        "/fhir/Organization?_id=aiims&_revinclude=Patient:organization"
        "&_revinclude:iterate=Observation:subject"
    )
    assert set(ids_of(bundle(client, url), "include")) == {"asha", "obs-asha"}


def test_included_resources_are_not_repeated(client: TestClient) -> None:
    _network(client)
    url = "/fhir/Observation?_include=Observation:subject&_include=Observation:patient"
    body = bundle(client, url)
    assert sorted(ids_of(body, "include")) == ["asha", "ravi"]
