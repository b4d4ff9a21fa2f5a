"""Structural validation of ViewDefinition, directly and through the write-time validator."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_server.errors import FhirError
from fhir_server.validation import ResourceValidator, require_resource
from fhir_server.validation.additional_types import SERVER_RESOURCE_TYPES
from fhir_server.views.definition import definition_issues

GOOD: dict[str, Any] = {
    "resourceType": "ViewDefinition",
    "name": "patients",
    "status": "draft",
    "resource": "Patient",
    "constant": [{"name": "sys", "valueUri": "urn:x"}],
    "where": [{"path": "active"}],
    "select": [
        {"column": [{"name": "id", "path": "id"}]},
        {
            "forEach": "name",
            "column": [{"name": "family", "path": "family", "type": "string"}],
            "select": [{"column": [{"name": "given", "path": "given", "collection": True}]}],
        },
        {
            "unionAll": [
                {"column": [{"name": "v", "path": "gender"}]},
                {"column": [{"name": "v", "path": "birthDate"}]},
            ]
        },
    ],
}


def problems(**changes: Any) -> list[tuple[str, str]]:
    view = {**GOOD, **changes}
    view = {k: v for k, v in view.items() if v is not None}
    return [(i.expression[0], i.code) for i in definition_issues(view, SERVER_RESOURCE_TYPES)]


def test_a_good_view_has_no_issues() -> None:
    assert problems() == []
    ResourceValidator().validate(GOOD)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"resource": None}, [("ViewDefinition.resource", "required")]),
        ({"resource": "Unicorn"}, [("ViewDefinition.resource", "value")]),
        ({"status": None}, [("ViewDefinition.status", "required")]),
        ({"status": "final"}, [("ViewDefinition.status", "value")]),
        ({"name": "my view"}, [("ViewDefinition.name", "value")]),
        ({"select": None}, [("ViewDefinition.select", "required")]),
        ({"select": [{}]}, [("ViewDefinition.select[0]", "required")]),
        ({"colour": "red"}, [("ViewDefinition.colour", "structure")]),
        ({"where": [{"path": "name.("}]}, [("ViewDefinition.where[0].path", "invalid")]),
        ({"where": [{}]}, [("ViewDefinition.where[0].path", "required")]),
        ({"constant": [{"name": "x"}]}, [("ViewDefinition.constant[0].value[x]", "required")]),
        (
            {"select": [{"column": [{"name": "a-b", "path": "id"}]}]},
            [("ViewDefinition.select[0].column[0].name", "value")],
        ),
        (
            {"select": [{"column": [{"name": "a", "path": ""}]}]},
            [("ViewDefinition.select[0].column[0].path", "value")],
        ),
        (
            {"select": [{"column": [{"name": "a", "path": "id", "collection": "yes"}]}]},
            [("ViewDefinition.select[0].column[0].collection", "value")],
        ),
        (
            {
                "select": [
                    {
                        "forEach": "name",
                        "forEachOrNull": "name",
                        "column": [{"name": "a", "path": "id"}],
                    }
                ]
            },
            [("ViewDefinition.select[0]", "invariant")],
        ),
        (
            {
                "select": [
                    {"column": [{"name": "a", "path": "id"}]},
                    {"select": [{"column": [{"name": "a", "path": "gender"}]}]},
                ]
            },
            [("ViewDefinition.select[1].select[0].column[0].name", "invariant")],
        ),
        (
            {
                "select": [
                    {
                        "unionAll": [
                            {"column": [{"name": "a", "path": "id"}]},
                            {"column": [{"name": "b", "path": "id"}]},
                        ]
                    }
                ]
            },
            [("ViewDefinition.select[0].unionAll[1]", "invariant")],
        ),
    ],
)
def test_each_problem_names_its_element(changes: dict[str, Any], expected: list) -> None:
    assert problems(**changes) == expected


def test_the_write_validator_answers_422_for_a_view_definition() -> None:
    with pytest.raises(FhirError) as caught:
        ResourceValidator().validate({**GOOD, "select": [{"column": [{"name": "1"}]}]})
    assert caught.value.status == 422
    assert {i.expression[0] for i in caught.value.issues} == {
        "ViewDefinition.select[0].column[0].name",
        "ViewDefinition.select[0].column[0].path",
    }


def test_view_definition_is_an_accepted_resource_type_beyond_r4() -> None:
    assert require_resource(dict(GOOD), "ViewDefinition")["resourceType"] == "ViewDefinition"
    with pytest.raises(FhirError):
        require_resource({"resourceType": "SQLQuery"}, None)
