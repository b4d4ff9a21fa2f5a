"""IndexExtractor on hand-written resources: one test per kind and encoding."""

from __future__ import annotations

import math

import pytest

from fhir_server.search.index import IndexExtractor
from fhir_server.search.normalize import normalize_text
from fhir_server.search.registry import SearchParameterRegistry
from fhir_server.storage.records import (
    CompositeValue,
    QuantityValue,
    ReferenceValue,
    ResourceIndex,
    TokenValue,
    UriValue,
)
from tests.search.conftest import OWN_BASE

ABHA = "https://healthid.ndhm.gov.in"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"

PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "meta": {
        "profile": ["https://nrces.in/ndhm/fhir/r4/StructureDefinition/Patient"],
        "tag": [{"system": "https://fhir.example.in/tags", "code": "phc"}],
        "security": [
            {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}
        ],
        "source": "https://hmis.delhi.gov.in#a1",
    },
    "identifier": [
        {
            "type": {"coding": [{"system": V2_0203, "code": "MR"}], "text": "Medical record"},
            "system": "https://aiims.delhi.gov.in/mrn",
            "value": "MRN-001",
        },
        {
            "type": {
                "coding": [
                    {
                        "system": "https://nrces.in/ndhm/fhir/r4/CodeSystem/"
                        "ndhm-identifier-type-code",
                        "code": "ABHA",
                    }
                ]
            },
            "system": ABHA,
            "value": "22-7225-4829-5255",
        },
    ],
    "active": True,
    "name": [
        {"use": "official", "text": "राम कुमार", "family": "कुमार", "given": ["राम"]},
        {"family": "Müller", "given": ["Hans", "Peter"], "prefix": ["Dr."]},
    ],
    "telecom": [
        {"system": "phone", "value": "+91-9800000000", "use": "mobile"},
        {"system": "email", "value": "ram@example.in"},
    ],
    "gender": "male",
    "birthDate": "1980-05-17",
    "deceasedBoolean": False,
    "address": [
        {
            "line": ["12 MG Road"],
            "city": "New Delhi",
            "district": "Central Delhi",
            "state": "Delhi",
            "postalCode": "110001",
            "country": "IN",
        }
    ],
    "generalPractitioner": [{"reference": f"{OWN_BASE}/Practitioner/d1"}],
    "managingOrganization": {"reference": "Organization/o1/_history/3"},
    "link": [{"other": {"reference": "Patient/p0"}, "type": "seealso"}],
}

BLOOD_PRESSURE = {
    "resourceType": "Observation",
    "id": "bp1",
    "status": "final",
    "category": [
        {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "vital-signs",
                }
            ]
        }
    ],
    "code": {
        "coding": [{"system": LOINC, "code": "85354-9", "display": "Blood pressure panel"}],
        "text": "BP",
    },
    "subject": {"reference": "Patient/p1"},
    "encounter": {"reference": "https://other.example.org/fhir/Encounter/e9"},
    "performer": [{"reference": "Patient/p2"}, {"reference": "#contained-1"}],
    "basedOn": [{"identifier": {"system": "https://aiims.delhi.gov.in/orders", "value": "ORD-7"}}],
    "effectivePeriod": {"start": "2024-03-01T09:30:00+05:30"},
    "component": [
        {
            "code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
            "valueQuantity": {"value": 120, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
        },
        {
            "code": {"coding": [{"system": LOINC, "code": "8462-4"}]},
            "valueQuantity": {"value": 80, "unit": "mmHg", "system": UCUM, "code": "mm[Hg]"},
        },
    ],
}


@pytest.fixture(scope="module")
def patient_index(extractor: IndexExtractor) -> ResourceIndex:
    return extractor.extract(PATIENT)


@pytest.fixture(scope="module")
def bp_index(extractor: IndexExtractor) -> ResourceIndex:
    return extractor.extract(BLOOD_PRESSURE)


def tokens(index: ResourceIndex, param: str) -> set[tuple[str | None, str | None]]:
    return {(t.system, t.code) for t in index.tokens if t.param == param}


def strings(index: ResourceIndex, param: str) -> set[str]:
    return {s.value for s in index.strings if s.param == param}


def sort_key(index: ResourceIndex, param: str) -> str | float:
    return next(s.key for s in index.sorts if s.param == param)


