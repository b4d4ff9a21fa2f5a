"""SearchParameterRegistry: lookups, common parameters, composites, run-time parameters."""

from __future__ import annotations

import time

import pytest

from fhir_server.errors import FhirError
from fhir_server.search.registry import SearchParameterRegistry


def test_registry_loads_in_well_under_half_a_second() -> None:
    start = time.perf_counter()
    SearchParameterRegistry.load_default()
    assert time.perf_counter() - start < 0.5


def test_get_finds_type_specific_parameter(registry: SearchParameterRegistry) -> None:
    name = registry.get("Patient", "name")
    assert name is not None
    assert (name.type, name.expression) == ("string", "Patient.name")


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("_id", "token"),
        ("_lastUpdated", "date"),
        ("_tag", "token"),
        ("_profile", "uri"),
        ("_security", "token"),
        ("_source", "uri"),
    ],
)
def test_common_parameters_apply_to_every_type(
    registry: SearchParameterRegistry, code: str, kind: str
) -> None:
    for resource_type in ("Patient", "Observation", "Organization"):
        param = registry.get(resource_type, code)
        assert param is not None and param.type == kind


def test_unknown_parameter_is_none(registry: SearchParameterRegistry) -> None:
    assert registry.get("Patient", "no-such-param") is None
    assert registry.get("NoSuchType", "name") is None


def test_for_type_merges_common_and_specific(registry: SearchParameterRegistry) -> None:
    params = registry.for_type("Observation")
    assert {"code", "subject", "value-quantity", "_tag", "_id"} <= set(params)
    assert "gender" not in params


def test_reference_parameter_knows_its_targets(registry: SearchParameterRegistry) -> None:
    subject = registry.get("Observation", "subject")
    assert subject is not None and "Patient" in subject.targets and "Group" in subject.targets
    patient = registry.get("Observation", "patient")
    assert patient is not None and patient.targets == ("Patient",)


def test_composite_parameter_knows_its_components(registry: SearchParameterRegistry) -> None:
    param = registry.get("Observation", "code-value-quantity")
    assert param is not None
    assert [(c.code, c.type, c.expression) for c in param.components] == [
        ("code", "token", "code"),
        ("value-quantity", "quantity", "value.as(Quantity)"),
    ]


def test_compartment_params_come_from_the_patient_compartment(
    registry: SearchParameterRegistry,
) -> None:
    assert registry.compartment_params["Observation"] == ("subject", "performer")
    assert "Organization" not in registry.compartment_params
    assert registry.is_resource_type("Observation") and not registry.is_resource_type("Foo")


def test_register_adds_a_runtime_search_parameter() -> None:
    registry = SearchParameterRegistry.load_default()
    version = registry.version
    param = registry.register(
        {
            "resourceType": "SearchParameter",
            "url": "https://abdm.gov.in/fhir/SearchParameter/patient-abha-address",
            "code": "abha-address",
            "base": ["Patient"],
            "type": "token",
            "expression": "Patient.identifier.where(system='https://abha.abdm.gov.in/address')",
        }
    )
    assert registry.get("Patient", "abha-address") == param
    assert registry.version > version
    assert "abha-address" in registry.for_type("Patient")


def test_register_composite_resolves_official_components() -> None:
    registry = SearchParameterRegistry.load_default()
    param = registry.register(
        {
            "resourceType": "SearchParameter",
            "code": "code-status",
            "base": ["Observation"],
            "type": "composite",
            "expression": "Observation",
            "component": [
                {
                    "definition": "http://hl7.org/fhir/SearchParameter/clinical-code",
                    "expression": "code",
                },
                {
                    "definition": "http://hl7.org/fhir/SearchParameter/Observation-status",
                    "expression": "status",
                },
            ],
        }
    )
    assert [c.type for c in param.components] == ["token", "token"]


@pytest.mark.parametrize(
    ("resource", "field"),
    [
        ({"resourceType": "Patient"}, "resourceType"),
        (
            {
                "resourceType": "SearchParameter",
                "base": ["Patient"],
                "type": "token",
                "expression": "Patient.x",
            },
            "code",
        ),
        (
            {
                "resourceType": "SearchParameter",
                "code": "x",
                "base": ["Patient"],
                "type": "bogus",
                "expression": "Patient.x",
            },
            "type",
        ),
        (
            {"resourceType": "SearchParameter", "code": "x", "base": ["Patient"], "type": "token"},
            "expression",
        ),
        (
            {
                "resourceType": "SearchParameter",
                "code": "x",
                "base": ["Nope"],
                "type": "token",
                "expression": "Nope.x",
            },
            "base",
        ),
    ],
)
def test_register_rejects_invalid_search_parameters(resource: dict, field: str) -> None:
    registry = SearchParameterRegistry.load_default()
    with pytest.raises(FhirError) as err:
        registry.register(resource)
    assert err.value.status == 400
    assert field in err.value.diagnostics or field in str(err.value.issues[0].expression)


def test_document_reference_relationship_erratum_is_corrected(
    registry: SearchParameterRegistry,
) -> None:
    param = registry.get("DocumentReference", "relationship")
    assert param is not None
    assert [(c.code, c.type, c.expression) for c in param.components] == [
        ("relatesto", "reference", "target"),
        ("relation", "token", "code"),
    ]
