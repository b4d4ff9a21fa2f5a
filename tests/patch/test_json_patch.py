"""JSON Patch (RFC 6902) on a resource's JSON."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fhir_server.errors import FhirError
from fhir_server.patch import apply_json_patch


@pytest.fixture
def patient() -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": "p1",
        "active": True,
        "birthDate": "1974-12-25",
        "name": [{"family": "Sharma", "given": ["Asha"]}],
        "telecom": [{"system": "phone", "value": "1"}, {"system": "email", "value": "e"}],
    }


def fails(resource: dict[str, Any], operations: Any) -> FhirError:
    with pytest.raises(FhirError) as caught:
        apply_json_patch(resource, operations)
    return caught.value


def test_replace_birthdate(patient: dict[str, Any]) -> None:
    result = apply_json_patch(
        patient, [{"op": "replace", "path": "/birthDate", "value": "1930-01-01"}]
    )
    assert result["birthDate"] == "1930-01-01"


def test_add_given_name_to_end_of_list(patient: dict[str, Any]) -> None:
    result = apply_json_patch(patient, [{"op": "add", "path": "/name/0/given/-", "value": "Devi"}])
    assert result["name"][0]["given"] == ["Asha", "Devi"]


def test_add_new_member(patient: dict[str, Any]) -> None:
    result = apply_json_patch(patient, [{"op": "add", "path": "/gender", "value": "female"}])
    assert result["gender"] == "female"


def test_remove_telecom(patient: dict[str, Any]) -> None:
    result = apply_json_patch(patient, [{"op": "remove", "path": "/telecom/0"}])
    assert result["telecom"] == [{"system": "email", "value": "e"}]


def test_move_within_list(patient: dict[str, Any]) -> None:
    result = apply_json_patch(patient, [{"op": "move", "from": "/telecom/1", "path": "/telecom/0"}])
    assert [t["system"] for t in result["telecom"]] == ["email", "phone"]


def test_copy(patient: dict[str, Any]) -> None:
    result = apply_json_patch(patient, [{"op": "copy", "from": "/name/0", "path": "/name/-"}])
    assert result["name"] == [patient["name"][0], patient["name"][0]]


def test_json_patch_test_op_success_then_replace(patient: dict[str, Any]) -> None:
    result = apply_json_patch(
        patient,
        [
            {"op": "test", "path": "/birthDate", "value": "1974-12-25"},
            {"op": "replace", "path": "/birthDate", "value": "1975-01-01"},
        ],
    )
    assert result["birthDate"] == "1975-01-01"


def test_json_patch_test_op_failure(patient: dict[str, Any]) -> None:
    error = fails(
        patient,
        [
            {"op": "replace", "path": "/active", "value": False},
            {"op": "test", "path": "/birthDate", "value": "2000-01-01"},
        ],
    )
    assert error.status == 422
    assert error.issues[0].code == "processing"
    assert "operation[1]" in error.diagnostics and "test failed" in error.diagnostics


def test_test_op_distinguishes_true_from_one(patient: dict[str, Any]) -> None:
    error = fails(patient, [{"op": "test", "path": "/active", "value": 1}])
    assert error.status == 422


def test_test_op_on_missing_path_fails(patient: dict[str, Any]) -> None:
    assert fails(patient, [{"op": "test", "path": "/gender", "value": "x"}]).status == 422


def test_test_op_treats_equal_numbers_as_equal() -> None:
    resource = {"resourceType": "Observation", "valueQuantity": {"value": 1}}
    apply_json_patch(resource, [{"op": "test", "path": "/valueQuantity/value", "value": 1.0}])


def test_replace_on_missing_path_is_422(patient: dict[str, Any]) -> None:
    error = fails(patient, [{"op": "replace", "path": "/gender", "value": "male"}])
    assert error.status == 422
    assert "/gender" in error.diagnostics


def test_remove_beyond_list_end_is_422(patient: dict[str, Any]) -> None:
    assert fails(patient, [{"op": "remove", "path": "/telecom/5"}]).status == 422


def test_add_under_missing_parent_is_422(patient: dict[str, Any]) -> None:
    assert fails(patient, [{"op": "add", "path": "/contact/0/gender", "value": "x"}]).status == 422


def test_operations_not_a_list_is_400(patient: dict[str, Any]) -> None:
    error = fails(patient, {"op": "remove", "path": "/active"})
    assert error.status == 400
    assert error.issues[0].code == "invalid"


def test_empty_patch_is_400(patient: dict[str, Any]) -> None:
    assert fails(patient, []).status == 400


@pytest.mark.parametrize(
    ("operation", "mentions"),
    [
        ({"op": "upsert", "path": "/a"}, "upsert"),
        ({"op": "add", "path": "/gender"}, "value"),
        ({"op": "move", "path": "/a"}, "from"),
        ({"op": "remove", "path": "active"}, "JSON Pointer"),
        ({"op": "remove", "path": "/a~2b"}, "JSON Pointer"),
        ("remove /active", "object"),
    ],
)
def test_malformed_operation_is_400_naming_its_index(
    patient: dict[str, Any], operation: Any, mentions: str
) -> None:
    error = fails(patient, [{"op": "test", "path": "/active", "value": True}, operation])
    assert error.status == 400
    assert "operation[1]" in error.diagnostics
    assert mentions in error.diagnostics


def test_changing_id_is_rejected(patient: dict[str, Any]) -> None:
    error = fails(patient, [{"op": "replace", "path": "/id", "value": "p2"}])
    assert error.status == 422
    assert error.issues[0].expression == ["id"]


def test_removing_id_is_rejected(patient: dict[str, Any]) -> None:
    assert fails(patient, [{"op": "remove", "path": "/id"}]).status == 422


def test_changing_resource_type_is_rejected(patient: dict[str, Any]) -> None:
    error = fails(patient, [{"op": "replace", "path": "/resourceType", "value": "Person"}])
    assert error.status == 422


def test_replacing_the_document_with_a_non_object_is_rejected(patient: dict[str, Any]) -> None:
    assert fails(patient, [{"op": "replace", "path": "", "value": []}]).status == 422


def test_replacing_the_whole_document_keeping_identity_is_allowed(
    patient: dict[str, Any],
) -> None:
    new = {"resourceType": "Patient", "id": "p1", "gender": "other"}
    assert apply_json_patch(patient, [{"op": "replace", "path": "", "value": new}]) == new


def test_input_is_not_mutated(patient: dict[str, Any]) -> None:
    before = copy.deepcopy(patient)
    operations = [
        {"op": "add", "path": "/name/0/given/-", "value": "X"},
        {"op": "remove", "path": "/telecom"},
    ]
    result = apply_json_patch(patient, operations)
    assert patient == before
    # Nor does the result share structure with the input.
    result["name"][0]["family"] = "changed"
    assert patient["name"][0]["family"] == "Sharma"


def test_failed_patch_leaves_input_untouched(patient: dict[str, Any]) -> None:
    before = copy.deepcopy(patient)
    fails(patient, [{"op": "remove", "path": "/telecom"}, {"op": "remove", "path": "/nothing"}])
    assert patient == before
