"""The binding table and the write-time binding checks, against a small fake terminology."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from fhir_server.errors import FhirError
from fhir_server.terminology.bindings import (
    BindingChecker,
    check_bindings,
    coded_pairs,
    default_table,
)

GENDER = "http://hl7.org/fhir/ValueSet/administrative-gender"
OBS_STATUS = "http://hl7.org/fhir/ValueSet/observation-status"
MARITAL = "http://hl7.org/fhir/ValueSet/marital-status"
ID_USE = "http://hl7.org/fhir/ValueSet/identifier-use"
COMPARATOR = "http://hl7.org/fhir/ValueSet/quantity-comparator"
ACT_ENCOUNTER = "http://terminology.hl7.org/ValueSet/v3-ActEncounterCode"
V3_MARITAL = "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus"
V3_ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


@dataclass(frozen=True)
class Check:
    result: bool
    message: str | None = None


class FakeTerminology:
    """Value sets as {url: {(system, code)}}; a None system in a query matches any system."""

    def __init__(self, value_sets: dict[str, set[tuple[str, str]]]) -> None:
        self.value_sets = value_sets
        self.calls = 0

    def has_value_set(self, url: str) -> bool:
        return url.split("|", 1)[0] in self.value_sets

    def validate_code(
        self, value_set: str, system: str | None, code: str, display: str | None = None
    ) -> Check:
        self.calls += 1
        members = self.value_sets.get(value_set)
        if members is None:
            raise FhirError(404, "not-found", f"unknown value set {value_set}")
        ok = any(c == code and (system is None or s == system) for s, c in members)
        return Check(ok, None if ok else "not in the value set")


def fake() -> FakeTerminology:
    admin = "http://hl7.org/fhir/administrative-gender"
    return FakeTerminology(
        {
            GENDER: {(admin, c) for c in ("male", "female", "other", "unknown")},
            OBS_STATUS: {("http://hl7.org/fhir/observation-status", c) for c in ("final",)},
            MARITAL: {(V3_MARITAL, "M"), (V3_MARITAL, "S")},
            ID_USE: {("http://hl7.org/fhir/identifier-use", c) for c in ("usual", "official")},
            COMPARATOR: {("http://hl7.org/fhir/quantity-comparator", c) for c in ("<", ">")},
            ACT_ENCOUNTER: {(V3_ACT, "AMB"), (V3_ACT, "IMP")},
        }
    )


# -- the table --------------------------------------------------------------------------


def test_table_holds_required_resource_bindings() -> None:
    table = default_table()
    assert table.binding("Patient", "gender") == ("required", GENDER, "code", None)
    assert table.binding("Observation", "status")[:2] == ("required", OBS_STATUS)
    assert table.binding("Encounter", "class")[:3] == ("extensible", ACT_ENCOUNTER, "Coding")
    assert table.binding("MedicationRequest", "intent")[0] == "required"
    assert table.binding("Claim", "use")[0] == "required"


def test_table_holds_data_type_bindings_and_routes_to_them() -> None:
    table = default_table()
    assert table.binding("Identifier", "use")[:2] == ("required", ID_USE)
    assert table.binding("ContactPoint", "system")[0] == "required"
    assert table.binding("HumanName", "use")[0] == "required"
    assert table.binding("Address", "use")[0] == "required"
    assert table.binding("Quantity", "comparator")[:2] == ("required", COMPARATOR)
    assert table.binding("Narrative", "status")[0] == "required"
    # keys that lead to bound values name the table to walk into
    assert table.binding("Patient", "identifier")[3] == "Identifier"
    assert table.binding("Patient", "contact")[3] == "Patient.contact"
    assert table.binding("Observation", "valueQuantity")[3] == "Quantity"
    assert table.binding("Patient", "contained")[3] == "*"
    # preferred/example bindings are not kept
    assert table.binding("Observation", "code") is None


def test_walk_finds_bound_values_in_nested_choice_contained_and_extension_paths() -> None:
    resource = {
        "resourceType": "Patient",
        "gender": "male",
        "contact": [{"gender": "female"}],
        "identifier": [{"use": "usual"}],
        "extension": [{"url": "u", "valueQuantity": {"value": 1, "comparator": "<"}}],
        "contained": [{"resourceType": "Observation", "status": "final"}],
        "birthDate": "2000-01-01",
    }
    paths = {b.path for b in default_table().bound_values(resource)}
    assert paths == {
        "Patient.gender",
        "Patient.contact[0].gender",
        "Patient.identifier[0].use",
        "Patient.extension[0].valueQuantity.comparator",
        "Patient.contained[0].status",
    }


def test_walk_follows_content_references() -> None:
    questionnaire = {
        "resourceType": "Questionnaire",
        "status": "draft",
        "item": [{"linkId": "1", "type": "group", "item": [{"linkId": "1.1", "type": "string"}]}],
    }
    paths = {b.path for b in default_table().bound_values(questionnaire)}
    assert "Questionnaire.item[0].item[0].type" in paths


def test_coded_pairs_per_type() -> None:
    table = default_table()
    values = {
        b.path: b
        for b in table.bound_values(
            {
                "resourceType": "Encounter",
                "status": "planned",
                "class": {"system": V3_ACT, "code": "AMB"},
                "participant": [{"type": [{"coding": [{"system": "s", "code": "c"}]}]}],
            }
        )
    }
    assert coded_pairs(values["Encounter.status"]) == [(None, "planned")]
    assert coded_pairs(values["Encounter.class"]) == [(V3_ACT, "AMB")]
    assert coded_pairs(values["Encounter.participant[0].type[0]"]) == [("s", "c")]


# -- the checks -------------------------------------------------------------------------


def test_required_binding_violation_is_an_error_naming_element_and_value_set() -> None:
    checker = BindingChecker(fake())
    issues = checker.issues({"resourceType": "Patient", "gender": "x"})
    assert len(issues) == 1
    assert issues[0].severity == "error"
    assert issues[0].code == "code-invalid"
    assert issues[0].expression == ["Patient.gender"]
    assert GENDER in issues[0].diagnostics and "required" in issues[0].diagnostics


def test_valid_codes_give_no_issue() -> None:
    checker = BindingChecker(fake())
    resource = {
        "resourceType": "Patient",
        "gender": "female",
        "identifier": [{"use": "official"}],
        "maritalStatus": {"coding": [{"system": V3_MARITAL, "code": "M"}]},
    }
    assert checker.issues(resource) == []


def test_codeable_concept_passes_when_any_coding_is_in_the_value_set() -> None:
    checker = BindingChecker(fake())
    concept = {"coding": [{"system": "local", "code": "x"}, {"system": V3_MARITAL, "code": "S"}]}
    assert checker.issues({"resourceType": "Patient", "maritalStatus": concept}) == []


def test_extensible_violation_is_a_warning_by_default_and_text_alone_is_fine() -> None:
    checker = BindingChecker(fake())
    bad = {"resourceType": "Patient", "maritalStatus": {"coding": [{"system": "l", "code": "x"}]}}
    issues = checker.issues(bad)
    assert [(i.severity, i.expression) for i in issues] == [("warning", ["Patient.maritalStatus"])]
    assert MARITAL in issues[0].diagnostics and "extensible" in issues[0].diagnostics
    assert checker.issues({"resourceType": "Patient", "maritalStatus": {"text": "married"}}) == []


def test_strict_extensible_setting_makes_it_an_error() -> None:
    checker = BindingChecker(fake(), extensible="error")
    encounter = {"resourceType": "Encounter", "class": {"system": V3_ACT, "code": "ZZZ"}}
    issues = checker.issues(encounter)
    assert [(i.severity, i.expression) for i in issues] == [("error", ["Encounter.class"])]


def test_required_warn_and_ignore_modes() -> None:
    patient = {"resourceType": "Patient", "gender": "x"}
    warned = BindingChecker(fake(), required="warn").issues(patient)
    assert [i.severity for i in warned] == ["warning"]
    assert BindingChecker(fake(), required="ignore").issues(patient) == []


def test_value_sets_the_service_does_not_know_are_skipped() -> None:
    checker = BindingChecker(FakeTerminology({}))
    assert checker.issues({"resourceType": "Patient", "gender": "x"}) == []


def test_required_codeable_concept_without_coding_is_an_error() -> None:
    terminology = fake()
    clinical = "http://hl7.org/fhir/ValueSet/condition-clinical"
    terminology.value_sets[clinical] = {("http://x", "active")}
    issues = BindingChecker(terminology).issues(
        {"resourceType": "Condition", "clinicalStatus": {"text": "active"}}
    )
    assert [i.expression for i in issues] == [["Condition.clinicalStatus"]]
    assert "no coding" in issues[0].diagnostics


def test_answers_are_cached_per_value_set_system_and_code() -> None:
    terminology = fake()
    checker = BindingChecker(terminology)
    for _ in range(5):
        checker.issues({"resourceType": "Patient", "gender": "male"})
    assert terminology.calls == 1


def test_check_bindings_raises_422_for_errors_and_returns_warnings() -> None:
    ctx: Any = SimpleNamespace(terminology=fake(), settings=SimpleNamespace())
    with pytest.raises(FhirError) as caught:
        check_bindings(ctx, {"resourceType": "Observation", "status": "bogus"})
    assert caught.value.status == 422
    assert caught.value.issues[0].expression == ["Observation.status"]
    assert OBS_STATUS in caught.value.diagnostics
    warnings = check_bindings(
        ctx, {"resourceType": "Encounter", "class": {"system": V3_ACT, "code": "ZZZ"}}
    )
    assert [w.severity for w in warnings] == ["warning"]


def test_no_terminology_service_means_no_checks() -> None:
    ctx: Any = SimpleNamespace(settings=SimpleNamespace())
    assert check_bindings(ctx, {"resourceType": "Patient", "gender": "x"}) == []


def test_a_value_set_stored_later_counts_after_a_terminology_write() -> None:
    class Refreshing(FakeTerminology):
        """Like the real service: `refresh` rebuilds, replacing `catalogue`."""

        def __init__(self) -> None:
            super().__init__({})
            self.pending: dict[str, set[tuple[str, str]]] = {}
            self.catalogue = object()

        def refresh(self) -> None:
            if self.pending:
                self.value_sets.update(self.pending)
                self.pending = {}
                self.catalogue = object()

    terminology = Refreshing()
    ctx: Any = SimpleNamespace(terminology=terminology, settings=SimpleNamespace())
    patient = {"resourceType": "Patient", "gender": "x"}
    assert check_bindings(ctx, patient) == []  # administrative-gender unknown so far
    terminology.pending = fake().value_sets
    check_bindings(ctx, {"resourceType": "ValueSet", "status": "active"})
    with pytest.raises(FhirError) as caught:
        check_bindings(ctx, patient)
    assert caught.value.status == 422
