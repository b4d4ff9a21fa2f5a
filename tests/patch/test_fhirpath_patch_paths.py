"""The FHIRPath subset used to locate patch targets: what it selects and what it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_server.errors import FhirError
from fhir_server.patch.locate import evaluate
from fhir_server.patch.path_parser import parse_path

PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "p",
    "active": True,
    "multipleBirthInteger": 2,
    "birthDate": "1980-01-01",
    "_birthDate": {"extension": [{"url": "http://x/accuracy", "valueCode": "estimated"}]},
    "name": [
        {"use": "official", "given": ["A", "B"], "_given": [None, {"id": "b"}]},
        {"use": "old", "given": ["C"], "period": {"end": "2000"}},
    ],
    "telecom": [
        {"system": "phone", "use": "home", "value": "1", "rank": 1},
        {"system": "email", "use": "home", "value": "e", "rank": 2},
        {"system": "phone", "use": "work", "value": "3"},
    ],
    "extension": [
        {"url": "http://x/a", "valueString": "one"},
        {"url": "http://x/b", "valueBoolean": False},
    ],
}


def values(expression: str, resource: dict[str, Any] = PATIENT) -> list[Any]:
    return [node.value for node in evaluate(resource, parse_path(expression), expression)]


def test_member_access_flattens_lists() -> None:
    assert values("Patient.name.given") == ["A", "B", "C"]


def test_indexer_applies_to_the_collection_so_far() -> None:
    assert values("Patient.name.given[2]") == ["C"]
    assert values("Patient.name[1].given") == ["C"]
    assert values("Patient.name[5]") == []


def test_first_and_last() -> None:
    assert values("Patient.telecom.first().value") == ["1"]
    assert values("Patient.telecom.last().value") == ["3"]


def test_where_with_and() -> None:
    assert values("Patient.telecom.where(system='phone' and use='home').value") == ["1"]


def test_where_with_or_and_parentheses() -> None:
    expression = "Patient.telecom.where(use='work' or (system='email' and use='home')).value"
    assert values(expression) == ["e", "3"]


def test_where_not_equal_excludes_missing_values() -> None:
    # `rank != 1` is empty (so false) when rank is absent, as in FHIRPath.
    assert values("Patient.telecom.where(rank != 1).value") == ["e"]


def test_where_compares_numbers_and_booleans() -> None:
    assert values("Patient.telecom.where(rank = 2).value") == ["e"]
    assert values("Patient.extension.where(value = false).url") == ["http://x/b"]
    assert values("Patient.where(active = true).id") == ["p"]


def test_where_with_nested_member_path_and_exists() -> None:
    assert values("Patient.name.where(period.end.exists()).use") == ["old"]
    assert values("Patient.name.where(period.empty()).use") == ["official"]


def test_where_on_multi_valued_member_is_false() -> None:
    # FHIRPath `=` between a 2-item collection and a literal is false.
    assert values("Patient.name.where(given = 'A').use") == []
    assert values("Patient.name.where(given = 'C').use") == ["old"]


def test_this_selects_primitive_list_items() -> None:
    nodes = evaluate(PATIENT, parse_path("Patient.name.given.where($this = 'B')"), "x")
    assert [(n.key, n.index) for n in nodes] == [("given", 1)]


def test_choice_element_resolves_to_its_typed_name() -> None:
    nodes = evaluate(PATIENT, parse_path("Patient.multipleBirth"), "x")
    assert [(n.key, n.choice_base, n.value) for n in nodes] == [
        ("multipleBirthInteger", "multipleBirth", 2)
    ]


def test_of_type_filters_choice_elements() -> None:
    assert values("Patient.extension.value.ofType(string)") == ["one"]
    assert values("Patient.extension.value.ofType(boolean)") == [False]
    assert values("Patient.multipleBirth.ofType(FHIR.integer)") == [2]


def test_extension_function_selects_by_url() -> None:
    assert values("Patient.extension('http://x/b').value") == [False]


def test_member_access_on_a_primitive_reads_its_shadow() -> None:
    assert values("Patient.birthDate.extension.url") == ["http://x/accuracy"]
    assert values("Patient.name.given.id") == ["b"]


def test_backtick_identifier() -> None:
    resource = {"resourceType": "Patient", "text": {"status": "generated", "div": "<div/>"}}
    assert values("Patient.text.`div`", resource) == ["<div/>"]


def test_locations_carry_container_and_index() -> None:
    (node,) = evaluate(PATIENT, parse_path("Patient.telecom.where(use='work')"), "x")
    assert node.key == "telecom" and node.index == 2
    assert node.holder is PATIENT


def test_unknown_resource_type_falls_back_to_the_json() -> None:
    resource = {"resourceType": "NotInTheModel", "thing": [{"valueWidget": 1}]}
    assert values("NotInTheModel.thing.value", resource) == [1]


@pytest.mark.parametrize(
    "expression",
    [
        "Patient.name.count()",
        "Patient.name | Patient.telecom",
        "Patient.generalPractitioner.resolve()",
        "Patient.name.where(given.count() = 1)",
        "Patient.name.exists()",
        "Patient.name[0",
        "Patient.name.where(use = %code)",
        "Patient.name.where(use = family)",
    ],
)
def test_unsupported_expressions_are_rejected(expression: str) -> None:
    with pytest.raises(FhirError) as caught:
        parse_path(expression)
    assert caught.value.status == 400
    assert caught.value.issues[0].code == "not-supported"
    assert expression in caught.value.diagnostics


def test_string_literal_escapes() -> None:
    resource = {"resourceType": "Patient", "name": [{"family": "O'Neil"}]}
    assert values("Patient.name.where(family = 'O\\'Neil').family", resource) == ["O'Neil"]