def test_identifier_token_has_system_and_value(patient_index: ResourceIndex) -> None:
    assert (ABHA, "22-7225-4829-5255") in tokens(patient_index, "identifier")
    assert ("https://aiims.delhi.gov.in/mrn", "MRN-001") in tokens(patient_index, "identifier")


def test_identifier_type_is_indexed_for_of_type(patient_index: ResourceIndex) -> None:
    assert (V2_0203, "MR|MRN-001") in tokens(patient_index, "identifier:of-type")


def test_identifier_type_text_is_searchable_with_text(patient_index: ResourceIndex) -> None:
    texts = {t.text for t in patient_index.tokens if t.param == "identifier"}
    assert "medical record" in texts


def test_code_and_boolean_primitives_are_tokens_without_system(
    patient_index: ResourceIndex,
) -> None:
    assert tokens(patient_index, "gender") == {(None, "male")}
    assert tokens(patient_index, "active") == {(None, "true")}


def test_contact_point_token_is_the_value_without_system(patient_index: ResourceIndex) -> None:
    assert tokens(patient_index, "phone") == {(None, "+91-9800000000")}
    assert tokens(patient_index, "email") == {(None, "ram@example.in")}
    assert tokens(patient_index, "telecom") == {(None, "+91-9800000000"), (None, "ram@example.in")}


def test_expression_outside_the_compiled_subset_uses_the_engine(
    patient_index: ResourceIndex,
) -> None:
    assert tokens(patient_index, "deceased") == {(None, "false")}


def test_devanagari_name_parts_and_whole_text_are_indexed(patient_index: ResourceIndex) -> None:
    names = strings(patient_index, "name")
    assert {"राम कुमार", "राम", "कुमार"} <= names
    assert {"muller", "hans", "peter", "dr."} <= names
    assert strings(patient_index, "family") == {"कुमार", "muller"}


def test_string_keeps_the_exact_form_for_exact(patient_index: ResourceIndex) -> None:
    exact = {s.exact for s in patient_index.strings if s.param == "family"}
    assert exact == {"कुमार", "Müller"}


def test_address_parts_are_each_searchable(patient_index: ResourceIndex) -> None:
    address = strings(patient_index, "address")
    assert {"12 mg road", "new delhi", "central delhi", "delhi", "110001", "in"} <= address
    assert strings(patient_index, "address-city") == {"new delhi"}
    assert strings(patient_index, "address-postalcode") == {"110001"}


def test_birthdate_is_a_whole_day_range(patient_index: ResourceIndex) -> None:
    (birth,) = [r for r in patient_index.ranges if r.param == "birthdate"]
    assert birth.high is not None and birth.low is not None
    assert birth.high - birth.low + 1 == 86_400_000_000


def test_meta_tag_security_profile_source_are_indexed(patient_index: ResourceIndex) -> None:
    assert tokens(patient_index, "_tag") == {("https://fhir.example.in/tags", "phc")}
    assert ("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R") in tokens(
        patient_index, "_security"
    )
    uris = {(u.param, u.value) for u in patient_index.uris}
    assert ("_profile", "https://nrces.in/ndhm/fhir/r4/StructureDefinition/Patient") in uris
    assert ("_source", "https://hmis.delhi.gov.in#a1") in uris


def test_id_and_last_updated_are_columns_not_index_values(patient_index: ResourceIndex) -> None:
    params = {v.param for v in [*patient_index.tokens, *patient_index.ranges]}
    assert "_id" not in params and "_lastUpdated" not in params


def test_own_base_url_and_history_references_become_local(patient_index: ResourceIndex) -> None:
    refs = {(r.param, r.target_type, r.target_id, r.url) for r in patient_index.references}
    assert ("general-practitioner", "Practitioner", "d1", None) in refs
    assert ("organization", "Organization", "o1", None) in refs
    assert ("link", "Patient", "p0", None) in refs


def test_patient_is_in_its_own_and_linked_compartments(patient_index: ResourceIndex) -> None:
    assert patient_index.compartments == ["p1", "p0"]


