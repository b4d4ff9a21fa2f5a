"""The terminology service contract (what binding checks and token modifiers call), on the
shipped content alone."""

from __future__ import annotations

import pytest

from fhir_server.errors import FhirError
from fhir_server.terminology.catalogue import Catalogue, load_shipped, version_key
from fhir_server.terminology.service import TerminologyService

GENDER_VS = "http://hl7.org/fhir/ValueSet/administrative-gender"
GENDER = "http://hl7.org/fhir/administrative-gender"
ICD10 = "http://hl7.org/fhir/sid/icd-10"


@pytest.fixture(scope="module")
def service() -> TerminologyService:
    return TerminologyService(None)


def test_required_binding_value_sets_are_shipped(service: TerminologyService) -> None:
    for name in (
        "administrative-gender", "encounter-status", "observation-status", "request-status",
        "medicationrequest-status", "appointmentstatus", "slotstatus",
    ):  # fmt: skip
        assert service.has_value_set(f"http://hl7.org/fhir/ValueSet/{name}"), name


def test_validate_code_in_and_out(service: TerminologyService) -> None:
    found = service.validate_code(GENDER_VS, GENDER, "female")
    assert found.result and found.display == "Female" and found.message is None
    missing = service.validate_code(GENDER_VS, GENDER, "woman")
    assert not missing.result
    assert "'woman'" in (missing.message or "") and GENDER_VS in (missing.message or "")
    other_system = service.validate_code(GENDER_VS, "http://example.org/gender", "female")
    assert not other_system.result


def test_validate_code_without_system_matches_by_code(service: TerminologyService) -> None:
    assert service.validate_code(GENDER_VS, None, "male").result


def test_wrong_display_is_valid_with_a_message(service: TerminologyService) -> None:
    check = service.validate_code(GENDER_VS, GENDER, "male", display="Man")
    assert check.result and "Man" in (check.message or "") and check.display == "Male"
    assert service.validate_code(GENDER_VS, GENDER, "male", display="पुरुष").message is None


def test_versioned_value_set_url(service: TerminologyService) -> None:
    assert service.has_value_set(f"{GENDER_VS}|4.0.1")
    assert not service.has_value_set(f"{GENDER_VS}|9.9.9")


def test_unknown_value_set_is_404_naming_it(service: TerminologyService) -> None:
    with pytest.raises(FhirError) as caught:
        service.validate_code("http://example.org/ValueSet/nope", None, "x")
    assert caught.value.status == 404 and "http://example.org/ValueSet/nope" in str(caught.value)


def test_expand_codes_and_too_costly(service: TerminologyService) -> None:
    codes = service.expand_codes(GENDER_VS)
    assert sorted(c for _, c in codes) == ["female", "male", "other", "unknown"]
    with pytest.raises(FhirError) as caught:
        service.expand_codes("http://hl7.org/fhir/ValueSet/encounter-status", max_codes=3)
    assert caught.value.status == 422
    assert caught.value.issues[0].code == "too-costly"
    assert "encounter-status" in str(caught.value)


def test_icd10_hierarchy(service: TerminologyService) -> None:
    below = service.descendants(ICD10, "E10-E14")
    assert below[0] == "E10-E14" and {"E10", "E11", "E11.9", "E14"} <= set(below)
    assert "I10" not in below
    assert service.ancestors(ICD10, "E11.9") == ["E11.9", "E11", "E10-E14", "IV"]


def test_unknown_system_or_code_gives_the_code_itself(service: TerminologyService) -> None:
    assert service.descendants("http://example.org/cs", "x") == ["x"]
    assert service.ancestors(ICD10, "Z99.99") == ["Z99.99"]


def test_filtered_value_sets(service: TerminologyService) -> None:
    ncd = "urn:fhir-server:ValueSet/ncd-conditions"
    assert service.validate_code(ncd, ICD10, "E11.9").result
    assert service.validate_code(ncd, ICD10, "I10").result
    assert not service.validate_code(ncd, ICD10, "A90").result
    infections = "urn:fhir-server:ValueSet/idsp-infectious-conditions"
    assert service.validate_code(infections, ICD10, "A01.0").result
    assert not service.validate_code(infections, ICD10, "I").result  # descendent-of excludes I


def test_implicit_is_a_value_set(service: TerminologyService) -> None:
    url = f"{ICD10}?fhir_vs=isa/J40-J47"
    assert service.has_value_set(url)
    assert {"J44", "J44.9", "J45", "J45.9"} <= {c for _, c in service.expand_codes(url)}


def test_nrces_code_systems(service: TerminologyService) -> None:
    base = "https://nrces.in/ndhm/fhir/r4"
    check = service.validate_code(
        f"{base}/ValueSet/ndhm-identifier-type-code",
        f"{base}/CodeSystem/ndhm-identifier-type-code",
        "ABHA",
    )
    assert check.result and "ABHA" in (check.display or "")
    assert service.validate_code(
        f"{base}/ValueSet/ndhm-program-code", f"{base}/CodeSystem/ndhm-program-code", "NTEP"
    ).result


def test_hindi_supplement_designations(service: TerminologyService) -> None:
    gender = service.code_system(GENDER)
    assert gender is not None
    concept = gender.lookup("female")
    assert concept is not None and ("hi", "", "महिला") in concept.designations
    hits, total = gender.search(["मह"], None, 0, 10)
    assert total == 1 and hits[0].code == "female"


def test_small_value_sets_are_compiled(service: TerminologyService) -> None:
    assert service.compiled(GENDER_VS).members is not None


def test_latest_version_wins_without_a_version() -> None:
    catalogue = Catalogue()
    for version in ("1.9.0", "1.10.0", "1.2"):
        catalogue.add(
            {"resourceType": "ValueSet", "url": "http://x/vs", "version": version}, False, "t"
        )
    assert catalogue.resolve("ValueSet", "http://x/vs").resource["version"] == "1.10.0"
    assert catalogue.resolve("ValueSet", "http://x/vs|1.2").resource["version"] == "1.2"
    assert version_key("2.77") > version_key("2.8")


def test_shipped_content_is_not_replaced_by_a_stored_copy() -> None:
    catalogue = load_shipped()
    shipped = catalogue.resolve("ValueSet", GENDER_VS)
    assert shipped is not None and shipped.shipped
    fake = {**shipped.resource, "compose": {"include": []}}
    catalogue.add(fake, shipped=False, source="ValueSet/x")
    assert catalogue.resolve("ValueSet", GENDER_VS).resource is shipped.resource


def test_a_pre_expanded_value_set_is_its_expansion(service: TerminologyService) -> None:
    resource = {
        "resourceType": "ValueSet",
        "url": "http://example.org/vs/expanded",
        "status": "active",
        "expansion": {
            "timestamp": "2024-01-01T00:00:00Z",
            "contains": [
                {"system": "http://example.org/cs", "code": "a", "display": "Alpha"},
                {"abstract": True, "contains": [{"system": "http://example.org/cs", "code": "b"}]},
            ],
        },
    }
    compiled = service.compile_inline(resource)
    assert service.check_in(compiled, "http://example.org/cs", "b", None).result
    assert not service.check_in(compiled, "http://example.org/cs", "c", None).result
    assert compiled.expand(["alp"], 0, 10, 100).members[0].code == "a"
