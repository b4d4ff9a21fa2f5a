"""The R4 JSON Schema check: precise paths, and R4 where R4B models differ."""

from __future__ import annotations

import gzip

import orjson

from fhir_server.validation.resource_types import R4_RESOURCE_TYPES
from fhir_server.validation.schema import SCHEMA_PATH, schema_issues


def paths(resource: dict) -> list[str]:
    return sorted(e for i in schema_issues(resource) for e in i.expression)


def test_valid_resource_has_no_schema_issues() -> None:
    assert schema_issues({"resourceType": "Patient", "gender": "female"}) == []


def test_nested_enum_value_is_pathed() -> None:
    patient = {"resourceType": "Patient", "contact": [{"gender": "maybe"}]}
    [issue] = schema_issues(patient)
    assert issue.expression == ["Patient.contact[0].gender"]
    assert issue.code == "value"


def test_string_for_boolean_is_one_type_issue() -> None:
    [issue] = schema_issues({"resourceType": "Patient", "active": "yes"})
    assert issue.expression == ["Patient.active"]
    assert issue.code == "structure"


def test_unknown_elements_each_get_a_path() -> None:
    assert paths({"resourceType": "Patient", "a": 1, "b": 2}) == ["Patient.a", "Patient.b"]


def test_missing_required_elements_each_get_a_path() -> None:
    # Required primitives (Observation.status) are not in the schema's `required`: they
    # may be sent as `_status` with only an extension. Complex ones are.
    assert paths({"resourceType": "Observation"}) == ["Observation.code"]
    assert paths({"resourceType": "Flag", "status": "active"}) == ["Flag.code", "Flag.subject"]


def test_r4b_only_element_is_rejected_as_not_r4() -> None:
    # ActivityDefinition.subjectCanonical was added in R4B.
    resource = {"resourceType": "ActivityDefinition", "status": "draft", "subjectCanonical": "x"}
    assert paths(resource) == ["ActivityDefinition.subjectCanonical"]


def test_contained_resources_are_checked_against_their_own_type() -> None:
    resource = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "x"},
        "contained": [{"resourceType": "Patient", "gender": "q"}, {"resourceType": "Nope"}],
    }
    assert paths(resource) == [
        "Observation.contained[0].gender",
        "Observation.contained[1].resourceType",
    ]


def test_medplum_additions_are_not_r4() -> None:
    resource = {
        "resourceType": "Patient",
        "meta": {"project": "x"},
        "managingOrganization": {"reference": "Organization/1", "resource": {}},
    }
    assert paths(resource) == ["Patient.managingOrganization.resource", "Patient.meta.project"]


def test_committed_schema_holds_exactly_the_r4_types() -> None:
    schema = orjson.loads(gzip.decompress(SCHEMA_PATH.read_bytes()))
    assert set(schema["discriminator"]["mapping"]) == R4_RESOURCE_TYPES
    assert "Project" not in schema["definitions"]
    # `description` is also an element name: stripping texts must not remove elements.
    assert "description" in schema["definitions"]["ActivityDefinition"]["properties"]