def test_name_sort_key_is_family_then_given(patient_index: ResourceIndex) -> None:
    assert sort_key(patient_index, "name") == "कुमार राम"
    assert sort_key(patient_index, "gender") == "male"
    assert sort_key(patient_index, "birthdate") == next(
        r.low for r in patient_index.ranges if r.param == "birthdate"
    )


def test_codeable_concept_codings_carry_display_text(bp_index: ResourceIndex) -> None:
    code = [t for t in bp_index.tokens if t.param == "code"]
    assert TokenValue("code", LOINC, "85354-9", "blood pressure panel") in code
    assert TokenValue("code", None, None, "bp") in code  # CodeableConcept.text for :text


def test_foreign_absolute_reference_stays_a_url(bp_index: ResourceIndex) -> None:
    assert (
        ReferenceValue("encounter", None, None, "https://other.example.org/fhir/Encounter/e9")
        in bp_index.references
    )


def test_contained_references_are_not_indexed(bp_index: ResourceIndex) -> None:
    assert all(r.target_id != "contained-1" for r in bp_index.references)
    assert not any(r.url and r.url.startswith("#") for r in bp_index.references)


def test_reference_identifier_is_a_token_for_identifier_modifier(bp_index: ResourceIndex) -> None:
    assert tokens(bp_index, "based-on:identifier") == {
        ("https://aiims.delhi.gov.in/orders", "ORD-7")
    }


def test_resolve_is_patient_filters_by_reference_type(bp_index: ResourceIndex) -> None:
    patient = {(r.target_type, r.target_id) for r in bp_index.references if r.param == "patient"}
    assert patient == {("Patient", "p1")}


def test_observation_compartments_follow_subject_and_performer(bp_index: ResourceIndex) -> None:
    assert sorted(bp_index.compartments) == ["p1", "p2"]


def test_open_period_has_unbounded_high(bp_index: ResourceIndex) -> None:
    (date,) = [r for r in bp_index.ranges if r.param == "date"]
    assert date.high is None and date.low is not None


def test_component_quantities_are_indexed(bp_index: ResourceIndex) -> None:
    values = [q for q in bp_index.quantities if q.param == "component-value-quantity"]
    assert sorted(q.low for q in values) == [80, 120]
    assert QuantityValue("component-value-quantity", UCUM, "mm[Hg]", "mmHg", 120, 120) in values


def test_composite_keys_cover_each_query_form(bp_index: ResourceIndex) -> None:
    systolic = {
        c.keys
        for c in bp_index.composites
        if c.param == "component-code-value-quantity" and c.low == 120
    }
    assert systolic == {
        (f"{LOINC}|8480-6", ""),
        (f"{LOINC}|8480-6", f"{UCUM}|mm[Hg]"),
        (f"{LOINC}|8480-6", "|mm[Hg]"),
        (f"{LOINC}|8480-6", "|mmHg"),
        ("8480-6", ""),
        ("8480-6", f"{UCUM}|mm[Hg]"),
        ("8480-6", "|mm[Hg]"),
        ("8480-6", "|mmHg"),
    }


def test_composite_pairs_values_within_one_component_only(bp_index: ResourceIndex) -> None:
    pairs = {
        (c.keys[0], c.low)
        for c in bp_index.composites
        if c.param == "component-code-value-quantity"
    }
    assert ("8480-6", 120) in pairs and ("8462-4", 80) in pairs
    assert ("8480-6", 80) not in pairs


def test_money_is_a_quantity_in_iso_4217(extractor: IndexExtractor) -> None:
    invoice = {
        "resourceType": "Invoice",
        "id": "i1",
        "status": "issued",
        "totalGross": {"value": 1500.5, "currency": "INR"},
    }
    index = extractor.extract(invoice)
    assert (
        QuantityValue("totalgross", "urn:iso:std:iso:4217", "INR", "INR", 1500.5, 1500.5)
        in index.quantities
    )


def test_range_quantity_keeps_both_bounds_and_open_ends(extractor: IndexExtractor) -> None:
    condition = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/p1"},
        "onsetRange": {"low": {"value": 40, "unit": "a", "system": UCUM, "code": "a"}},
    }
    (age,) = [q for q in extractor.extract(condition).quantities if q.param == "onset-age"]
    assert (age.low, age.high, age.code) == (40, math.inf, "a")


