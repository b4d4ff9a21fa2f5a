"""Token :in / :not-in / :above / :below -> TokenIn predicates, with a fake terminology."""

from __future__ import annotations

import pytest

from fhir_server.errors import FhirError
from fhir_server.search.query import SearchQueryParser
from fhir_server.search.registry import SearchParameterRegistry
from fhir_server.storage.query import And, Not, Nothing, Or, Token, TokenIn
from tests.search.conftest import OWN_BASE

LOINC = "http://loinc.org"
ICD = "http://hl7.org/fhir/sid/icd-10"
VITALS = "https://example.in/ValueSet/vitals"
EMPTY = "https://example.in/ValueSet/empty"
HUGE = "https://example.in/ValueSet/huge"


class FakeTerminology:
    """Two value sets and a small ICD-10 is-a tree: E10-E14 > E11 > E11.9."""

    value_sets = {
        VITALS: [(LOINC, "8480-6"), (LOINC, "8462-4"), (LOINC, "8867-4")],
        EMPTY: [],
    }
    parents = {"E11": "E10-E14", "E10": "E10-E14", "E11.9": "E11", "E10.9": "E10"}

    def has_value_set(self, url: str) -> bool:
        return url in self.value_sets or url == HUGE

    def expand_codes(self, value_set: str, max_codes: int = 10_000) -> list[tuple[str, str]]:
        if value_set == HUGE:
            raise FhirError(422, "too-costly", f"ValueSet {value_set} has too many codes")
        return list(self.value_sets[value_set])

    def code_system(self, url: str) -> object | None:
        return object() if url == ICD else None

    def descendants(self, system: str, code: str) -> list[str]:
        if system != ICD:
            return [code]
        found = [code]
        for child, parent in self.parents.items():
            if parent == code:
                found += self.descendants(system, child)
        return found

    def ancestors(self, system: str, code: str) -> list[str]:
        found = [code]
        while system == ICD and code in self.parents:
            code = self.parents[code]
            found.append(code)
        return found


@pytest.fixture
def tparser(registry: SearchParameterRegistry) -> SearchQueryParser:
    parser = SearchQueryParser(registry, base_urls=[OWN_BASE])
    parser.terminology = FakeTerminology()
    return parser


def where(parser: SearchQueryParser, type_: str, *pairs: tuple[str, str]) -> object:
    return parser.parse([type_], list(pairs)).where


def test_in_becomes_one_token_in_over_the_expansion(tparser: SearchQueryParser) -> None:
    assert where(tparser, "Observation", ("code:in", VITALS)) == TokenIn(
        "code", ((LOINC, "8480-6"), (LOINC, "8462-4"), (LOINC, "8867-4"))
    )


def test_not_in_is_the_negation_like_not(tparser: SearchQueryParser) -> None:
    assert where(tparser, "Observation", ("code:not-in", VITALS)) == Not(
        TokenIn("code", ((LOINC, "8480-6"), (LOINC, "8462-4"), (LOINC, "8867-4")))
    )


def test_in_with_comma_joins_value_sets(tparser: SearchQueryParser) -> None:
    predicate = where(tparser, "Observation", ("code:in", f"{EMPTY},{VITALS}"))
    assert isinstance(predicate, TokenIn) and len(predicate.codes) == 3


def test_in_of_an_empty_value_set_matches_nothing(tparser: SearchQueryParser) -> None:
    assert where(tparser, "Observation", ("code:in", EMPTY)) == Nothing()
    assert where(tparser, "Observation", ("code:not-in", EMPTY)) == Not(Nothing())


def test_in_combines_with_other_parameters(tparser: SearchQueryParser) -> None:
    predicate = where(tparser, "Observation", ("code:in", VITALS), ("status", "final"))
    assert isinstance(predicate, And)
    assert predicate.predicates[1] == Token("status", "final")


def test_unknown_value_set_is_a_400_naming_it(tparser: SearchQueryParser) -> None:
    with pytest.raises(FhirError) as err:
        where(tparser, "Observation", ("code:in", "https://example.in/ValueSet/nope"))
    assert err.value.status == 400
    assert "https://example.in/ValueSet/nope" in err.value.diagnostics
    assert "code:in" in err.value.diagnostics


def test_too_large_expansion_passes_the_service_error_on(tparser: SearchQueryParser) -> None:
    with pytest.raises(FhirError) as err:
        where(tparser, "Observation", ("code:in", HUGE))
    assert err.value.status == 422 and err.value.issues[0].code == "too-costly"
    assert HUGE in err.value.diagnostics


def test_below_is_the_code_and_its_descendants(tparser: SearchQueryParser) -> None:
    predicate = where(tparser, "Condition", ("code:below", f"{ICD}|E10-E14"))
    assert isinstance(predicate, TokenIn)
    assert set(predicate.codes) == {(ICD, c) for c in ("E10-E14", "E11", "E11.9", "E10", "E10.9")}


def test_above_is_the_code_and_its_ancestors(tparser: SearchQueryParser) -> None:
    predicate = where(tparser, "Condition", ("code:above", f"{ICD}|E11.9"))
    assert predicate == TokenIn("code", ((ICD, "E11.9"), (ICD, "E11"), (ICD, "E10-E14")))


def test_below_with_comma_is_or(tparser: SearchQueryParser) -> None:
    predicate = where(tparser, "Condition", ("code:below", f"{ICD}|E11,{ICD}|E10"))
    assert isinstance(predicate, Or) and len(predicate.predicates) == 2


def test_below_needs_a_system(tparser: SearchQueryParser) -> None:
    with pytest.raises(FhirError) as err:
        where(tparser, "Condition", ("code:below", "E11"))
    assert err.value.status == 400 and "system|code" in err.value.diagnostics


def test_below_in_an_unknown_system_matches_the_code_itself_with_a_warning(
    tparser: SearchQueryParser,
) -> None:
    parsed = tparser.parse(["Condition"], [("code:below", "https://example.in/cs|X1")])
    assert parsed.where == TokenIn("code", (("https://example.in/cs", "X1"),))
    assert [w.severity for w in parsed.warnings] == ["warning"]
    assert "no hierarchy" in parsed.warnings[0].diagnostics


def test_coding_typed_parameters_take_the_modifiers(tparser: SearchQueryParser) -> None:
    # Encounter.class is a Coding; Observation.combo-code spans CodeableConcepts
    assert isinstance(where(tparser, "Encounter", ("class:in", VITALS)), TokenIn)
    assert isinstance(where(tparser, "Observation", ("combo-code:in", VITALS)), TokenIn)


def test_text_and_not_are_unchanged(tparser: SearchQueryParser) -> None:
    assert where(tparser, "Observation", ("code:not", f"{LOINC}|1")) == Not(
        Token("code", "1", LOINC)
    )


def test_in_inside_a_chain(tparser: SearchQueryParser) -> None:
    class Sub:
        def match_keys(self, types: object, inner: object) -> list[tuple[str, str]]:
            assert isinstance(inner, TokenIn)
            return [("Observation", "o1")]

    parsed = tparser.parse(
        ["DiagnosticReport"],
        [("result.code:in", VITALS)],
        subsearch=Sub(),  # type: ignore[arg-type]
    )
    assert parsed.where is not None


def test_without_a_terminology_service_the_modifiers_are_not_supported(
    parser: SearchQueryParser,
) -> None:
    with pytest.raises(FhirError) as err:
        parser.parse(["Observation"], [("code:in", VITALS)])
    assert err.value.status == 400 and "terminology service" in err.value.diagnostics
