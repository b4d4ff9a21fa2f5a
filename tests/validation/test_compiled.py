"""The compiled write verdict: what it adds to the R4 JSON Schema, and that it never
accepts what the R4B models reject (differential test on mutated seed resources)."""

from __future__ import annotations

import copy
import gzip
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from fhir_server.validation import compiled
from fhir_server.validation.compiled import conforms, problems
from fhir_server.validation.resource import _model_class, _model_issues
from fhir_server.validation.schema import SCHEMA_PATH

SEED = Path(__file__).resolve().parents[2] / "seed_bundles"

OBSERVATION = {"resourceType": "Observation", "status": "final", "code": {"text": "pulse"}}


def test_valid_resources_conform() -> None:
    assert conforms(OBSERVATION)
    assert conforms({**OBSERVATION, "valueQuantity": {"value": 72, "unit": "/min"}})
    assert conforms({"resourceType": "Patient", "birthDate": "1990-02"})


@pytest.mark.parametrize(
    ("resource", "path"),
    [
        ({"resourceType": "Patient", "birthDate": "1990-02-30"}, ["birthDate"]),
        ({"resourceType": "Patient", "multipleBirthInteger": 1.5}, ["multipleBirthInteger"]),
        ({"resourceType": "Patient", "telecom": [None]}, ["telecom", 0]),
        ({"resourceType": "Patient", "active": "yes"}, ["active"]),
        ({"resourceType": "Patient", "text": {"status": "generated", "div": 5}}, ["text", "div"]),
        ({"resourceType": "Patient", "fooBar": 1}, []),
        ({"resourceType": "Patient", "id": "x" * 65}, ["id"]),
        ({"resourceType": "Patient", "contained": [{"resourceType": "Foo"}]}, None),
    ],
)
def test_what_the_schema_alone_let_through_is_refused(
    resource: dict[str, Any], path: list[Any] | None
) -> None:
    assert not conforms(resource)
    if path is not None:
        assert path in [p for p, _ in problems(resource)]


def test_required_primitive_may_be_an_extension_only() -> None:
    assert not conforms({"resourceType": "Observation", "code": {"text": "x"}})
    absent = {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                             "valueCode": "unknown"}]}  # fmt: skip
    assert conforms({"resourceType": "Observation", "_status": absent, "code": {"text": "x"}})


def test_required_primitive_in_a_backbone_element_with_a_shortened_name() -> None:
    # the schema calls CarePlan.activity.detail `CarePlan_Detail`
    plan = {
        "resourceType": "CarePlan",
        "status": "active",
        "intent": "plan",
        "subject": {"reference": "Patient/1"},
        "activity": [{"detail": {"status": "scheduled"}}],
    }
    assert conforms(plan)
    del plan["activity"][0]["detail"]["status"]
    assert not conforms(plan)


def test_one_type_per_choice_element() -> None:
    assert not conforms({**OBSERVATION, "valueString": "a", "valueBoolean": True})
    # a required choice: MedicationRequest.medication[x]
    request = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/1"},
    }
    assert not conforms(request)
    assert conforms({**request, "medicationCodeableConcept": {"text": "paracetamol"}})


def test_embedded_resources_are_checked_as_their_own_type() -> None:
    bad = {"resourceType": "Observation", "status": "final"}  # no code
    assert not conforms({"resourceType": "Patient", "contained": [bad]})
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": bad}]}
    assert not conforms(bundle)
    bundle["entry"][0]["resource"] = OBSERVATION
    assert conforms(bundle)


def test_code_enums_are_left_to_the_binding_check_unless_asked() -> None:
    patient = {"resourceType": "Patient", "gender": "woman"}
    assert conforms(patient)
    assert not conforms(patient, with_enums=True)


# -- differential: the compiled verdict never accepts what the R4B models reject ---------


def _seed_resources() -> list[dict[str, Any]]:
    found = []
    for path in sorted(SEED.glob("*.json")):
        for entry in orjson.loads(path.read_bytes()).get("entry", []):
            if "resource" in entry:
                found.append(entry["resource"])
    return found


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, item in items:
        if prefix or key != "resourceType":
            yield (*prefix, key)
        if isinstance(item, (dict, list)):
            yield from _paths(item, (*prefix, key))


def _mutated(resource: dict[str, Any], rng: random.Random) -> dict[str, Any] | None:
    out = copy.deepcopy(resource)
    paths = list(_paths(out))
    if not paths:
        return None
    path = rng.choice(paths)
    parent = out
    for key in path[:-1]:
        parent = parent[key]
    key, value = path[-1], parent[path[-1]]
    kind = rng.choice(["delete", "null", "retype", "blank", "unknown", "choice", "day"])
    if kind == "delete":
        del parent[key]
    elif kind == "null":
        parent[key] = None
    elif kind == "retype":
        parent[key] = 5 if isinstance(value, str) else str(value)
    elif kind == "blank" and isinstance(value, str):
        parent[key] = " "
    elif kind == "unknown" and isinstance(value, dict):
        value["fooBar"] = 1
    elif kind == "choice" and isinstance(value, dict):
        value.update(valueString="x", valueBoolean=True)
    elif kind == "day" and isinstance(value, str) and len(value) >= 10 and value[4] == "-":
        parent[key] = value[:8] + "31" + value[10:]
    else:
        return None
    return out


def test_never_accepts_what_the_r4b_models_reject() -> None:
    resources = _seed_resources()
    assert resources, "seed_bundles/ has no resources"
    rng = random.Random(20261125)
    checked = accepted = 0
    for _ in range(3000):
        mutated = _mutated(rng.choice(resources), rng)
        if mutated is None:
            continue
        model = _model_class(mutated["resourceType"])
        if model is None or not conforms(mutated):
            checked += 1
            continue
        checked += 1
        accepted += 1
        issues = _model_issues(model, mutated, mutated["resourceType"])
        assert not issues, (mutated, issues)
    assert checked > 1000 and accepted > 100, (checked, accepted)


# -- the model-derived rules are cached on disk -------------------------------------------


def test_element_rules_are_cached_and_rebuilt_when_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FHIR_CACHE_DIR", str(tmp_path))
    definitions = orjson.loads(gzip.decompress(SCHEMA_PATH.read_bytes()))["definitions"]
    built = compiled.element_rules(definitions)
    [cached] = tmp_path.glob("write-schema-rules-*.json")
    assert "Observation" in built and orjson.loads(cached.read_bytes()) == built

    def no_models(_: object) -> dict:
        raise AssertionError("the models were read although the cache holds the rules")

    monkeypatch.setattr(compiled, "_models", no_models)
    assert compiled.element_rules(definitions) == built
    cached.write_bytes(b"{not json")
    monkeypatch.undo()
    monkeypatch.setenv("FHIR_CACHE_DIR", str(tmp_path))
    assert compiled.element_rules(definitions) == built  # rebuilt from the models
    assert orjson.loads(cached.read_bytes()) == built
