"""Write-time terminology binding checks over HTTP (required: 422; extensible: warning)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import require_transactions
from tests.api.fixtures import (
    appointment,
    claim,
    encounter,
    medication_request,
    observation,
    patient,
)

ACT_ENCOUNTER = "http://terminology.hl7.org/ValueSet/v3-ActEncounterCode"
V3_ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
MARITAL = "http://hl7.org/fhir/ValueSet/marital-status"
OO = {"Prefer": "return=OperationOutcome"}


def _put(client: TestClient, resource: dict[str, Any]) -> None:
    response = client.put(f"/fhir/{resource['resourceType']}/{resource['id']}", json=resource)
    assert response.status_code in (200, 201), response.text


def _with_patient(client: TestClient) -> None:
    _put(client, patient(id="p1"))


def _ensure_value_set(client: TestClient, url: str, system: str, codes: list[str]) -> None:
    """Store a ValueSet under `url` unless the server already knows one (shipped content)."""
    terminology = client.app.state.ctx.terminology
    if terminology.has_value_set(url):
        return
    value_set = {
        "resourceType": "ValueSet",
        "url": url,
        "status": "active",
        "compose": {"include": [{"system": system, "concept": [{"code": c} for c in codes]}]},
    }
    response = client.post("/fhir/ValueSet", json=value_set)
    assert response.status_code == 201, response.text
    assert terminology.has_value_set(url)


def _assert_binding_error(response: Any, element: str, value_set_part: str) -> None:
    assert response.status_code == 422, response.text
    issues = response.json()["issue"]
    assert any(
        i["severity"] == "error"
        and i["code"] == "code-invalid"
        and element in i.get("expression", [])
        and value_set_part in i["diagnostics"]
        for i in issues
    ), issues


# -- required bindings of the core resources -----------------------------------------------


BAD_CODES: list[tuple[str, Callable[[], dict[str, Any]], str, str]] = [
    ("Patient.gender", lambda: patient(gender="woman"), "gender", "administrative-gender"),
    ("Encounter.status", lambda: encounter("p1"), "status", "encounter-status"),
    ("Appointment.status", lambda: appointment("p1"), "status", "appointmentstatus"),
    ("MedicationRequest.status", lambda: medication_request("p1"), "status", "medicationrequest"),
    ("MedicationRequest.intent", lambda: medication_request("p1"), "intent", "medicationrequest"),
    ("Observation.status", lambda: observation("p1"), "status", "observation-status"),
    ("Claim.status", lambda: claim("p1"), "status", "fm-status"),
    ("Claim.use", lambda: claim("p1"), "use", "claim-use"),
]


@pytest.mark.parametrize(("element", "make", "key", "value_set"), BAD_CODES)
def test_wrong_code_in_required_binding_is_rejected_with_422(
    client: TestClient,
    element: str,
    make: Callable[[], dict[str, Any]],
    key: str,
    value_set: str,
) -> None:
    _with_patient(client)
    resource = make()
    resource[key] = "not-a-code"
    type_ = resource["resourceType"]
    _assert_binding_error(client.post(f"/fhir/{type_}", json=resource), element, value_set)
    resource["id"] = "x1"
    _assert_binding_error(client.put(f"/fhir/{type_}/x1", json=resource), element, value_set)
    assert client.get(f"/fhir/{type_}/x1").status_code == 404


@pytest.mark.parametrize("make", [encounter, appointment, medication_request, observation, claim])
def test_valid_codes_of_core_resources_are_stored(
    client: TestClient, make: Callable[[str], dict[str, Any]]
) -> None:
    _with_patient(client)
    resource = make("p1")
    response = client.post(f"/fhir/{resource['resourceType']}", json=resource)
    assert response.status_code == 201, response.text


def test_data_type_binding_inside_nested_elements_is_checked(client: TestClient) -> None:
    url = "http://hl7.org/fhir/ValueSet/contact-point-system"
    codes = ["phone", "fax", "email", "pager", "url", "sms", "other"]
    _ensure_value_set(client, url, "http://hl7.org/fhir/contact-point-system", codes)
    resource = patient(contact=[{"telecom": [{"system": "pager-ish", "value": "1"}]}])
    response = client.post("/fhir/Patient", json=resource)
    _assert_binding_error(response, "Patient.contact[0].telecom[0].system", "contact-point-system")


def test_contained_resource_codes_are_checked(client: TestClient) -> None:
    bad = {"resourceType": "Observation", "id": "o", "status": "guessed", "code": {"text": "x"}}
    resource = {**medication_request("p1"), "contained": [bad]}
    _with_patient(client)
    response = client.post("/fhir/MedicationRequest", json=resource)
    _assert_binding_error(response, "MedicationRequest.contained[0].status", "observation-status")


def test_patch_to_a_wrong_code_is_rejected(client: TestClient) -> None:
    _put(client, patient(id="p2"))
    ops = [{"op": "replace", "path": "/gender", "value": "x"}]
    response = client.patch(
        "/fhir/Patient/p2", json=ops, headers={"Content-Type": "application/json-patch+json"}
    )
    _assert_binding_error(response, "Patient.gender", "administrative-gender")
    assert client.get("/fhir/Patient/p2").json()["gender"] == "female"


# -- bundles -------------------------------------------------------------------------------


def _transaction(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": f"urn:uuid:00000000-0000-0000-0000-00000000000{i}",
                "resource": r,
                "request": {"method": "POST", "url": r["resourceType"]},
            }
            for i, r in enumerate(resources)
        ],
    }


def test_transaction_with_one_wrong_code_writes_nothing(client: TestClient) -> None:
    require_transactions(client)
    subject = "urn:uuid:00000000-0000-0000-0000-000000000000"
    good = patient(family="Verma")
    bad = {**observation("x"), "subject": {"reference": subject}, "status": "nearly"}
    response = client.post("/fhir", json=_transaction(good, bad))
    assert response.status_code == 422, response.text
    diagnostics = " ".join(i["diagnostics"] for i in response.json()["issue"])
    assert "entry" in diagnostics and "[1]" in diagnostics
    assert "observation-status" in diagnostics
    assert client.get("/fhir/Patient?family=Verma").json().get("total", 0) == 0
    assert client.get("/fhir/Patient?family=Verma").json().get("entry", []) == []


def test_batch_entry_with_wrong_code_fails_alone(client: TestClient) -> None:
    bundle = _transaction(patient(family="Batra"), patient(family="Bedi", gender="f"))
    bundle["type"] = "batch"
    response = client.post("/fhir", json=bundle)
    assert response.status_code == 200, response.text
    entries = response.json()["entry"]
    assert entries[0]["response"]["status"].startswith("201")
    assert entries[1]["response"]["status"].startswith("422")
    outcome = entries[1]["response"]["outcome"]["issue"][0]
    assert outcome["expression"] == ["Patient.gender"]


# -- extensible bindings and the settings ----------------------------------------------------


def _unknown_class(patient_id: str) -> dict[str, Any]:
    return {**encounter(patient_id), "class": {"system": V3_ACT, "code": "SPACEFLIGHT"}}


def test_extensible_binding_outside_the_value_set_is_a_warning(client: TestClient) -> None:
    _ensure_value_set(client, ACT_ENCOUNTER, V3_ACT, ["AMB", "EMER", "IMP"])
    _with_patient(client)
    response = client.post("/fhir/Encounter", json=_unknown_class("p1"), headers=OO)
    assert response.status_code == 201, response.text
    issues = response.json()["issue"]
    assert [(i["severity"], i["expression"]) for i in issues] == [("warning", ["Encounter.class"])]
    assert ACT_ENCOUNTER in issues[0]["diagnostics"]
    # in the value set: no warning
    fine = client.post("/fhir/Encounter", json=encounter("p1"), headers=OO).json()["issue"]
    assert [i["severity"] for i in fine] == ["information"]


def test_extensible_warning_in_transaction_response_outcome(client: TestClient) -> None:
    _ensure_value_set(client, ACT_ENCOUNTER, V3_ACT, ["AMB", "EMER", "IMP"])
    _with_patient(client)
    response = client.post("/fhir", json=_transaction(_unknown_class("p1")), headers=OO)
    assert response.status_code == 200, response.text
    outcome = response.json()["entry"][0]["response"]["outcome"]["issue"]
    assert [i["severity"] for i in outcome] == ["warning"]


def test_strict_extensible_setting_rejects(client_with: Callable[..., TestClient]) -> None:
    client = client_with(extensible_bindings="error")
    _ensure_value_set(client, ACT_ENCOUNTER, V3_ACT, ["AMB", "EMER", "IMP"])
    _with_patient(client)
    response = client.post("/fhir/Encounter", json=_unknown_class("p1"))
    _assert_binding_error(response, "Encounter.class", ACT_ENCOUNTER)


def test_required_bindings_can_be_relaxed_for_migrations(
    client_with: Callable[..., TestClient],
) -> None:
    warn = client_with(required_bindings="warn")
    response = warn.post("/fhir/Patient", json=patient(gender="woman"), headers=OO)
    assert response.status_code == 201, response.text
    assert [i["severity"] for i in response.json()["issue"]] == ["warning"]
    ignore = client_with(required_bindings="ignore")
    response = ignore.post("/fhir/Patient", json=patient(gender="woman"), headers=OO)
    assert response.status_code == 201, response.text
    assert [i["severity"] for i in response.json()["issue"]] == ["information"]


def test_extensible_codeable_concept_with_text_only_is_fine(client: TestClient) -> None:
    _ensure_value_set(
        client, MARITAL, "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", ["M", "S"]
    )
    response = client.post(
        "/fhir/Patient", json=patient(maritalStatus={"text": "married"}), headers=OO
    )
    assert response.status_code == 201, response.text
    assert [i["severity"] for i in response.json()["issue"]] == ["information"]


def test_schema_on_write_names_element_and_value_set_too(
    client_with: Callable[..., TestClient],
) -> None:
    # the R4 JSON Schema's enum runs before the binding check: still names the value set
    client = client_with(validate_schema_on_write=True)
    response = client.post("/fhir/Patient", json=patient(gender="woman"))
    assert response.status_code == 400, response.text
    [issue] = response.json()["issue"]
    assert issue["expression"] == ["Patient.gender"]
    assert "http://hl7.org/fhir/ValueSet/administrative-gender" in issue["diagnostics"]


# -- shipped content covers data-type and extensible bindings ------------------------------


def test_shipped_content_checks_data_type_and_extensible_bindings(client: TestClient) -> None:
    terminology = client.app.state.ctx.terminology
    for url in (
        "http://hl7.org/fhir/ValueSet/identifier-use",
        "http://hl7.org/fhir/ValueSet/contact-point-system",
        "http://hl7.org/fhir/ValueSet/name-use",
        ACT_ENCOUNTER,
    ):
        assert terminology.has_value_set(url), url  # shipped, nothing stored by the test
    bad_use = patient(identifier=[{"use": "sometimes", "system": "urn:x", "value": "1"}])
    _assert_binding_error(
        client.post("/fhir/Patient", json=bad_use), "Patient.identifier[0].use", "identifier-use"
    )
    _with_patient(client)
    response = client.post("/fhir/Encounter", json=_unknown_class("p1"), headers=OO)
    assert response.status_code == 201, response.text
    assert [i["severity"] for i in response.json()["issue"]] == ["warning"]