def test_number_is_a_point_range(extractor: IndexExtractor) -> None:
    risk = {
        "resourceType": "RiskAssessment",
        "id": "r1",
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "prediction": [{"probabilityDecimal": 0.25}],
    }
    (prob,) = [r for r in extractor.extract(risk).ranges if r.param == "probability"]
    assert (prob.low, prob.high) == (0.25, 0.25)


def test_canonical_reference_is_indexed_with_and_without_version(
    extractor: IndexExtractor,
) -> None:
    plan = {
        "resourceType": "CarePlan",
        "id": "cp1",
        "status": "active",
        "intent": "plan",
        "subject": {"reference": "Patient/p1"},
        "instantiatesCanonical": ["http://example.org/PlanDefinition/diabetes|1.2"],
    }
    urls = {
        r.url for r in extractor.extract(plan).references if r.param == "instantiates-canonical"
    }
    assert urls == {
        "http://example.org/PlanDefinition/diabetes|1.2",
        "http://example.org/PlanDefinition/diabetes",
    }


def test_timing_events_are_date_ranges(extractor: IndexExtractor) -> None:
    plan = {
        "resourceType": "CarePlan",
        "id": "cp2",
        "status": "active",
        "intent": "plan",
        "subject": {"reference": "Patient/p1"},
        "activity": [
            {
                "detail": {
                    "status": "scheduled",
                    "scheduledTiming": {"event": ["2024-01-05", "2024-02-05"]},
                }
            }
        ],
    }
    dates = [r for r in extractor.extract(plan).ranges if r.param == "activity-date"]
    assert len(dates) == 2


def test_uri_parameter(extractor: IndexExtractor) -> None:
    value_set = {
        "resourceType": "ValueSet",
        "id": "vs1",
        "status": "active",
        "url": "https://nrces.in/ndhm/fhir/r4/ValueSet/ndhm-identifier-type-code",
    }
    assert (
        UriValue("url", "https://nrces.in/ndhm/fhir/r4/ValueSet/ndhm-identifier-type-code")
        in extractor.extract(value_set).uris
    )


def test_reference_and_token_composite(extractor: IndexExtractor) -> None:
    doc = {
        "resourceType": "DocumentReference",
        "id": "d1",
        "status": "current",
        "content": [{"attachment": {"url": "http://x"}}],
        "relatesTo": [{"code": "replaces", "target": {"reference": "DocumentReference/d0"}}],
    }
    composites = [c for c in extractor.extract(doc).composites if c.param == "relationship"]
    # R4 publishes this one with swapped component expressions; the registry applies the
    # R4B fix, so relatesto (reference) comes first, then relation (token).
    assert CompositeValue("relationship", ("DocumentReference/d0", "replaces")) in composites


def test_runtime_search_parameter_is_extracted_after_registration() -> None:
    registry = SearchParameterRegistry.load_default()
    extractor = IndexExtractor(registry)
    patient = {
        "resourceType": "Patient",
        "id": "x",
        "extension": [{"url": "https://abdm.gov.in/ext/religion", "valueCode": "hindu"}],
    }
    assert "religion" not in {t.param for t in extractor.extract(patient).tokens}
    registry.register(
        {
            "resourceType": "SearchParameter",
            "code": "religion",
            "base": ["Patient"],
            "type": "token",
            "expression": "Patient.extension('https://abdm.gov.in/ext/religion').value",
        }
    )
    assert tokens(extractor.extract(patient), "religion") == {(None, "hindu")}


def test_default_timezone_applies_to_dates_without_zone(
    registry: SearchParameterRegistry,
) -> None:
    utc = IndexExtractor(registry).extract(PATIENT)
    ist = IndexExtractor(registry, default_timezone="Asia/Kolkata").extract(PATIENT)
    low_utc = next(r.low for r in utc.ranges if r.param == "birthdate")
    low_ist = next(r.low for r in ist.ranges if r.param == "birthdate")
    assert low_utc - low_ist == 5.5 * 3600 * 1_000_000


def test_resource_without_type_indexes_nothing(extractor: IndexExtractor) -> None:
    assert extractor.extract({"id": "x"}) == ResourceIndex()


def test_normalised_values_match_normalize_text(patient_index: ResourceIndex) -> None:
    assert all(s.value == normalize_text(s.exact) for s in patient_index.strings)
