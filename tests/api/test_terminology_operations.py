"""$lookup, $subsumes, $expand, $validate-code and $translate over HTTP, on shipped content."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

GENDER = "http://hl7.org/fhir/administrative-gender"
GENDER_VS = "http://hl7.org/fhir/ValueSet/administrative-gender"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
LOINC = "http://loinc.org"
LABS = "urn:fhir-server:ValueSet/phc-lab-tests"


def _out(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["resourceType"] == "Parameters"
    out: dict[str, Any] = {}
    for p in body["parameter"]:
        value = next((v for k, v in p.items() if k.startswith("value")), p.get("part"))
        out.setdefault(p["name"], []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in out.items()}


def _issue(response: Any, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    diagnostics = response.json()["issue"][0]["diagnostics"]
    for word in words:
        assert word in diagnostics, diagnostics


# -- $lookup ----------------------------------------------------------------------------
def test_lookup_get_gives_display_and_version(client: TestClient) -> None:
    out = _out(client.get("/fhir/CodeSystem/$lookup", params={"system": GENDER, "code": "male"}))
    assert out["display"] == "Male" and out["version"] == "4.0.1"


def test_lookup_in_hindi(client: TestClient) -> None:
    params = {"system": GENDER, "code": "female", "displayLanguage": "hi"}
    assert _out(client.get("/fhir/CodeSystem/$lookup", params=params))["display"] == "महिला"
    params = {"system": ICD10, "code": "E10-E14", "displayLanguage": "hi"}
    assert _out(client.get("/fhir/CodeSystem/$lookup", params=params))["display"] == "मधुमेह"


def test_lookup_post_coding_lists_parent_and_children(client: TestClient) -> None:
    body = {
        "resourceType": "Parameters",
        "parameter": [{"name": "coding", "valueCoding": {"system": ICD10, "code": "E11"}}],
    }
    out = _out(client.post("/fhir/CodeSystem/$lookup", json=body))
    assert out["display"] == "Non-insulin-dependent diabetes mellitus"
    props = out["property"] if isinstance(out["property"], list) else [out["property"]]
    pairs = {(p[0]["valueCode"], p[1]["valueCode"]) for p in props}
    assert ("parent", "E10-E14") in pairs and ("child", "E11.9") in pairs


def test_lookup_property_filter(client: TestClient) -> None:
    params = {"system": LOINC, "code": "718-7", "property": "CLASS"}
    out = _out(client.get("/fhir/CodeSystem/$lookup", params=params))
    assert (
        out["property"][0]["valueCode"] == "CLASS" and out["property"][1]["valueCode"] == "HEM/BC"
    )


def test_lookup_bad_input(client: TestClient) -> None:
    r = client.get(
        "/fhir/CodeSystem/$lookup", params={"system": "http://example.org/x", "code": "a"}
    )
    _issue(r, 404, "http://example.org/x")
    _issue(client.get("/fhir/CodeSystem/$lookup", params={"system": GENDER}), 400, "'code'")
    _issue(client.get("/fhir/CodeSystem/$lookup", params={"code": "male"}), 400, "'system'")
    r = client.get("/fhir/CodeSystem/$lookup", params={"system": GENDER, "code": "woman"})
    _issue(r, 404, "woman", GENDER)
    r = client.post("/fhir/CodeSystem/$lookup", json={"resourceType": "Patient"})
    _issue(r, 400, "Parameters")


# -- $subsumes ------------------------------------------------------------------------
def test_subsumes_outcomes(client: TestClient) -> None:
    def outcome(a: str, b: str) -> str:
        params = {"system": ICD10, "codeA": a, "codeB": b}
        return _out(client.get("/fhir/CodeSystem/$subsumes", params=params))["outcome"]

    assert outcome("E10-E14", "E11.9") == "subsumes"
    assert outcome("E11.9", "IV") == "subsumed-by"
    assert outcome("E11", "E11") == "equivalent"
    assert outcome("E11", "I10") == "not-subsumed"


def test_subsumes_bad_input(client: TestClient) -> None:
    params = {"system": ICD10, "codeA": "E11"}
    _issue(client.get("/fhir/CodeSystem/$subsumes", params=params), 400, "'codeB'")
    params = {"system": ICD10, "codeA": "E11", "codeB": "Q99.9"}
    _issue(client.get("/fhir/CodeSystem/$subsumes", params=params), 404, "Q99.9")


# -- $validate-code -------------------------------------------------------------------
def test_validate_code_in_value_set(client: TestClient) -> None:
    params = {"url": GENDER_VS, "system": GENDER, "code": "female"}
    out = _out(client.get("/fhir/ValueSet/$validate-code", params=params))
    assert out["result"] is True and out["display"] == "Female"
    params["code"] = "F"
    out = _out(client.get("/fhir/ValueSet/$validate-code", params=params))
    assert out["result"] is False and "'F'" in out["message"] and GENDER_VS in out["message"]


def test_validate_code_coding_and_codeable_concept(client: TestClient) -> None:
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "url", "valueUri": LABS},
            {
                "name": "codeableConcept",
                "valueCodeableConcept": {
                    "coding": [
                        {"system": "urn:local", "code": "HB"},
                        {"system": LOINC, "code": "718-7", "display": "Haemoglobin"},
                    ]
                },
            },
        ],
    }
    out = _out(client.post("/fhir/ValueSet/$validate-code", json=body))
    # valid through the LOINC coding; its display is not LOINC's, which the message says
    assert out["result"] is True and "Haemoglobin" in out["message"]
    body["parameter"][1] = {"name": "coding", "valueCoding": {"system": LOINC, "code": "8480-6"}}
    assert _out(client.post("/fhir/ValueSet/$validate-code", json=body))["result"] is False


def test_validate_code_on_code_system(client: TestClient) -> None:
    params = {"url": ICD10, "code": "J45.9"}
    assert _out(client.get("/fhir/CodeSystem/$validate-code", params=params))["result"] is True
    params["code"] = "J45.99"
    out = _out(client.get("/fhir/CodeSystem/$validate-code", params=params))
    assert out["result"] is False and "J45.99" in out["message"]


def test_validate_code_bad_input(client: TestClient) -> None:
    r = client.get("/fhir/ValueSet/$validate-code", params={"url": "http://x/vs", "code": "a"})
    _issue(r, 404, "http://x/vs")
    _issue(client.get("/fhir/ValueSet/$validate-code", params={"url": GENDER_VS}), 400, "'code'")
    _issue(client.get("/fhir/ValueSet/$validate-code", params={"code": "male"}), 400, "'url'")


# -- $expand --------------------------------------------------------------------------
def test_expand_whole_small_value_set(client: TestClient) -> None:
    r = client.get("/fhir/ValueSet/$expand", params={"url": GENDER_VS})
    assert r.status_code == 200, r.text
    expansion = r.json()["expansion"]
    assert expansion["total"] == 4
    assert {c["code"] for c in expansion["contains"]} == {"male", "female", "other", "unknown"}


def test_expand_type_ahead_with_paging(client: TestClient) -> None:
    params = {"url": LABS, "filter": "gluc ser", "count": "2"}
    expansion = client.get("/fhir/ValueSet/$expand", params=params).json()["expansion"]
    assert expansion["total"] == 3 and len(expansion["contains"]) == 2
    params["offset"] = "2"
    rest = client.get("/fhir/ValueSet/$expand", params=params).json()["expansion"]
    assert rest["offset"] == 2 and len(rest["contains"]) == 1
    codes = {c["code"] for c in expansion["contains"] + rest["contains"]}
    assert codes == {"1558-6", "2345-7", "1521-4"}


def test_expand_filter_in_hindi_and_display_language(client: TestClient) -> None:
    params = {"url": f"{ICD10}?fhir_vs", "filter": "मधु", "displayLanguage": "hi"}
    expansion = client.get("/fhir/ValueSet/$expand", params=params).json()["expansion"]
    displays = {c["code"]: c["display"] for c in expansion["contains"]}
    assert displays == {"E10-E14": "मधुमेह", "E11": "टाइप 2 मधुमेह"}


def test_expand_include_designations(client: TestClient) -> None:
    params = {"url": GENDER_VS, "includeDesignations": "true"}
    contains = client.get("/fhir/ValueSet/$expand", params=params).json()["expansion"]["contains"]
    male = next(c for c in contains if c["code"] == "male")
    assert male["designation"] == [{"language": "hi", "value": "पुरुष"}]


def test_expand_inline_value_set_with_is_a_and_exclude(client: TestClient) -> None:
    inline = {
        "resourceType": "ValueSet",
        "status": "active",
        "compose": {
            "include": [
                {
                    "system": ICD10,
                    "filter": [{"property": "concept", "op": "is-a", "value": "J40-J47"}],
                }
            ],
            "exclude": [{"system": ICD10, "concept": [{"code": "J40-J47"}]}],
        },
    }
    body = {"resourceType": "Parameters", "parameter": [{"name": "valueSet", "resource": inline}]}
    r = client.post("/fhir/ValueSet/$expand", json=body)
    assert r.status_code == 200, r.text
    codes = {c["code"] for c in r.json()["expansion"]["contains"]}
    assert codes == {"J44", "J44.9", "J45", "J45.9"}


def test_expand_bad_input(client: TestClient) -> None:
    _issue(client.get("/fhir/ValueSet/$expand"), 400, "'url'")
    _issue(client.get("/fhir/ValueSet/$expand", params={"url": "http://x/vs"}), 404, "http://x/vs")
    for bad in ({"count": "-1"}, {"count": "ten"}, {"offset": "-5"}):
        r = client.get("/fhir/ValueSet/$expand", params={"url": GENDER_VS, **bad})
        _issue(r, 400, next(iter(bad)))
    r = client.get(
        "/fhir/ValueSet/$expand", params={"url": GENDER_VS, "filter": "m", "count": "5000"}
    )
    _issue(r, 400, "'count'")


# -- $translate ------------------------------------------------------------------------
def test_translate_local_lab_code_to_loinc(client: TestClient) -> None:
    params = {"system": "urn:fhir-server:CodeSystem/phc-lab-short-codes", "code": "FBS"}
    out = _out(client.get("/fhir/ConceptMap/$translate", params=params))
    assert out["result"] is True
    parts = {p["name"]: p for p in out["match"]}
    assert parts["equivalence"]["valueCode"] == "equivalent"
    assert parts["concept"]["valueCoding"]["code"] == "1558-6"


def test_translate_reverse_and_core_maps(client: TestClient) -> None:
    params = {"system": LOINC, "code": "2106-3", "reverse": "true"}
    out = _out(client.get("/fhir/ConceptMap/$translate", params=params))
    assert out["result"] is True
    assert {p["name"]: p for p in out["match"]}["concept"]["valueCoding"]["code"] == "UPT"
    params = {
        "url": "http://hl7.org/fhir/ConceptMap/cm-administrative-gender-v2",
        "system": GENDER,
        "code": "female",
    }
    out = _out(client.get("/fhir/ConceptMap/$translate", params=params))
    assert {p["name"]: p for p in out["match"]}["concept"]["valueCoding"]["code"] == "F"


def test_translate_no_match_and_bad_input(client: TestClient) -> None:
    params = {"system": LOINC, "code": "0000-0"}
    out = _out(client.get("/fhir/ConceptMap/$translate", params=params))
    assert out["result"] is False and "0000-0" in out["message"]
    _issue(client.get("/fhir/ConceptMap/$translate", params={"system": LOINC}), 400, "'code'")
    r = client.get(
        "/fhir/ConceptMap/$translate", params={"url": "http://x/cm", "code": "a", "system": LOINC}
    )
    _issue(r, 404, "http://x/cm")


def test_operations_are_in_the_capability_statement(client: TestClient) -> None:
    metadata = client.get("/fhir/metadata").json()
    names = {
        (r["type"], op["name"])
        for r in metadata["rest"][0]["resource"]
        for op in r.get("operation", [])
    }
    for pair in (
        ("CodeSystem", "lookup"), ("CodeSystem", "subsumes"), ("ValueSet", "expand"),
        ("ValueSet", "validate-code"), ("ConceptMap", "translate"),
    ):  # fmt: skip
        assert pair in names, pair
