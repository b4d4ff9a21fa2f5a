"""Compiled FHIRPath accessors agree with the expression's meaning."""

from __future__ import annotations

from fhir_server.search.fhirpath_compile import compile_accessor, split_top_level
from fhir_server.search.registry import SearchParameterRegistry


def run(registry: SearchParameterRegistry, expression: str, resource: dict) -> list:
    accessor = compile_accessor(expression, resource["resourceType"], registry.choice_elements)
    assert accessor is not None
    return accessor(resource, resource)


def test_split_ignores_separators_in_strings_and_parentheses() -> None:
    assert split_top_level("a.where(x='b|c') | (d as E)", "|") == [
        "a.where(x='b|c') ",
        " (d as E)",
    ]


def test_plain_path_flattens_arrays(registry: SearchParameterRegistry) -> None:
    patient = {"resourceType": "Patient", "name": [{"given": ["A", "B"]}, {"given": ["C"]}]}
    assert run(registry, "Patient.name.given", patient) == ["A", "B", "C"]


def test_union_keeps_only_branches_of_the_resource_type(
    registry: SearchParameterRegistry,
) -> None:
    condition = {"resourceType": "Condition", "code": {"text": "x"}}
    assert run(registry, "AllergyIntolerance.code | Condition.code", condition) == [{"text": "x"}]
    assert compile_accessor("AllergyIntolerance.code", "Condition", {}) is None


def test_choice_element_is_found_under_its_typed_key(registry: SearchParameterRegistry) -> None:
    obs = {"resourceType": "Observation", "valueQuantity": {"value": 1}, "effectivePeriod": {}}
    assert run(registry, "Observation.value", obs) == [{"value": 1}]
    assert run(registry, "(Observation.value as Quantity)", obs) == [{"value": 1}]
    assert run(registry, "Observation.value.as(CodeableConcept)", obs) == []
    assert run(registry, "Observation.effective.ofType(Period)", obs) == [{}]


def test_cast_followed_by_path(registry: SearchParameterRegistry) -> None:
    obs = {"resourceType": "Observation", "valueCodeableConcept": {"text": "pos"}}
    assert run(registry, "(Observation.value as CodeableConcept).text", obs) == ["pos"]


def test_where_equals_filters_on_a_child(registry: SearchParameterRegistry) -> None:
    patient = {
        "resourceType": "Patient",
        "telecom": [{"system": "phone", "value": "1"}, {"system": "email", "value": "a@b"}],
    }
    assert run(registry, "Patient.telecom.where(system='email')", patient) == [
        {"system": "email", "value": "a@b"}
    ]


def test_resolve_is_filters_references_by_type(registry: SearchParameterRegistry) -> None:
    obs = {
        "resourceType": "Observation",
        "subject": {"reference": "Group/g1"},
        "performer": [{"reference": "Patient/p1"}, {"reference": "Practitioner/d1"}],
    }
    assert run(registry, "Observation.subject.where(resolve() is Patient)", obs) == []
    assert run(registry, "Observation.performer.where(resolve() is Patient)", obs) == [
        {"reference": "Patient/p1"}
    ]


def test_extension_function_selects_by_url(registry: SearchParameterRegistry) -> None:
    patient = {
        "resourceType": "Patient",
        "extension": [
            {"url": "http://a", "valueString": "x"},
            {"url": "http://b", "valueCode": "y"},
        ],
    }
    assert run(registry, "Patient.extension('http://b').value", patient) == ["y"]


def test_relative_expression_and_percent_resource(registry: SearchParameterRegistry) -> None:
    seq = {"resourceType": "MolecularSequence", "referenceSeq": {"chromosome": {"text": "1"}}}
    accessor = compile_accessor("%resource.referenceSeq.chromosome", None, {})
    assert accessor is not None and accessor({"start": 1}, seq) == [{"text": "1"}]


def test_other_expressions_fall_back_to_the_fhirpath_engine(
    registry: SearchParameterRegistry,
) -> None:
    expression = "Patient.deceased.exists() and Patient.deceased != false"
    assert run(registry, expression, {"resourceType": "Patient", "deceasedBoolean": True}) == [True]
    assert run(registry, expression, {"resourceType": "Patient"}) in ([], [False])


def test_quotes_in_literals_cannot_inject_code(registry: SearchParameterRegistry) -> None:
    hostile = "Patient.identifier.where(system='x\\'); import os; (\\'')"
    patient = {"resourceType": "Patient", "identifier": [{"system": "x"}]}
    assert run(registry, hostile, patient) == []
