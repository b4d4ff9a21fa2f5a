"""FHIRPath Patch operations, following http://hl7.org/fhir/R4/fhirpatch.html."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fhir_server.errors import FhirError
from fhir_server.patch import apply_fhirpath_patch


def operation(op_type: str, path: str, **parts: Any) -> dict[str, Any]:
    """One `operation` parameter. `value` may be ("valueX", json) or a list of nested parts."""
    out: list[dict[str, Any]] = [
        {"name": "type", "valueCode": op_type},
        {"name": "path", "valueString": path},
    ]
    if "name" in parts:
        out.append({"name": "name", "valueString": parts["name"]})
    if "value" in parts:
        value = parts["value"]
        if isinstance(value, list):
            out.append({"name": "value", "part": value})
        else:
            out.append({"name": "value", value[0]: value[1]})
    for key in ("index", "source", "destination"):
        if key in parts:
            out.append({"name": key, "valueInteger": parts[key]})
    return {"name": "operation", "part": out}


def patch(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Parameters", "parameter": list(operations)}


def apply(resource: dict[str, Any], *operations: dict[str, Any]) -> dict[str, Any]:
    return apply_fhirpath_patch(resource, patch(*operations))


def fails(resource: dict[str, Any], *operations: dict[str, Any]) -> FhirError:
    with pytest.raises(FhirError) as caught:
        apply(resource, *operations)
    return caught.value


@pytest.fixture
def patient() -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": "p1",
        "active": True,
        "birthDate": "1974-12-25",
        "identifier": [
            {"system": "http://hospital.example/mrn", "value": "MRN-1"},
            {
                "system": "https://healthid.ndhm.gov.in",
                "value": "91-1234",
                "type": {"text": "ABHA"},
            },
        ],
        "name": [
            {"use": "official", "family": "Sharma", "given": ["Asha", "K"]},
            {"use": "nickname", "given": ["Ash"]},
        ],
        "telecom": [
            {"system": "phone", "use": "home", "value": "020-1111"},
            {"system": "phone", "use": "mobile", "value": "98000-00000"},
        ],
        "extension": [
            {"url": "http://example.org/religion", "valueString": "none"},
        ],
    }


@pytest.fixture
def observation() -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "bp",
        "status": "final",
        "code": {"text": "Blood pressure"},
        "component": [
            {"code": {"text": "systolic"}, "valueQuantity": {"value": 120, "unit": "mmHg"}},
            {"code": {"text": "diastolic"}, "valueQuantity": {"value": 80, "unit": "mmHg"}},
        ],
    }


# -- add --------------------------------------------------------------------------------------


def test_add_birthdate_to_patient_without_one(patient: dict[str, Any]) -> None:
    del patient["birthDate"]
    result = apply(
        patient, operation("add", "Patient", name="birthDate", value=("valueDate", "1930-01-01"))
    )
    assert result["birthDate"] == "1930-01-01"


def test_add_contact_built_from_parts(patient: dict[str, Any]) -> None:
    # The spec's example for anonymous (backbone) types: the value is given as parts.
    result = apply(
        patient,
        operation(
            "add",
            "Patient",
            name="contact",
            value=[
                {"name": "name", "valueHumanName": {"text": "Ravi Sharma"}},
                {"name": "relationship", "valueCodeableConcept": {"text": "brother"}},
            ],
        ),
    )
    # contact and contact.relationship repeat, so both become arrays.
    assert result["contact"] == [
        {"name": {"text": "Ravi Sharma"}, "relationship": [{"text": "brother"}]}
    ]


def test_add_given_name_to_first_name(patient: dict[str, Any]) -> None:
    result = apply(
        patient, operation("add", "Patient.name[0]", name="given", value=("valueString", "Devi"))
    )
    assert result["name"][0]["given"] == ["Asha", "K", "Devi"]
    assert result["name"][1]["given"] == ["Ash"]


def test_add_repeating_element_creates_a_list(patient: dict[str, Any]) -> None:
    result = apply(
        patient,
        operation(
            "add", "Patient.name.where(use='nickname')", name="prefix", value=("valueString", "Ms")
        ),
    )
    assert result["name"][1]["prefix"] == ["Ms"]


def test_add_appends_identifier(patient: dict[str, Any]) -> None:
    result = apply(
        patient,
        operation(
            "add",
            "Patient",
            name="identifier",
            value=("valueIdentifier", {"system": "urn:x", "value": "3"}),
        ),
    )
    assert [i["value"] for i in result["identifier"]] == ["MRN-1", "91-1234", "3"]


def test_add_existing_non_repeating_element_is_422(patient: dict[str, Any]) -> None:
    error = fails(
        patient, operation("add", "Patient", name="birthDate", value=("valueDate", "1930-01-01"))
    )
    assert error.status == 422
    assert "use replace" in error.diagnostics


def test_add_choice_element_named_by_its_base(observation: dict[str, Any]) -> None:
    del observation["component"]
    result = apply(
        observation,
        operation(
            "add", "Observation", name="value", value=("valueQuantity", {"value": 5, "unit": "mg"})
        ),
    )
    assert result["valueQuantity"] == {"value": 5, "unit": "mg"}
    assert "value" not in result


def test_add_choice_element_when_another_type_is_present_is_422(
    observation: dict[str, Any],
) -> None:
    observation["valueString"] = "high"
    error = fails(
        observation,
        operation("add", "Observation", name="value", value=("valueQuantity", {"value": 5})),
    )
    assert error.status == 422


def test_add_choice_element_with_disallowed_type_is_422(observation: dict[str, Any]) -> None:
    error = fails(
        observation,
        operation("add", "Observation", name="value", value=("valueAddress", {"city": "Pune"})),
    )
    assert error.status == 422
    assert "valueQuantity" in error.diagnostics  # the allowed types are listed


def test_add_extension_to_a_primitive_goes_into_its_shadow(patient: dict[str, Any]) -> None:
    result = apply(
        patient,
        operation(
            "add",
            "Patient.birthDate",
            name="extension",
            value=[
                {"name": "url", "valueUri": "http://example.org/accuracy"},
                {"name": "value", "valueCode": "estimated"},
            ],
        ),
    )
    assert result["birthDate"] == "1974-12-25"
    assert result["_birthDate"] == {
        "extension": [{"url": "http://example.org/accuracy", "valueCode": "estimated"}]
    }


def test_add_to_path_matching_several_elements_is_422(patient: dict[str, Any]) -> None:
    error = fails(
        patient, operation("add", "Patient.name", name="given", value=("valueString", "X"))
    )
    assert error.status == 422
    assert "operation[0]" in error.diagnostics
    assert "2 elements" in error.diagnostics


def test_add_to_missing_path_is_422(patient: dict[str, Any]) -> None:
    error = fails(
        patient, operation("add", "Patient.contact", name="gender", value=("valueCode", "male"))
    )
    assert error.status == 422


# -- insert -----------------------------------------------------------------------------------


def test_insert_at_index(patient: dict[str, Any]) -> None:
    result = apply(
        patient,
        operation(
            "insert",
            "Patient.identifier",
            index=1,
            value=("valueIdentifier", {"system": "urn:x", "value": "new"}),
        ),
    )
    assert [i["value"] for i in result["identifier"]] == ["MRN-1", "new", "91-1234"]


def test_insert_at_the_end_equals_list_length(patient: dict[str, Any]) -> None:
    result = apply(
        patient, operation("insert", "Patient.name[0].given", index=2, value=("valueString", "Z"))
    )
    assert result["name"][0]["given"] == ["Asha", "K", "Z"]


def test_insert_beyond_the_end_is_422(patient: dict[str, Any]) -> None:
    error = fails(
        patient, operation("insert", "Patient.name[0].given", index=3, value=("valueString", "Z"))
    )
    assert error.status == 422
    assert "index 3" in error.diagnostics


def test_insert_into_missing_list_creates_it(patient: dict[str, Any]) -> None:
    result = apply(
        patient, operation("insert", "Patient.name[1].suffix", index=0, value=("valueString", "Jr"))
    )
    assert result["name"][1]["suffix"] == ["Jr"]


def test_insert_into_non_repeating_element_is_422(patient: dict[str, Any]) -> None:
    error = fails(
        patient,
        operation("insert", "Patient.birthDate", index=0, value=("valueDate", "2000-01-01")),
    )
    assert error.status == 422


def test_insert_keeps_primitive_extensions_aligned(patient: dict[str, Any]) -> None:
    patient["name"][0]["_given"] = [None, {"extension": [{"url": "u", "valueCode": "IN"}]}]
    result = apply(
        patient, operation("insert", "Patient.name[0].given", index=0, value=("valueString", "Dr"))
    )
    assert result["name"][0]["given"] == ["Dr", "Asha", "K"]
    assert result["name"][0]["_given"][2] == {"extension": [{"url": "u", "valueCode": "IN"}]}
    assert result["name"][0]["_given"][:2] == [None, None]


# -- delete -----------------------------------------------------------------------------------


def test_delete_birthdate(patient: dict[str, Any]) -> None:
    patient["_birthDate"] = {"extension": [{"url": "u", "valueCode": "x"}]}
    result = apply(patient, operation("delete", "Patient.birthDate"))
    assert "birthDate" not in result
    assert "_birthDate" not in result  # the element goes with its extensions


def test_delete_identifier_by_where(patient: dict[str, Any]) -> None:
    result = apply(
        patient,
        operation("delete", "Patient.identifier.where(system='https://healthid.ndhm.gov.in')"),
    )
    assert result["identifier"] == [{"system": "http://hospital.example/mrn", "value": "MRN-1"}]


def test_delete_missing_element_is_a_no_op(patient: dict[str, Any]) -> None:
    result = apply(patient, operation("delete", "Patient.identifier.where(system='nope')"))
    assert result == patient


def test_delete_path_matching_several_elements_is_422(patient: dict[str, Any]) -> None:
    error = fails(patient, operation("delete", "Patient.telecom"))
    assert error.status == 422


def test_delete_last_item_removes_the_empty_list(patient: dict[str, Any]) -> None:
    result = apply(patient, operation("delete", "Patient.extension[0]"))
    assert "extension" not in result


def test_delete_last_property_removes_the_empty_object(patient: dict[str, Any]) -> None:
    # FHIR JSON forbids {}: name[1] only has use + given, deleting both removes the name.
    result = apply(
        patient,
        operation("delete", "Patient.name[1].given"),
        operation("delete", "Patient.name[1].use"),
    )
    assert len(result["name"]) == 1


def test_delete_given_keeps_primitive_extensions_aligned(patient: dict[str, Any]) -> None:
    patient["name"][0]["_given"] = [{"id": "a"}, {"id": "k"}]
    result = apply(patient, operation("delete", "Patient.name[0].given[0]"))
    assert result["name"][0]["given"] == ["K"]
    assert result["name"][0]["_given"] == [{"id": "k"}]


def test_delete_extension_by_url(patient: dict[str, Any]) -> None:
    result = apply(
        patient, operation("delete", "Patient.extension.where(url='http://example.org/religion')")
    )
    assert "extension" not in result


# -- replace ----------------------------------------------------------------------------------


def test_replace_birthdate(patient: dict[str, Any]) -> None:
    result = apply(
        patient, operation("replace", "Patient.birthDate", value=("valueDate", "1930-01-01"))
    )
    assert result["birthDate"] == "1930-01-01"


def test_replace_active_flag(patient: dict[str, Any]) -> None:
    result = apply(patient, operation("replace", "Patient.active", value=("valueBoolean", False)))
    assert result["active"] is False


def test_replace_telecom_value_where_use_home(patient: dict[str, Any]) -> None:
    result = apply(
        patient,
        operation(
            "replace", "Patient.telecom.where(use='home').value", value=("valueString", "020-2222")
        ),
    )
    assert [t["value"] for t in result["telecom"]] == ["020-2222", "98000-00000"]


def test_replace_first_name(patient: dict[str, Any]) -> None:
    result = apply(
        patient,
        operation(
            "replace",
            "Patient.name.first()",
            value=("valueHumanName", {"family": "Verma", "given": ["Asha"]}),
        ),
    )
    assert result["name"][0] == {"family": "Verma", "given": ["Asha"]}
    assert result["name"][1]["use"] == "nickname"


def test_replace_identifier_value_by_nested_where(patient: dict[str, Any]) -> None:
    result = apply(
        patient,
        operation(
            "replace",
            "Patient.identifier.where(type.text='ABHA').value",
            value=("valueString", "91-9999"),
        ),
    )
    assert result["identifier"][1]["value"] == "91-9999"


def test_replace_extension_value_by_url(patient: dict[str, Any]) -> None:
    result = apply(
        patient,
        operation(
            "replace",
            "Patient.extension.where(url='http://example.org/religion').value",
            value=("valueString", "hindu"),
        ),
    )
    assert result["extension"] == [{"url": "http://example.org/religion", "valueString": "hindu"}]


def test_replace_on_missing_path_is_422(patient: dict[str, Any]) -> None:
    del patient["birthDate"]
    error = fails(
        patient, operation("replace", "Patient.birthDate", value=("valueDate", "1930-01-01"))
    )
    assert error.status == 422
    assert error.issues[0].code == "processing"
    assert "no element" in error.diagnostics
    assert error.issues[0].expression == ["Parameters.parameter[0]"]


def test_replace_component_value_quantity(observation: dict[str, Any]) -> None:
    result = apply(
        observation,
        operation(
            "replace",
            "Observation.component[1].valueQuantity",
            value=("valueQuantity", {"value": 85, "unit": "mmHg"}),
        ),
    )
    assert result["component"][1]["valueQuantity"]["value"] == 85
    assert result["component"][0]["valueQuantity"]["value"] == 120


def test_replace_choice_element_with_another_type(observation: dict[str, Any]) -> None:
    observation["valueQuantity"] = {"value": 7}
    result = apply(
        observation, operation("replace", "Observation.value", value=("valueString", "seven"))
    )
    assert result["valueString"] == "seven"
    assert "valueQuantity" not in result


def test_replace_choice_element_with_disallowed_type_is_422(observation: dict[str, Any]) -> None:
    observation["valueQuantity"] = {"value": 7}
    error = fails(
        observation,
        operation("replace", "Observation.value", value=("valueAddress", {"city": "Pune"})),
    )
    assert error.status == 422


def test_replace_primitive_in_list(patient: dict[str, Any]) -> None:
    result = apply(
        patient, operation("replace", "Patient.name[0].given[1]", value=("valueString", "Kumari"))
    )
    assert result["name"][0]["given"] == ["Asha", "Kumari"]


def test_replace_with_value_built_from_parts(observation: dict[str, Any]) -> None:
    result = apply(
        observation,
        operation(
            "replace",
            "Observation.component[0]",
            value=[
                {"name": "code", "valueCodeableConcept": {"text": "mean"}},
                {"name": "value", "valueQuantity": {"value": 93}},
            ],
        ),
    )
    assert result["component"][0] == {"code": {"text": "mean"}, "valueQuantity": {"value": 93}}


def test_replace_id_is_rejected(patient: dict[str, Any]) -> None:
    error = fails(patient, operation("replace", "Patient.id", value=("valueId", "other")))
    assert error.status == 422
    assert "id" in error.diagnostics


# -- move -------------------------------------------------------------------------------------


def test_move_within_list(patient: dict[str, Any]) -> None:
    result = apply(patient, operation("move", "Patient.identifier", source=1, destination=0))
    assert [i["value"] for i in result["identifier"]] == ["91-1234", "MRN-1"]


def test_move_to_the_end(patient: dict[str, Any]) -> None:
    patient["name"][0]["given"] = ["a", "b", "c"]
    result = apply(patient, operation("move", "Patient.name[0].given", source=0, destination=2))
    assert result["name"][0]["given"] == ["b", "c", "a"]


def test_move_out_of_range_is_422(patient: dict[str, Any]) -> None:
    error = fails(patient, operation("move", "Patient.identifier", source=0, destination=2))
    assert error.status == 422
    assert "destination" in error.diagnostics


def test_move_keeps_primitive_extensions_aligned(patient: dict[str, Any]) -> None:
    patient["name"][0]["_given"] = [{"id": "a"}]
    result = apply(patient, operation("move", "Patient.name[0].given", source=0, destination=1))
    assert result["name"][0]["given"] == ["K", "Asha"]
    assert result["name"][0]["_given"] == [None, {"id": "a"}]


# -- whole patches ----------------------------------------------------------------------------


def test_operations_apply_in_order(patient: dict[str, Any]) -> None:
    result = apply(
        patient,
        operation(
            "insert",
            "Patient.telecom",
            index=0,
            value=("valueContactPoint", {"system": "email", "value": "a@example.org"}),
        ),
        operation("replace", "Patient.telecom[0].value", value=("valueString", "b@example.org")),
        operation("delete", "Patient.telecom.where(use='mobile')"),
    )
    assert [t["value"] for t in result["telecom"]] == ["b@example.org", "020-1111"]


def test_input_is_not_mutated(patient: dict[str, Any]) -> None:
    before = copy.deepcopy(patient)
    parameters = patch(
        operation("delete", "Patient.name[0].given[0]"),
        operation("add", "Patient", name="gender", value=("valueCode", "female")),
    )
    parameters_before = copy.deepcopy(parameters)
    apply_fhirpath_patch(patient, parameters)
    assert patient == before
    assert parameters == parameters_before


def test_failed_patch_is_atomic(patient: dict[str, Any]) -> None:
    before = copy.deepcopy(patient)
    error = fails(
        patient,
        operation("replace", "Patient.birthDate", value=("valueDate", "2000-01-01")),
        operation("replace", "Patient.deceased", value=("valueBoolean", True)),
    )
    assert "operation[1]" in error.diagnostics
    assert patient == before


def test_contained_resource_is_patched_through_oftype(patient: dict[str, Any]) -> None:
    patient["contained"] = [{"resourceType": "Organization", "id": "o", "name": "Old"}]
    result = apply(
        patient,
        operation(
            "replace", "Patient.contained.ofType(Organization).name", value=("valueString", "New")
        ),
    )
    assert result["contained"][0]["name"] == "New"


def test_path_may_omit_the_resource_type(patient: dict[str, Any]) -> None:
    result = apply(patient, operation("replace", "birthDate", value=("valueDate", "2001-01-01")))
    assert result["birthDate"] == "2001-01-01"


# -- malformed patches ------------------------------------------------------------------------


def test_parameters_without_operations_is_400(patient: dict[str, Any]) -> None:
    with pytest.raises(FhirError) as caught:
        apply_fhirpath_patch(patient, {"resourceType": "Parameters"})
    assert caught.value.status == 400


def test_body_that_is_not_parameters_is_400(patient: dict[str, Any]) -> None:
    with pytest.raises(FhirError) as caught:
        apply_fhirpath_patch(patient, {"resourceType": "Patient"})
    assert caught.value.status == 400


def test_unknown_operation_type_is_400(patient: dict[str, Any]) -> None:
    error = fails(patient, operation("upsert", "Patient.birthDate"))
    assert error.status == 400
    assert "upsert" in error.diagnostics


def test_missing_value_part_names_the_operation(patient: dict[str, Any]) -> None:
    error = fails(
        patient, operation("delete", "Patient.gender"), operation("replace", "Patient.birthDate")
    )
    assert error.status == 400
    assert "operation[1]" in error.diagnostics and "value" in error.diagnostics
    assert error.issues[0].expression == ["Parameters.parameter[1]"]


def test_add_without_name_is_400(patient: dict[str, Any]) -> None:
    error = fails(patient, operation("add", "Patient", value=("valueCode", "male")))
    assert error.status == 400
    assert "name" in error.diagnostics


def test_non_operation_parameter_is_400(patient: dict[str, Any]) -> None:
    with pytest.raises(FhirError) as caught:
        apply_fhirpath_patch(
            patient,
            {"resourceType": "Parameters", "parameter": [{"name": "other", "valueString": "x"}]},
        )
    assert caught.value.status == 400


def test_malformed_patch_is_rejected_before_anything_applies(patient: dict[str, Any]) -> None:
    # operation[1] has an unsupported path: nothing must run, so the 400 is about the patch.
    error = fails(
        patient,
        operation("replace", "Patient.nope", value=("valueString", "x")),
        operation("delete", "Patient.name.count()"),
    )
    assert error.status == 400
    assert error.issues[0].code == "not-supported"
    assert "operation[1]" in error.diagnostics


def test_resolve_is_not_supported(patient: dict[str, Any]) -> None:
    error = fails(patient, operation("delete", "Patient.generalPractitioner.resolve().name"))
    assert error.status == 400
    assert error.issues[0].code == "not-supported"
    assert "resolve()" in error.diagnostics


def test_path_for_another_resource_type_is_400(patient: dict[str, Any]) -> None:
    error = fails(patient, operation("delete", "Observation.status"))
    assert error.status == 400


def test_value_with_two_types_is_400(patient: dict[str, Any]) -> None:
    parameters = patch(operation("replace", "Patient.birthDate", value=("valueDate", "2000")))
    parameters["parameter"][0]["part"][2]["valueString"] = "2001"
    with pytest.raises(FhirError) as caught:
        apply_fhirpath_patch(patient, parameters)
    assert caught.value.status == 400


def test_negative_index_is_400(patient: dict[str, Any]) -> None:
    error = fails(
        patient,
        operation(
            "insert", "Patient.identifier", index=-1, value=("valueIdentifier", {"value": "x"})
        ),
    )
    assert error.status == 400
