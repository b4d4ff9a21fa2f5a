"""End to end: parse a query, run its IR over extracted indexes (in memory), check matches.

These pin down what a search *means*; the adapters must give the same answers.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fhir_server.search.query import SearchQueryParser
from tests.search.conftest import OWN_BASE, synthea_resources
from tests.search.memory_search import MemorySearch
from tests.search.test_search_index import BLOOD_PRESSURE, PATIENT

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"


def obs(id_: str, code: str, value: float, unit: str, when: str, patient: str) -> dict:
    return {
        "resourceType": "Observation",
        "id": id_,
        "status": "final",
        "code": {"coding": [{"system": LOINC, "code": code}]},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }


@pytest.fixture
def world(memory: MemorySearch) -> MemorySearch:
    memory.add(PATIENT, datetime(2024, 5, 1, tzinfo=UTC))
    memory.add(
        {
            "resourceType": "Patient",
            "id": "p2",
            "gender": "female",
            "birthDate": "2020-05-17",
            "name": [{"family": "Sharma", "given": ["Sita"]}],
            "managingOrganization": {"reference": "Organization/o1"},
        },
        datetime(2023, 1, 1, tzinfo=UTC),
    )
    memory.add({"resourceType": "Patient", "id": "p3", "birthDate": "2021-01-01"})
    memory.add({"resourceType": "Organization", "id": "o1", "name": "AIIMS New Delhi"})
    memory.add(BLOOD_PRESSURE)
    memory.add(obs("o-wt", "29463-7", 72.5, "kg", "2024-03-02T10:00:00+05:30", "p1"))
    memory.add(obs("o-ht", "8302-2", 172, "cm", "2023-12-31T23:30:00Z", "p2"))
    memory.add(
        {
            "resourceType": "RiskAssessment",
            "id": "r1",
            "status": "final",
            "subject": {"reference": "Patient/p1"},
            "prediction": [{"probabilityDecimal": 0.25}],
        }
    )
    return memory


def find(
    world: MemorySearch, parser: SearchQueryParser, type_: str, *pairs: tuple[str, str]
) -> set[str]:
    parsed = parser.parse([type_], list(pairs), subsearch=world)
    return world.search([type_], parsed.where)


def test_date_year_matches_whole_year(world: MemorySearch, parser: SearchQueryParser) -> None:
    assert find(world, parser, "Patient", ("birthdate", "2020")) == {"p2"}
    assert find(world, parser, "Patient", ("birthdate", "2020-05")) == {"p2"}
    assert find(world, parser, "Patient", ("birthdate", "2019")) == set()


def test_date_prefixes_compare_whole_ranges(world: MemorySearch, parser: SearchQueryParser) -> None:
    assert find(world, parser, "Patient", ("birthdate", "ge2020")) == {"p2", "p3"}
    assert find(world, parser, "Patient", ("birthdate", "lt2020-05-17")) == {"p1"}
    assert find(world, parser, "Patient", ("birthdate", "sa2020")) == {"p3"}
    assert find(world, parser, "Patient", ("birthdate", "ne2020")) == {"p1", "p3"}
    assert find(world, parser, "Patient", ("birthdate", "ge1980,le1970")) == {"p1", "p2", "p3"}


def test_open_period_is_after_any_later_date(
    world: MemorySearch, parser: SearchQueryParser
) -> None:
    assert "bp1" in find(world, parser, "Observation", ("date", "gt2030"))


def test_date_in_default_zone_shifts_the_day(world: MemorySearch, registry) -> None:  # type: ignore[no-untyped-def]
    # 2023-12-31T23:30Z is already 2024-01-01 in India.
    ist = SearchQueryParser(registry, default_timezone="Asia/Kolkata")
    utc = SearchQueryParser(registry)
    assert "o-ht" in find(world, ist, "Observation", ("date", "2024-01-01"))
    assert "o-ht" not in find(world, utc, "Observation", ("date", "2024-01-01"))


def test_string_prefix_matches_devanagari_and_accents(
    world: MemorySearch, parser: SearchQueryParser
) -> None:
    assert find(world, parser, "Patient", ("name", "राम")) == {"p1"}
    assert find(world, parser, "Patient", ("name", "कुमार")) == {"p1"}
    assert find(world, parser, "Patient", ("name", "राम कुमार")) == {"p1"}
    assert find(world, parser, "Patient", ("name", "MUL")) == {"p1"}
    assert find(world, parser, "Patient", ("family:exact", "Muller")) == set()
    assert find(world, parser, "Patient", ("family:exact", "Müller")) == {"p1"}
    assert find(world, parser, "Patient", ("name:contains", "arm")) == {"p2"}


def test_abha_identifier_finds_the_patient(world: MemorySearch, parser: SearchQueryParser) -> None:
    found = find(
        world, parser, "Patient", ("identifier", "https://healthid.ndhm.gov.in|22-7225-4829-5255")
    )
    assert found == {"p1"}
    assert find(world, parser, "Patient", ("identifier", "|22-7225-4829-5255")) == set()
    assert find(world, parser, "Patient", ("identifier", "https://healthid.ndhm.gov.in|")) == {"p1"}


def test_of_type_finds_by_identifier_type(world: MemorySearch, parser: SearchQueryParser) -> None:
    query = "http://terminology.hl7.org/CodeSystem/v2-0203|MR|MRN-001"
    assert find(world, parser, "Patient", ("identifier:of-type", query)) == {"p1"}


def test_token_not_includes_resources_without_the_element(
    world: MemorySearch, parser: SearchQueryParser
) -> None:
    assert find(world, parser, "Patient", ("gender:not", "male")) == {"p2", "p3"}


def test_missing_modifier(world: MemorySearch, parser: SearchQueryParser) -> None:
    assert find(world, parser, "Patient", ("gender:missing", "true")) == {"p3"}
    assert find(world, parser, "Patient", ("gender:missing", "false")) == {"p1", "p2"}


def test_token_text(world: MemorySearch, parser: SearchQueryParser) -> None:
    assert find(world, parser, "Observation", ("code:text", "pressure")) == {"bp1"}


def test_quantity_with_units(world: MemorySearch, parser: SearchQueryParser) -> None:
    assert find(world, parser, "Observation", ("value-quantity", f"gt70|{UCUM}|kg")) == {"o-wt"}
    assert find(world, parser, "Observation", ("value-quantity", "72.5||kg")) == {"o-wt"}
    assert find(world, parser, "Observation", ("value-quantity", "73")) == {"o-wt"}  # [72.5, 73.5)
    assert find(world, parser, "Observation", ("value-quantity", "74")) == set()
    assert find(world, parser, "Observation", ("value-quantity", "ap73")) == {"o-wt"}


def test_number_uses_implicit_precision(world: MemorySearch, parser: SearchQueryParser) -> None:
    assert find(world, parser, "RiskAssessment", ("probability", "0.25")) == {"r1"}
    assert find(world, parser, "RiskAssessment", ("probability", "0.3")) == {"r1"}
    assert find(world, parser, "RiskAssessment", ("probability", "0.30")) == set()
    assert find(world, parser, "RiskAssessment", ("probability", "lt0.25")) == set()


def test_composite_pairs_code_with_its_own_value(
    world: MemorySearch, parser: SearchQueryParser
) -> None:
    q = "component-code-value-quantity"
    assert find(world, parser, "Observation", (q, f"{LOINC}|8480-6$gt100")) == {"bp1"}
    assert find(world, parser, "Observation", (q, "8462-4$gt100")) == set()
    assert find(world, parser, "Observation", (q, f"8462-4$lt90|{UCUM}|mm[Hg]")) == {"bp1"}
    assert find(world, parser, "Observation", ("code-value-quantity", "29463-7$72.5")) == {"o-wt"}
    assert find(
        world, parser, "Observation", ("combo-code-value-quantity", "8480-6$120||mm[Hg]")
    ) == {"bp1"}


def test_reference_forms(world: MemorySearch, parser: SearchQueryParser) -> None:
    assert find(world, parser, "Observation", ("subject", "Patient/p1")) == {"bp1", "o-wt"}
    assert find(world, parser, "Observation", ("subject", f"{OWN_BASE}/Patient/p2")) == {"o-ht"}
    assert find(world, parser, "Observation", ("patient", "p2")) == {"o-ht"}
    assert find(
        world, parser, "Observation", ("encounter", "https://other.example.org/fhir/Encounter/e9")
    ) == {"bp1"}


def test_chain_through_reference(world: MemorySearch, parser: SearchQueryParser) -> None:
    assert find(world, parser, "Observation", ("subject:Patient.gender", "female")) == {"o-ht"}
    assert find(world, parser, "Observation", ("patient.name", "राम")) == {"bp1", "o-wt"}
    # both patients belong to o1 (p1 through a versioned reference)
    assert find(world, parser, "Observation", ("patient.organization.name", "aiims")) == {
        "o-ht",
        "o-wt",
        "bp1",
    }
    assert find(world, parser, "Observation", ("patient.name", "nobody")) == set()


def test_has_selects_patients_by_their_observations(
    world: MemorySearch, parser: SearchQueryParser
) -> None:
    assert find(world, parser, "Patient", ("_has:Observation:patient:code", "8302-2")) == {"p2"}
    assert find(
        world, parser, "Patient", ("_has:Observation:subject:value-quantity", "gt50||kg")
    ) == {"p1"}


def test_id_and_last_updated(world: MemorySearch, parser: SearchQueryParser) -> None:
    assert find(world, parser, "Patient", ("_id", "p1,p3")) == {"p1", "p3"}
    assert find(world, parser, "Patient", ("_lastUpdated", "ge2024-05-01")) == {"p1"}
    assert find(world, parser, "Patient", ("_lastUpdated", "lt2023-06")) == {"p2"}


def test_meta_parameters(world: MemorySearch, parser: SearchQueryParser) -> None:
    assert find(world, parser, "Patient", ("_tag", "https://fhir.example.in/tags|phc")) == {"p1"}
    assert find(
        world,
        parser,
        "Patient",
        ("_profile", "https://nrces.in/ndhm/fhir/r4/StructureDefinition/Patient"),
    ) == {"p1"}


@pytest.mark.slow
def test_synthea_searches(memory: MemorySearch, parser: SearchQueryParser) -> None:
    for n, resource in enumerate(synthea_resources()):
        if resource["resourceType"] in ("Patient", "Observation", "Encounter"):
            memory.add(resource)
        if n > 3000:
            break
    heights = find(memory, parser, "Observation", ("code", f"{LOINC}|8302-2"))
    assert heights
    females = find(memory, parser, "Patient", ("gender", "female"))
    chained = find(
        memory, parser, "Observation", ("code", f"{LOINC}|8302-2"), ("patient.gender", "female")
    )
    assert chained == {
        o
        for o in heights
        if memory.entries[("Observation", o)].resource["subject"]["reference"].split("/")[1]
        in females
    }
    tall = find(memory, parser, "Observation", ("code-value-quantity", f"{LOINC}|8302-2$gt180"))
    assert tall <= heights
