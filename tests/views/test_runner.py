"""The view runner on the SQL on FHIR v2 behaviours, with small resources and exact rows."""

from __future__ import annotations

from typing import Any

import pytest

from fhir_server.errors import FhirError
from fhir_server.views.runner import Row, compile_view

PATIENTS: list[dict[str, Any]] = [
    {
        "resourceType": "Patient",
        "id": "pt1",
        "active": True,
        "gender": "female",
        "name": [
            {"use": "official", "family": "Sharma", "given": ["Asha", "Devi"]},
            {"use": "nickname", "given": ["Ashu"]},
        ],
        "telecom": [
            {"system": "phone", "value": "+91-11-1"},
            {"system": "email", "value": "asha@example.in"},
        ],
        "address": [{"city": "Delhi", "line": ["Sector 10"]}],
        "managingOrganization": {"reference": "Organization/org-a"},
        "extension": [
            {"url": "urn:test:caste", "valueString": "general"},
            {"url": "urn:test:income", "valueInteger": 3},
        ],
    },
    {"resourceType": "Patient", "id": "pt2", "active": False, "gender": "male"},
    {
        "resourceType": "Patient",
        "id": "pt3",
        "gender": "other",
        "name": [{"family": "Khan"}],
        "managingOrganization": {"reference": "http://other.example/fhir/Organization/org-b"},
    },
]


def view(select: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "ViewDefinition",
        "status": "active",
        "resource": "Patient",
        "select": select,
        **extra,
    }


def run(definition: dict[str, Any], resources: list[dict[str, Any]] = PATIENTS) -> list[Row]:
    return list(compile_view(definition).iter_rows(resources))


def columns(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"column": [{"name": n, "path": p} for n, p in pairs]}


def test_columns_give_one_row_per_resource_and_null_when_empty() -> None:
    rows = run(view([columns(("id", "id"), ("gender", "gender"), ("city", "address.city"))]))
    assert rows == [("pt1", "female", "Delhi"), ("pt2", "male", None), ("pt3", "other", None)]


def test_column_order_is_column_then_select_then_union() -> None:
    definition = view(
        [
            {
                "column": [{"name": "a", "path": "id"}],
                "select": [columns(("b", "gender"))],
                "unionAll": [columns(("c", "'x'")), columns(("c", "'y'"))],
            }
        ]
    )
    assert compile_view(definition).column_names == ["a", "b", "c"]
    assert run(definition, PATIENTS[1:2]) == [("pt2", "male", "x"), ("pt2", "male", "y")]


def test_collection_column_is_a_list_and_several_values_otherwise_fail() -> None:
    given = {"name": "given", "path": "name.given", "collection": True}
    rows = run(view([{"column": [{"name": "id", "path": "id"}, given]}]))
    assert rows == [("pt1", ["Asha", "Devi", "Ashu"]), ("pt2", []), ("pt3", [])]
    with pytest.raises(FhirError) as caught:
        run(view([columns(("given", "name.given"))]))
    assert caught.value.status == 422
    assert "Patient/pt1" in caught.value.diagnostics and "'given'" in caught.value.diagnostics


def test_for_each_repeats_the_select_and_drops_resources_without_items() -> None:
    definition = view(
        [
            columns(("id", "id")),
            {
                "forEach": "name",
                "column": [{"name": "family", "path": "family"}, {"name": "use", "path": "use"}],
            },
        ]
    )
    assert run(definition) == [
        ("pt1", "Sharma", "official"),
        ("pt1", None, "nickname"),
        ("pt3", "Khan", None),
    ]


def test_for_each_or_null_keeps_resources_without_items_as_nulls() -> None:
    definition = view(
        [columns(("id", "id")), {"forEachOrNull": "address", **columns(("city", "city"))}]
    )
    assert run(definition) == [("pt1", "Delhi"), ("pt2", None), ("pt3", None)]


def test_nested_for_each_is_a_cross_product() -> None:
    definition = view(
        [
            columns(("id", "id")),
            {"forEach": "name", "select": [{"forEach": "given", **columns(("given", "$this"))}]},
        ]
    )
    assert run(definition, PATIENTS[:1]) == [("pt1", "Asha"), ("pt1", "Devi"), ("pt1", "Ashu")]


def test_union_all_concatenates_branches_in_order() -> None:
    definition = view(
        [
            columns(("id", "id")),
            {
                "unionAll": [
                    {"forEach": "telecom", **columns(("contact", "value"))},
                    {"forEach": "address", **columns(("contact", "city"))},
                ]
            },
        ]
    )
    assert run(definition) == [
        ("pt1", "+91-11-1"),
        ("pt1", "asha@example.in"),
        ("pt1", "Delhi"),
    ]


def test_where_keeps_resources_whose_paths_are_true() -> None:
    definition = view([columns(("id", "id"))], where=[{"path": "active"}])
    assert run(definition) == [("pt1",)]
    both = view(
        [columns(("id", "id"))],
        where=[{"path": "gender != 'male'"}, {"path": "name.family.exists()"}],
    )
    assert run(both) == [("pt1",), ("pt3",)]


def test_where_that_is_not_boolean_is_an_error() -> None:
    with pytest.raises(FhirError) as caught:
        run(view([columns(("id", "id"))], where=[{"path": "gender"}]))
    assert caught.value.status == 422 and "not a boolean" in caught.value.diagnostics


def test_constants_are_percent_names() -> None:
    definition = view(
        [columns(("id", "id"), ("phone", "telecom.where(system = %kind).value"))],
        constant=[{"name": "kind", "valueCode": "phone"}],
        where=[{"path": "gender = %who"}],
    )
    definition["constant"].append({"name": "who", "valueString": "female"})
    assert run(definition) == [("pt1", "+91-11-1")]


def test_resource_and_reference_keys_join() -> None:
    definition = view(
        [
            columns(
                ("id", "getResourceKey()"),
                ("org", "managingOrganization.getReferenceKey(Organization)"),
                ("not_patient", "managingOrganization.getReferenceKey(Patient)"),
                ("any", "managingOrganization.getReferenceKey()"),
            )
        ]
    )
    assert run(definition) == [
        ("pt1", "org-a", None, "org-a"),
        ("pt2", None, None, None),
        ("pt3", "org-b", None, "org-b"),
    ]


def test_extension_of_type_first_join_and_exists() -> None:
    definition = view(
        [
            columns(
                ("caste", "extension('urn:test:caste').value.ofType(string)"),
                ("income", "extension('urn:test:income').value.ofType(integer)"),
                ("given", "name.first().given.join(' ')"),
                ("has_phone", "telecom.exists(system = 'phone')"),
            )
        ]
    )
    assert run(definition) == [
        ("general", 3, "Asha Devi", True),
        (None, None, "", False),
        (None, None, "", False),
    ]


def test_unknown_function_falls_back_to_fhirpathpy() -> None:
    definition = view([columns(("id", "id"), ("label", "iif(active, 'on', 'off')"))])
    assert run(definition) == [("pt1", "on"), ("pt2", "off"), ("pt3", "off")]  # empty = false


def test_a_union_branch_with_no_rows_gives_no_rows() -> None:
    definition = view(
        [columns(("id", "id")), {"unionAll": [{"forEach": "address", **columns(("c", "city"))}]}]
    )
    assert run(definition) == [("pt1", "Delhi")]


def test_invalid_definition_is_422_naming_the_element() -> None:
    with pytest.raises(FhirError) as caught:
        compile_view(view([columns(("1st", "id"))]))
    assert caught.value.status == 422
    assert caught.value.issues[0].expression == ["ViewDefinition.select[0].column[0].name"]
