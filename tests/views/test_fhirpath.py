"""The compiled FHIRPath subset: exact results, and the same answers as fhirpathpy."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import fhirpathpy
import pytest
from fhirpathpy.models import models

from fhir_server.views.fhirpath import Env, FhirPathError, compile_path

OBS: dict[str, Any] = {
    "resourceType": "Observation",
    "id": "obs1",
    "status": "final",
    "code": {
        "coding": [
            {"system": "http://loinc.org", "code": "4548-4", "display": "HbA1c"},
            {"system": "urn:local", "code": "A1C"},
        ],
        "text": "HbA1c",
    },
    "subject": {"reference": "Patient/p1"},
    "performer": [
        {"reference": "Practitioner/d1", "display": "Dr. Iyer"},
        {"reference": "Organization/o1/_history/3", "display": "AAM Dwarka"},
    ],
    "valueQuantity": {"value": 7.2, "unit": "%"},
    "effectiveDateTime": "2026-10-05T10:30:00+05:30",
    "component": [{"valueString": "a"}, {"valueInteger": 4}],
}


def evaluate(path: str, resource: dict[str, Any] = OBS, **constants: Any) -> list:
    compiled = compile_path(path)
    assert compiled.compiled, f"{path} should not need the fallback engine"
    return compiled(resource, Env(resource, {k: [v] for k, v in constants.items()}))


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("id", ["obs1"]),
        ("Observation.status", ["final"]),
        ("code.coding.code", ["4548-4", "A1C"]),
        ("code.coding[1].code", ["A1C"]),
        ("code.coding.where(system = 'http://loinc.org').display", ["HbA1c"]),
        ("value.ofType(Quantity).value", [7.2]),
        ("value.unit", ["%"]),  # a choice element found without ofType
        ("(value as Quantity).unit", ["%"]),
        ("effective.ofType(dateTime).substring(0, 10)", ["2026-10-05"]),
        ("effective.ofType(Period)", []),
        ("component.value.ofType(integer)", [4]),
        ("code.coding.code.join(',')", ["4548-4,A1C"]),
        ("code.coding.exists()", [True]),
        ("code.coding.exists(code = 'nope')", [False]),
        ("code.coding.empty()", [False]),
        ("code.coding.count() = 2", [True]),
        ("code.coding.first().code", ["4548-4"]),
        ("code.coding.last().code", ["A1C"]),
        ("status = 'final' and code.text = 'HbA1c'", [True]),
        ("status = 'draft' or code.exists().not()", [False]),
        ("status != 'final'", [False]),
        ("missing = 'x'", []),
        ("value.value > 6.5", [True]),
        ("value.value * 10 + 1", [73.0]),
        ("'a' & 'b'", ["ab"]),
        ("status in ('final' | 'amended')", [True]),
        ("getResourceKey()", ["obs1"]),
        ("subject.getReferenceKey(Patient)", ["p1"]),
        ("subject.getReferenceKey(Group)", []),
        ("performer.getReferenceKey(Organization)", ["o1"]),
        ("performer.where(getReferenceKey(Organization).exists()).display", ["AAM Dwarka"]),
        ("code.coding.code.startsWith('45')", []),  # two values: not a single string
        ("code.text.startsWith('Hb')", [True]),
        ("%resource.id", ["obs1"]),
    ],
)
def test_compiled_paths(path: str, expected: list) -> None:
    assert evaluate(path) == expected


def test_constants_are_looked_up_and_unknown_ones_fail() -> None:
    assert evaluate("code.coding.where(system = %sys).code", sys="urn:local") == ["A1C"]
    with pytest.raises(FhirPathError, match="unknown constant %nope"):
        evaluate("%nope")


@pytest.mark.parametrize(
    "path",
    [
        "code.coding.code",
        "code.coding.where(system = 'http://loinc.org').display.first()",
        "value.ofType(Quantity).value",
        "performer.display.join('; ')",
        "code.coding.exists(code = 'A1C') and status = 'final'",
        "code.coding.count()",
        "component.value.ofType(integer)",
        "effective.ofType(dateTime)",
    ],
)
def test_same_answer_as_fhirpathpy(path: str) -> None:
    engine = fhirpathpy.evaluate(OBS, path, {}, models["r4"])
    assert evaluate(path) == [float(v) if isinstance(v, Decimal) else v for v in engine]


def test_unsupported_functions_use_the_engine() -> None:
    compiled = compile_path("code.coding.select(code + '!').combine('x')")
    assert not compiled.compiled
    assert compiled(OBS, Env(OBS, {})) == ["4548-4!", "A1C!", "x"]


def test_engine_knows_the_key_functions() -> None:
    compiled = compile_path("iif(subject.getReferenceKey(Patient) = 'p1', getResourceKey(), 'no')")
    assert not compiled.compiled
    assert compiled(OBS, Env(OBS, {})) == ["obs1"]


@pytest.mark.parametrize("path", ["code.", "where(", "a b", "'open", "code.coding[0"])
def test_syntax_errors_raise(path: str) -> None:
    with pytest.raises(FhirPathError):
        compile_path(path)
