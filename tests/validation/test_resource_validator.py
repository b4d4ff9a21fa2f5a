"""Write-time validation: one issue per problem, each naming the element's path."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_server.errors import FhirError, Issue
from fhir_server.validation import ResourceValidator
from fhir_server.validation.resource import schema_only_types

validator = ResourceValidator()


def issues_of(resource: dict[str, Any]) -> list[Issue]:
    with pytest.raises(FhirError) as caught:
        validator.validate(resource)
    assert caught.value.status == 400
    return caught.value.issues


def paths(issues: list[Issue]) -> list[str]:
    return [e for i in issues for e in i.expression]


def test_valid_resource_passes() -> None:
    validator.validate(
        {
            "resourceType": "Patient",
            "id": "p-1.a",
            "name": [{"family": "Sharma", "given": ["Asha"]}],
            "birthDate": "1990-04-01",
            "_birthDate": {"extension": [{"url": "http://x", "valueString": "approx"}]},
        }
    )


def test_unknown_element_is_rejected_with_its_path() -> None:
    issues = issues_of({"resourceType": "Patient", "name": [{"family": "A", "nickname": "x"}]})
    assert paths(issues) == ["Patient.name[0].nickname"]
    assert issues[0].code == "structure"
    assert "nickname" in issues[0].diagnostics


def test_wrong_type_names_the_element() -> None:
    issues = issues_of({"resourceType": "Patient", "name": [{"family": 42}]})
    assert paths(issues) == ["Patient.name[0].family"]
    assert issues[0].code == "structure"


def test_invalid_date() -> None:
    issues = issues_of({"resourceType": "Patient", "birthDate": "1990-02-30"})
    assert paths(issues) == ["Patient.birthDate"]
    assert issues[0].code == "value"


def test_date_with_time_is_not_a_date() -> None:
    issues = issues_of({"resourceType": "Patient", "birthDate": "1990-02-03T10:00:00Z"})
    assert paths(issues) == ["Patient.birthDate"]


def test_every_problem_gets_its_own_issue() -> None:
    issues = issues_of(
        {"resourceType": "Patient", "foo": 1, "name": [{"family": 1}], "birthDate": "x"}
    )
    assert sorted(paths(issues)) == ["Patient.birthDate", "Patient.foo", "Patient.name[0].family"]


def test_missing_required_element_is_named() -> None:
    issues = issues_of({"resourceType": "Observation", "status": "final"})
    assert paths(issues) == ["Observation.code"]
    assert issues[0].code == "required"


def test_choice_type_path_keeps_the_json_name() -> None:
    issues = issues_of(
        {
            "resourceType": "Observation",
            "status": "final",
            "code": {"text": "BP"},
            "valueQuantity": {"value": "high"},
        }
    )
    assert paths(issues) == ["Observation.valueQuantity.value"]


def test_two_types_of_one_choice_element_are_rejected() -> None:
    issues = issues_of(
        {"resourceType": "Patient", "deceasedBoolean": True, "deceasedDateTime": "2020"}
    )
    assert paths(issues) == ["Patient"]
    assert "deceasedBoolean" in issues[0].diagnostics


def test_primitive_extension_maps_to_the_element_path() -> None:
    issues = issues_of(
        {"resourceType": "Patient", "_gender": {"extension": [{"url": 5}]}, "gender": "male"}
    )
    assert paths(issues) == ["Patient.gender.extension[0].url"]


def test_primitive_list_extension_is_indexed() -> None:
    name = {"given": ["A", "B"], "_given": [None, {"extension": [{"url": 5}]}]}
    issues = issues_of({"resourceType": "Patient", "name": [name]})
    assert paths(issues) == ["Patient.name[0].given[1].extension[0].url"]


def test_list_element_given_as_object_is_a_structure_error() -> None:
    issues = issues_of({"resourceType": "Patient", "name": {"family": "A"}})
    assert paths(issues) == ["Patient.name"]
    assert issues[0].code == "structure"


@pytest.mark.parametrize("bad_id", ["", "has space", "a/b", "x" * 65, 7])
def test_invalid_id_is_rejected(bad_id: object) -> None:
    issues = issues_of({"resourceType": "Patient", "id": bad_id})
    assert paths(issues) == ["Patient.id"]


def test_id_of_64_characters_is_accepted() -> None:
    validator.validate({"resourceType": "Patient", "id": "A-z.0" + "9" * 59})


def test_contained_resource_without_type_is_reported_not_crashed() -> None:
    issues = issues_of({"resourceType": "Patient", "contained": [{}, {"resourceType": "Nope"}]})
    assert paths(issues) == [
        "Patient.contained[0].resourceType",
        "Patient.contained[1].resourceType",
    ]


def test_contained_resource_errors_are_pathed() -> None:
    resource = {"resourceType": "Patient", "contained": [{"resourceType": "Patient", "zz": 1}]}
    assert paths(issues_of(resource)) == ["Patient.contained[0].zz"]


def test_bundle_entry_errors_are_pathed() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{"resource": {"resourceType": "Patient", "birthDate": "soon"}}],
    }
    assert paths(issues_of(bundle)) == ["Bundle.entry[0].resource.birthDate"]


def test_r4_only_types_are_computed_from_the_models() -> None:
    only = schema_only_types()
    assert {"MedicinalProduct", "EffectEvidenceSynthesis", "SubstanceNucleicAcid"} <= only
    assert {"Evidence", "EvidenceVariable"} <= only  # redesigned in R4B
    assert "Patient" not in only


def test_r4_only_type_is_validated_by_the_schema() -> None:
    validator.validate(
        {"resourceType": "MedicinalProduct", "name": [{"productName": "Paracetamol"}]}
    )
    issues = issues_of({"resourceType": "MedicinalProduct", "name": [{"productName": 5}]})
    assert paths(issues) == ["MedicinalProduct.name[0].productName"]


def test_r4_only_required_element_is_enforced() -> None:
    issues = issues_of({"resourceType": "MedicinalProduct"})
    assert paths(issues) == ["MedicinalProduct.name"]
    assert issues[0].code == "required"


def test_r4_evidence_fits_although_r4b_redesigned_it() -> None:
    validator.validate(
        {
            "resourceType": "Evidence",
            "status": "draft",
            "exposureBackground": {"reference": "EvidenceVariable/1"},
        }
    )


def test_bundle_holding_an_r4_only_type_is_validated() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": {"resourceType": "MedicinalProduct", "name": [{"productName": 1}]}}],
    }
    assert paths(issues_of(bundle)) == ["Bundle.entry[0].resource.name[0].productName"]


def test_write_verdict_is_stricter_than_the_r4b_models() -> None:
    # the R4B models take "yes" for a boolean; the code enum is the binding check's (422)
    lenient = {"resourceType": "Patient", "gender": "x", "active": "yes"}
    assert paths(issues_of(lenient)) == ["Patient.active"]
    strict = ResourceValidator(schema_on_write=True)
    with pytest.raises(FhirError) as caught:
        strict.validate(lenient)
    assert sorted(paths(caught.value.issues)) == ["Patient.active", "Patient.gender"]
