"""$validate: an OperationOutcome with every issue, storing nothing."""

from __future__ import annotations

import pytest

from fhir_server.errors import FhirError
from fhir_server.validation import validate_for_operation


def test_clean_resource_gets_all_ok() -> None:
    outcome = validate_for_operation({"resourceType": "Patient", "gender": "male"}, None, None)
    assert outcome["resourceType"] == "OperationOutcome"
    assert [i["severity"] for i in outcome["issue"]] == ["information"]


def test_model_and_schema_issues_are_merged_without_duplicates() -> None:
    resource = {"resourceType": "Patient", "gender": "x", "birthDate": "1990-13-01", "foo": 1}
    outcome = validate_for_operation(resource, None, None)
    expressions = [i["expression"][0] for i in outcome["issue"]]
    assert sorted(expressions) == ["Patient.birthDate", "Patient.foo", "Patient.gender"]
    assert all(i["severity"] == "error" for i in outcome["issue"])


def test_profile_is_named_as_not_yet_supported() -> None:
    profile = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"
    outcome = validate_for_operation({"resourceType": "Patient"}, None, profile)
    severities = {i["severity"] for i in outcome["issue"]}
    assert severities == {"information", "warning"}
    assert any(profile in i["diagnostics"] for i in outcome["issue"])


def test_delete_mode_has_no_content_to_validate() -> None:
    outcome = validate_for_operation(None, "delete", None)
    [issue] = outcome["issue"]
    assert issue["severity"] == "information"


def test_update_mode_requires_an_id() -> None:
    outcome = validate_for_operation({"resourceType": "Patient"}, "update", None)
    assert [i["expression"] for i in outcome["issue"]] == [["Patient.id"]]


def test_unknown_mode_is_a_client_error() -> None:
    with pytest.raises(FhirError) as caught:
        validate_for_operation({"resourceType": "Patient"}, "sideways", None)
    assert caught.value.status == 400


def test_r4_only_type_validates_through_the_schema() -> None:
    bad = {"resourceType": "SubstanceProtein", "numberOfSubunits": "three"}
    outcome = validate_for_operation(bad, "create", None)
    assert outcome["issue"][0]["expression"] == ["SubstanceProtein.numberOfSubunits"]
